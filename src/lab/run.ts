// One adaptation run, from a base and settings to results: assemble the model with its
// adapter (train/adapt.ts), train it (train/trainer.ts) with progress events, a RunControl
// and/or an AbortSignal, read back the trained tensors and each head's prefix mass, and
// export them. The CLI's `adapt` and the UI worker's run job both call runAdaptation and
// exportTrained, so the same settings give bit-identical losses and files in either.
import type { Task } from '../data';
import type { Gpu } from '../gpu/runtime';
import { type BaseIdentity, type CheckpointFiles, exportAdapter, exportBase } from '../io/checkpoint';
import { baseExportProblem } from '../io/hf_gpt2';
import type { BaseModel } from '../model/base';
import type { GptGpu } from '../model/gpt';
import { type AdapterSpec, countParams } from '../model/params';
import { buildAdaptedModel, initialEffect, type InitialEffect, readTrained } from '../train/adapt';
import type { RunConfig } from '../train/config';
import { RunControl } from '../train/control';
import type { RunListener, RunSummary } from '../train/events';
import { BatchBuffers, evaluate, type EvalResult, train, validationSeed } from '../train/trainer';
import { runSeqLen } from './task';

export { validationSeed };
export type { EvalResult };

/** What an adapter records of its base, and is checked against on import. */
export function baseIdentity(b: Pick<BaseModel, 'config' | 'fingerprint' | 'modelName'>): BaseIdentity {
  return { config: b.config, fingerprint: b.fingerprint, ...(b.modelName ? { name: b.modelName } : {}) };
}

/** A RunControl (pause / step / stop) that also stops when `signal` aborts (at once if it has). */
export function controlFor(signal?: AbortSignal, control = new RunControl()): RunControl {
  if (signal?.aborted) control.stop();
  signal?.addEventListener('abort', () => control.stop(), { once: true });
  return control;
}

/** Loss (with bits per byte on text), accuracy and prefix mass over `batches` fixed
 *  validation batches of B × T drawn with `seed`. */
export async function evaluateOn(gpu: Gpu, model: GptGpu, task: Task, s: { batch: number; T: number; batches: number; seed: number }): Promise<EvalResult> {
  const buf = new BatchBuffers(gpu, s.batch, s.T);
  try {
    return await evaluate(gpu, model, task, buf, s.batches, s.seed);
  } finally {
    if (!gpu.lostError) buf.release();
  }
}

/** Mean prefix mass β per layer (rows) and head (columns) over the last forward pass (the
 *  final validation batch): the share of attention the prefix (or NTK term) takes. */
export async function prefixMassByHead(gpu: Gpu, model: GptGpu): Promise<number[][] | null> {
  const a = model.adapter;
  if (!((a.method === 'prefix' && a.prefixLength > 0) || a.method === 'ntk')) return null;
  const out: number[][] = [];
  for (const t of model.prefixMassTensors()) {
    if (!t) return null; // no forward pass yet
    const [B, H, T] = t.shape;
    const v = await gpu.read(t);
    const row = new Array<number>(H).fill(0);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) row[h] += v[(b * H + h) * T + i];
    out.push(row.map((x) => x / (B * T)));
  }
  return out.length ? out : null;
}

/** What the page and the CLI show as soon as the model is on the device. */
export interface RunStart {
  model: GptGpu;
  trainableParams: number;
  totalParams: number;
  /** The T the run trains and evaluates at. */
  seqLen: number;
  /** The untrained adapter's effect on the base's logits (when asked for). */
  initialEffect: InitialEffect | null;
}

export interface AdaptArgs {
  gpu: Gpu;
  base: Pick<BaseModel, 'config' | 'params'>;
  config: RunConfig;
  task: Task;
  runId: string;
  onEvent?: RunListener;
  /** Pause / step / stop from the page; `signal` stops too. */
  control?: RunControl;
  signal?: AbortSignal;
  /** Measure the untrained adapter's effect on the base before training (the CLI prints it). */
  measureInitialEffect?: boolean;
  onStart?: (s: RunStart) => void;
}

export interface AdaptResult extends Omit<RunStart, 'model'> {
  summary: RunSummary;
  adapter: AdapterSpec;
  /** Mean prefix mass per layer and head after the final evaluation, or null. */
  mass: number[][] | null;
  /** The trained tensors (the adapter's; every base tensor under full fine-tuning) of a run
   *  that finished or was stopped, or null (failed, device lost, or the read failed: then
   *  `trainedError` says why). */
  trained: Map<string, Float32Array> | null;
  trainedError?: string;
}

/**
 * Builds the adapted model (seeded adapter init), trains it, and reads back what the run
 * made. The model is freed before this returns (unless the device is lost).
 */
export async function runAdaptation(a: AdaptArgs): Promise<AdaptResult> {
  const { gpu, config, task } = a;
  const model = await buildAdaptedModel(gpu, a.base, config, task);
  try {
    const seqLen = runSeqLen(config, a.base.config, task);
    const effect = a.measureInitialEffect ? await initialEffect(gpu, a.base, model, task, Math.min(config.batch, 4), seqLen, config.seed) : null;
    const start: RunStart = { model, trainableParams: model.trainableCount(), totalParams: countParams(model.specs), seqLen, initialEffect: effect };
    a.onStart?.(start);
    const summary = await train({ gpu, model, task, config, runId: a.runId, onEvent: a.onEvent, control: controlFor(a.signal, a.control) });
    const mass = summary.state === 'error' || gpu.lostError ? null : await prefixMassByHead(gpu, model);
    let trained: Map<string, Float32Array> | null = null;
    let trainedError: string | undefined;
    if ((summary.state === 'done' || summary.state === 'stopped') && !gpu.lostError) {
      try {
        trained = await readTrained(model);
      } catch (e) {
        trainedError = e instanceof Error ? e.message : String(e);
      }
    }
    const { model: _, ...sizes } = start;
    return { ...sizes, summary, adapter: model.adapter, mass, trained, ...(trainedError ? { trainedError } : {}) };
  } finally {
    if (!gpu.lostError) model.destroy();
  }
}

/** Why a run with this adapter on this base cannot be exported, or null. Full fine-tuning
 *  exports a new base folder, which needs a character vocabulary or the BPE tokenizer's files. */
export function exportProblem(base: Pick<BaseModel, 'vocab' | 'tokenizer' | 'tokenizerFiles'>, adapter: AdapterSpec): string | null {
  return adapter.method === 'full' ? baseExportProblem(base) : null;
}

/** A trained run's files: the adapter (PEFT folder, or our NTK-Attention format) naming its
 *  base, or under full fine-tuning a new base folder. */
export async function exportTrained(base: BaseModel, adapter: AdapterSpec, trained: Map<string, Float32Array>): Promise<{ kind: 'adapter' | 'base'; files: CheckpointFiles }> {
  const problem = exportProblem(base, adapter);
  if (problem) throw new Error(problem);
  if (adapter.method === 'full') return { kind: 'base', files: await exportBase(base.config, base, new Map([...base.params, ...trained])) };
  return { kind: 'adapter', files: exportAdapter(baseIdentity(base), adapter, trained) };
}
