// The typed message protocol between the page (client.ts) and the engine worker
// (engine.worker.ts). The worker owns the GPU device; the page only sends commands and
// renders the events that come back. Everything here must survive structuredClone.
import type { AdapterReport } from '../../gpu/device';
import type { GpuErrorKind } from '../../gpu/errors';
import type { RunConfig } from '../../train/config';
import type { RunEvent, RunSummary } from '../../train/events';
import type { ExchangeFromWorker, ExchangeToWorker } from '../exchange/messages';
import type { ExperimentFromWorker, ExperimentToWorker } from '../experiments/messages';
import type { PretrainSettings } from '../pretrainSettings';
import type { BaseInfo, OpenBaseProgress, UserText } from './payloads';

export type { BaseInfo, BaseSummaryInfo, OpenBaseProgress, UserText } from './payloads';

export type ControlAction = 'pause' | 'resume' | 'step' | 'stop';

export type ToWorker =
  /** Acquire the device and get the base model ready (pretrain or load). */
  | { type: 'init' }
  /** Start a run; a run still going is stopped first (one run at a time). */
  | { type: 'start'; runId: string; config: RunConfig; userText?: UserText }
  | { type: 'control'; runId: string; action: ControlAction }
  /** Test hook: destroys the device as a driver reset would, to exercise the lost path. */
  | { type: 'lose-device' }
  /** Test hook: fills the running model's token embedding with NaN, as a run blowing up
   *  would, to exercise the diverged path end to end. */
  | { type: 'poison-run' }
  /** Export and import (exchange/messages.ts). */
  | ExchangeToWorker
  /** Experiments and text generation (experiments/messages.ts). */
  | ExperimentToWorker
  /** Pretrain a new base model with these sizes (pretrain.ts); it replaces the base when done. */
  | { type: 'pretrain-base'; settings: PretrainSettings }
  | { type: 'pretrain-stop' }
  /** Forget the chosen base and load the default one (shipped, else pretrained here). */
  | { type: 'reset-base' }
  /** Open a base-model folder the user picked or dropped (a Hugging Face GPT-2's files, or
   *  one .zip of them). Files travel as File objects (structuredClone keeps them as handles
   *  to the user's files, not copies), so the worker streams the weights tensor by tensor. */
  | { type: 'open-base'; requestId: number; files: File[]; folderName: string | null }
  /** Stop that load (Cancel / Escape); the current base stays. */
  | { type: 'cancel-open-base'; requestId: number };

export type FromWorker =
  | { type: 'adapter'; report: AdapterReport; description: string }
  | { type: 'unavailable'; kind: GpuErrorKind; message: string }
  | { type: 'base-progress'; message: string; fraction: number }
  | { type: 'base-ready'; info: BaseInfo }
  | { type: 'base-failed'; message: string }
  | { type: 'run-started'; runId: string; trainableParams: number; totalParams: number; seqLen: number; taskLabel: string }
  | { type: 'event'; event: RunEvent }
  /** mass: mean prefix mass per [layer][head] on the final validation batch (prefix / NTK runs). */
  | { type: 'run-finished'; summary: RunSummary; mass: number[][] | null }
  /** replaced: a newer run took its place before it started (the page drops it). */
  | { type: 'run-failed'; runId: string; message: string; replaced?: boolean }
  | { type: 'device-lost'; message: string }
  /** Replies to export and import requests (exchange/messages.ts). */
  | ExchangeFromWorker
  /** Experiment points and progress, generated text (experiments/messages.ts). */
  | ExperimentFromWorker
  /** Pretraining a new base (pretrain.ts): progress, then done (the base was replaced, and
   *  'base-ready' was sent first) or failed (stopped: the user pressed Stop; base unchanged). */
  | { type: 'pretrain-progress'; step: number; totalSteps: number; loss: number | null; etaMs: number | null; message: string }
  | { type: 'pretrain-done'; info: BaseInfo; fingerprint: string; previousFingerprint: string | null }
  | { type: 'pretrain-failed'; message: string; stopped: boolean }
  /** Opening a picked base folder: progress, then done (the base was replaced and
   *  'base-ready' was sent first) or failed (cancelled: the user asked; base unchanged). */
  | { type: 'open-base-progress'; requestId: number; progress: OpenBaseProgress }
  | { type: 'open-base-done'; requestId: number; info: BaseInfo; fingerprint: string; previousFingerprint: string | null }
  | { type: 'open-base-failed'; requestId: number; message: string; cancelled: boolean };

// ------------------------------------------------------------------ requests and replies
// The client (client.ts) gives every request an id and settles it with the worker's reply;
// the worker's other messages are events any store may follow.

/** Requests the worker answers; everything else in ToWorker is a fire-and-forget command. */
export type RequestKind = 'export-adapter' | 'export-base' | 'import-adapter' | 'import-base' | 'experiment-start' | 'generate' | 'open-base' | 'pretrain-base';

type Reply<T extends FromWorker['type']> = Extract<FromWorker, { type: T }>;

/** Per request kind: the messages that report progress, and the one that settles it well. */
export interface RequestReplies {
  'export-adapter': { progress: never; done: Reply<'exported'> };
  'export-base': { progress: never; done: Reply<'exported'> };
  'import-adapter': { progress: never; done: Reply<'imported-adapter'> };
  'import-base': { progress: never; done: Reply<'imported-base'> };
  'experiment-start': { progress: Reply<'experiment-started' | 'experiment-progress' | 'experiment-point'>; done: Reply<'experiment-finished'> };
  generate: { progress: Reply<'generate-started' | 'generate-token'>; done: Reply<'generated'> };
  'open-base': { progress: Reply<'open-base-progress'>; done: Reply<'open-base-done'> };
  'pretrain-base': { progress: Reply<'pretrain-progress'>; done: Reply<'pretrain-done'> };
}

type WithoutId<T> = T extends unknown ? Omit<T, 'requestId' | 'jobId'> : never;
/** A request as a store writes it: the client adds the id. */
export type EngineRequest = WithoutId<Extract<ToWorker, { type: RequestKind }>>;
/** Stops a request (experiment-stop, cancel-open-base, pretrain-stop): only through its Pending. */
type CancelMessage = Extract<ToWorker, { type: 'experiment-stop' | 'cancel-open-base' | 'pretrain-stop' }>;
/** Commands with no reply of their own (their effects come back as events). */
export type EngineCommand = Exclude<ToWorker, { type: RequestKind } | CancelMessage>;

export type ProgressOf<K extends RequestKind> = RequestReplies[K]['progress'];
export type DoneOf<K extends RequestKind> = RequestReplies[K]['done'];

/** Why a request did not succeed. cancelled: the page asked (Stop, Cancel, a newer request);
 *  failed: the worker refused or failed, saying why; no-engine: there is no worker (no
 *  WebGPU); crashed: the worker script died. */
export interface EngineError {
  kind: 'cancelled' | 'failed' | 'no-engine' | 'crashed';
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: EngineError };

/** The worker's messages that answer no request, as the client delivers them: step events
 *  come batched, and a dead worker is an event too. */
export type EngineEvent =
  | Exclude<FromWorker, { type: 'event' } | RequestReplies[RequestKind]['progress'] | RequestReplies[RequestKind]['done'] | Reply<'exchange-failed' | 'experiment-failed' | 'generate-failed' | 'open-base-failed' | 'pretrain-failed'>>
  | { type: 'run-events'; events: RunEvent[] }
  | { type: 'crashed'; message: string };
