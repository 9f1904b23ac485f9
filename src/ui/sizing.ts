// Runs sized to the base model and the adapter in use: the GPU-memory budget (WebGPU does
// not report how much memory a device has, so a documented default), whether a run fits
// (model/memory.ts), presets clamped to the model's context and shrunk to fit, and an ETA
// that stays honest on a software adapter: measured ms/step once a run on this base took
// steps, else an estimate from FLOPs at a conservative speed, labelled as one. Pure.
import type { AdapterReport } from '../gpu/device';
import { checkFits, type DeviceBudget, estimateMemory, formatBytes, type MemoryEstimate } from '../model/memory';
import { baseParamSpecs, countParams, type ModelConfig } from '../model/params';
import { adapterSpecOf } from '../train/adapt';
import type { RunConfig } from '../train/config';

export { formatBytes };

/** Default budget: there is no WebGPU query for a device's total memory. 4 GB is what a
 *  browser tab on a laptop GPU can usually hold; on a software adapter the "GPU" is host
 *  memory, so the host's navigator.deviceMemory (Chrome, Edge: rounded) when known. */
export const DEFAULT_BUDGET_GB = 4;

export interface Budget {
  bytes: number;
  /** Where the number comes from, for the page. */
  source: string;
}

export function memoryBudget(report: Pick<AdapterReport, 'isFallbackAdapter'>, deviceMemoryGB?: number): Budget {
  if (report.isFallbackAdapter && typeof deviceMemoryGB === 'number' && deviceMemoryGB > 0) {
    return { bytes: deviceMemoryGB * 1e9, source: `this computer's memory as the browser reports it (navigator.deviceMemory ${deviceMemoryGB} GB): a software adapter computes in host memory` };
  }
  return {
    bytes: DEFAULT_BUDGET_GB * 1e9,
    source: report.isFallbackAdapter
      ? `a default of ${DEFAULT_BUDGET_GB} GB: the browser does not say how much memory this computer has`
      : `a default of ${DEFAULT_BUDGET_GB} GB for a hardware adapter: WebGPU does not report a GPU's memory`,
  };
}

/** The sequence length a run of `c` uses on `model` (the trainer caps it at the context). */
export function runSeqLen(model: ModelConfig, c: RunConfig): number {
  return Math.min(c.seqLen, model.contextLength);
}

export interface Fit {
  estimate: MemoryEstimate;
  /** Null when it fits, else checkFits' message with the numbers. */
  problem: string | null;
}

/** What memory.ts checks a model against on this adapter: its limits and the memory budget. */
export function deviceBudget(report: Pick<AdapterReport, 'limits'>, budget: Budget): DeviceBudget {
  const limits = report.limits ?? {};
  return {
    maxBufferSize: limits.maxBufferSize ?? 256 * 2 ** 20, // WebGPU's guaranteed minimums
    maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize ?? 128 * 2 ** 20,
    budgetBytes: budget.bytes,
  };
}

/** The memory budget in this browser: navigator.deviceMemory where it tells it. */
export function memoryBudgetHere(report: Pick<AdapterReport, 'isFallbackAdapter'>): Budget {
  return memoryBudget(report, (globalThis.navigator as { deviceMemory?: number } | undefined)?.deviceMemory);
}

/** The limits and budget of the device in hand. */
export function deviceBudgetHere(report: Pick<AdapterReport, 'limits' | 'isFallbackAdapter'>): DeviceBudget {
  return deviceBudget(report, memoryBudgetHere(report));
}

export function runFit(model: ModelConfig, c: RunConfig, report: Pick<AdapterReport, 'limits' | 'isFallbackAdapter'>, budget: Budget): Fit {
  const estimate = estimateMemory(model, adapterSpecOf(c), c.batch, runSeqLen(model, c), true);
  const problem = checkFits(
    estimate,
    deviceBudget(report, budget),
    `This run (batch ${c.batch} × sequence ${runSeqLen(model, c)}, ${c.method})`,
  );
  return { estimate, problem };
}

/** A base this size makes every step slow on a CPU adapter (GPT-2 small is 124M; ours 0.1M). */
export const LARGE_PARAMS = 20e6;

export function isLargeModel(model: ModelConfig): boolean {
  return countParams(baseParamSpecs(model)) >= LARGE_PARAMS;
}

/** Forward FLOPs for B×T tokens: the matmuls (12C² per layer and token, C·V for the LM
 *  head, all ×2), causal attention (≈ T/2 keys per query, scores and values) and the prefix. */
export function forwardFlops(model: ModelConfig, c: RunConfig, B: number, T: number): number {
  const C = model.nEmbd;
  const L = model.nLayer;
  const m = c.method === 'prefix' ? c.prefixLength : 0;
  const perToken = 2 * (12 * L * C * C + C * model.vocabSize) + L * 4 * C * (T / 2 + m);
  return B * T * perToken;
}

/** Conservative speeds of our kernels (GFLOP/s): SwiftShader ran the naive matmul at 0.27
 *  and the tiled one at 0.48 (../shared/webgpu-on-cpu.md); 20 is well under any discrete or
 *  integrated GPU, so the first estimate errs long. */
export const ASSUMED_GFLOPS = { software: 0.25, hardware: 20 } as const;
/** Fixed cost per step (dispatches, the loss readback) the FLOP count does not see. */
const STEP_OVERHEAD_MS = { software: 60, hardware: 5 } as const;

export interface Measured {
  /** Wall ms per step of an earlier run on this base (gaps between steps, evaluations included). */
  msPerStep: number;
  tokens: number;
  method: RunConfig['method'];
}

export interface Eta {
  ms: number;
  kind: 'measured' | 'estimate';
  /** How it was made, for the page ("estimate: 0.25 GFLOP/s assumed for a software adapter"). */
  note: string;
}

/** Time for the whole run of `c` (steps, and the validation passes between them). */
export function runEta(model: ModelConfig, c: RunConfig, software: boolean, measured: Measured | null): Eta {
  const T = runSeqLen(model, c);
  const tokens = c.batch * T;
  if (measured && measured.method === c.method && measured.msPerStep > 0) {
    // Step time grows about linearly with tokens per batch at these sizes.
    const per = measured.msPerStep * (tokens / measured.tokens);
    return { ms: per * c.steps, kind: 'measured', note: `from ${measured.msPerStep.toFixed(0)} ms/step measured at ${measured.tokens} tokens per batch on this base` };
  }
  const kind = software ? 'software' : 'hardware';
  const train = 3 * forwardFlops(model, c, c.batch, T); // backward ≈ 2 forwards
  const evals = (Math.floor(c.steps / c.evalEvery) + 1) * c.evalBatches * forwardFlops(model, c, c.batch, T);
  const ms = ((c.steps * train + evals) / (ASSUMED_GFLOPS[kind] * 1e9)) * 1e3 + c.steps * STEP_OVERHEAD_MS[kind];
  return { ms, kind: 'estimate', note: `estimate: ${ASSUMED_GFLOPS[kind]} GFLOP/s assumed for a ${kind} adapter, shader compilation not included` };
}

/** Why the presets cannot be used yet, or null once the adapter is known: they are sized for
 *  it, and a guess (a GPU's sizes on a software adapter) would promise a 47-minute "demo". */
export function presetsWaitReason(report: Pick<AdapterReport, 'isFallbackAdapter'> | null): string | null {
  return report ? null : 'Presets are sized for the WebGPU adapter: available once it is found.';
}

/**
 * A preset's values sized for this base and adapter: the sequence length clamped to the
 * context; on a large base a software adapter gets one-sequence batches of 32 tokens and a
 * few steps; then the batch (and, at batch 1, the sequence) halves until the run fits.
 */
export function sizePreset(
  name: string,
  values: Partial<RunConfig>,
  current: RunConfig,
  model: ModelConfig | null,
  report: Pick<AdapterReport, 'limits' | 'isFallbackAdapter'> | null,
  budget: Budget | null,
): Partial<RunConfig> {
  if (!model) return values;
  const out: Partial<RunConfig> = { ...values };
  if (isLargeModel(model)) {
    const software = report?.isFallbackAdapter ?? true;
    // Adapting a pretrained LM: a gentler learning rate than our tiny models take.
    const lr = current.method === 'full' ? 1e-4 : 3e-3;
    if (software) {
      if (name === 'tiny') Object.assign(out, { steps: 4, batch: 1, seqLen: 32, warmup: 1, evalEvery: 2, evalBatches: 1, lr });
      else if (name === 'quick') Object.assign(out, { steps: 20, batch: 1, seqLen: 64, warmup: 2, evalEvery: 10, evalBatches: 1, lr });
      else Object.assign(out, { batch: Math.min(out.batch ?? current.batch, 2), lr });
    } else {
      if (name === 'tiny') Object.assign(out, { steps: 10, batch: 2, seqLen: 64, warmup: 1, evalEvery: 5, evalBatches: 1, lr });
      else if (name === 'quick') Object.assign(out, { steps: 300, batch: 8, seqLen: 128, warmup: 20, evalEvery: 50, evalBatches: 2, lr });
      else Object.assign(out, { lr });
    }
  }
  if (out.seqLen !== undefined) out.seqLen = Math.min(out.seqLen, model.contextLength);
  if (report && budget) {
    let c = { ...current, ...out } as RunConfig;
    while (runFit(model, c, report, budget).problem) {
      if (c.batch > 1) c = { ...c, batch: Math.max(1, Math.floor(c.batch / 2)) };
      else if (c.seqLen > 16) c = { ...c, seqLen: Math.max(16, Math.floor(c.seqLen / 2)) };
      else break; // the page refuses it with the numbers
    }
    out.batch = c.batch;
    out.seqLen = c.seqLen;
  }
  return out;
}
