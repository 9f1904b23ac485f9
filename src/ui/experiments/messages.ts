// The experiment and generation messages between the page and the engine worker
// (protocol.ts adds them to its unions). Experiments (approximation error, NTK regime) are
// jobs with a page-chosen id: their points stream back one by one as they finish, so the
// charts fill while the job runs. Generation requests carry a number; tokens stream back
// per model. Everything here survives structuredClone (plain data only).
import type { ApproxConfig } from '../../experiments/approx_config';
import type { ApproxPoint } from '../../experiments/approx_error';
import type { NtkRegimeConfig, NtkRegimePoint } from '../../experiments/ntk_regime';

export type ExperimentKind = 'approx' | 'ntk-regime';

export type ExperimentStart =
  | { type: 'experiment-start'; jobId: string; kind: 'approx'; config: Partial<ApproxConfig> }
  /** The NTK regime adapts the worker's base model (the one every run starts from). */
  | { type: 'experiment-start'; jobId: string; kind: 'ntk-regime'; config: Partial<NtkRegimeConfig> };

export interface GenerateRequest {
  type: 'generate';
  requestId: number;
  /** The finished run whose trained weights continue the prompt beside the base model;
   *  null: the base model only. */
  runId: string | null;
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  /** 0 = sample among all tokens. */
  topK: number;
  /** Both models draw from the same seeded stream, so they differ only through their weights. */
  seed: number;
}

export type ExperimentToWorker =
  | ExperimentStart
  /** Stops a job (running: after the current point or step; queued: it never starts). */
  | { type: 'experiment-stop'; jobId: string }
  | GenerateRequest;

export type ExperimentPoint = { kind: 'approx'; point: ApproxPoint } | { kind: 'ntk-regime'; point: NtkRegimePoint };

export type ExperimentFromWorker =
  /** The job left the queue (runs before it have finished) and holds the device. */
  | { type: 'experiment-started'; jobId: string; note: string }
  | { type: 'experiment-progress'; jobId: string; done: number; total: number; label: string }
  | ({ type: 'experiment-point'; jobId: string } & ExperimentPoint)
  | { type: 'experiment-finished'; jobId: string; aborted: boolean; elapsedMs: number }
  | { type: 'experiment-failed'; jobId: string; message: string }
  /** adapted: the adapted model's label, or null when only the base model generates.
   *  unknown: prompt characters outside the vocabulary (read as U+FFFD). */
  | { type: 'generate-started'; requestId: number; adapted: string | null; unknown: string[] }
  | { type: 'generate-token'; requestId: number; which: 'base' | 'adapted'; text: string }
  /** adaptedError: why the adapted model could not generate (the base's text still stands). */
  | { type: 'generated'; requestId: number; base: string; adapted: string | null; adaptedError: string | null }
  | { type: 'generate-failed'; requestId: number; message: string };
