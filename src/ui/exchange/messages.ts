// The export / import messages between the page and the engine worker (protocol.ts adds
// them to its unions). Replies carry the request's id. Checkpoint files travel as a Map of
// file name → bytes (structuredClone copies it), never as a zip: the page zips and unzips.
import type { RunConfig } from '../../train/config';
import type { BaseInfo, UserText } from '../worker/payloads';
import type { ImportedEval } from './records';

export type CheckpointFileMap = Map<string, Uint8Array>;

export type ExchangeToWorker =
  /** The trained tensors of a finished run (adapter folder, or a base-model folder after full fine-tuning). */
  | { type: 'export-adapter'; requestId: number; runId: string }
  /** The base model now loaded, as a Hugging Face GPT-2 folder. */
  | { type: 'export-base'; requestId: number }
  /** Load an adapter for the current base and evaluate it on the task of `config`; kept under `runId`. */
  | { type: 'import-adapter'; requestId: number; runId: string; fileName: string; files: CheckpointFileMap; config: RunConfig; userText?: UserText }
  /** Replace the base model (the page has asked the user already). */
  | { type: 'import-base'; requestId: number; fileName: string; files: CheckpointFileMap };

export type ExchangeFromWorker =
  | { type: 'exported'; requestId: number; kind: 'adapter' | 'base'; files: CheckpointFileMap; fingerprint: string }
  /** The imported adapter's evaluation (records.ts turns it into a run record). */
  | ({ type: 'imported-adapter'; requestId: number; runId: string; fingerprint: string } & ImportedEval)
  | { type: 'imported-base'; requestId: number; info: BaseInfo; fingerprint: string; previousFingerprint: string | null }
  /** Any refusal (a CheckpointError's message) or failure; nothing was changed. */
  | { type: 'exchange-failed'; requestId: number; message: string };
