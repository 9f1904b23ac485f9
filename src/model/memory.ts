// How many GPU bytes a model and a run need, before anything is allocated: so that a
// GPT-2 that will not fit is refused with numbers instead of failing halfway through a
// 500 MB upload. Mirrors what GptGpu allocates (gpt.ts: parameters, gradients and AdamW
// moments of the trainable tensors, per-layer activations for one (B, T), the backward's
// temporaries). The GPT-2 benchmark (src/bench/gpt2_shapes.ts) prints it beside the
// runtime's measured peak: on a software adapter the peak is ~4% higher (gpt2, B 1 × T 128:
// 628 MB measured, 605 MB estimated), from matmul's transposed copies of B (the LM head's
// 8192-column wte block, 25 MB), which only software adapters make (src/kernels/matmul.ts).
import { type AdapterSpec, type ModelConfig, adapterParamSpecs, baseParamSpecs, countParams } from './params';

export interface MemoryEstimate {
  /** Every parameter tensor (base + adapter). */
  params: number;
  /** Gradients + AdamW's two moments of the trainable tensors (0 when not training). */
  optimizer: number;
  /** Forward activations kept for the backward, for one batch of B×T tokens. */
  activations: number;
  /** The backward's temporaries (freed after each step) and the LM head's scratch. */
  scratch: number;
  total: number;
  /** The largest single tensor, which must fit one buffer (maxBufferSize). */
  largestTensor: { name: string; bytes: number };
  /** The largest activation, [B·T, 4C] (the MLP's hidden layer): kernels bind it whole. */
  largestActivationBytes: number;
  /** Tokens per batch (B·T) this estimate is for. */
  tokens: number;
}

const F = 4; // float32

/** The trainable tensors' element count for an adapter (full fine-tuning: every base tensor). */
export function trainableCount(c: ModelConfig, a: AdapterSpec): number {
  if (a.method === 'none') return 0;
  if (a.method === 'full') return countParams(baseParamSpecs(c));
  return countParams(adapterParamSpecs(c, a));
}

/**
 * Bytes for `model` (with adapter `a`) running batch B × sequence T; `training` adds the
 * gradients, moments and backward temporaries. `headScratchFloats` is what the LM head
 * needs beyond its inputs (chunked head: O(rows × vocabulary chunk), not B·T×V).
 */
export function estimateMemory(c: ModelConfig, a: AdapterSpec, B: number, T: number, training: boolean, headScratchFloats = 0): MemoryEstimate {
  const specs = [...baseParamSpecs(c), ...adapterParamSpecs(c, a)];
  let largest = { name: '', bytes: 0 };
  for (const s of specs) if (s.numel * F > largest.bytes) largest = { name: s.name, bytes: s.numel * F };
  const params = countParams(specs) * F;
  const optimizer = training ? 3 * trainableCount(c, a) * F : 0;
  const N = B * T;
  const C = c.nEmbd;
  const H = c.nHead;
  const r = a.method === 'lora' ? a.rank : 0;
  // Per layer (gpt.ts LayerActs): ln1, att, resid2, ln2, out (5NC), qkv (3NC), q/k/v/o (4NC),
  // fc and gelu(fc) (8NC) = 20NC; LayerNorm statistics 4N; lse and β 2NH (+2NH NTK stats).
  const perLayer = 20 * N * C + 4 * N + 2 * N * H + (a.method === 'ntk' ? 2 * N * H : 0) + N * r;
  // x0, ln_f and its statistics, per-row losses and lse, tokens, targets, the ones vector.
  const globals = 2 * N * C + 2 * N + 5 * N;
  const activations = (c.nLayer * perLayer + globals) * F;
  // Backward (gpt.ts backward()): dresid, dlnf, dln, datt (4NC), dfc, dfcg (8NC), dqkv (3NC),
  // dO/dq/dk/dv (4NC) = 19NC, + LoRA's dt.
  const backward = training ? (19 * N * C + N * r) * F : 0;
  const scratch = backward + headScratchFloats * F;
  return { params, optimizer, activations, scratch, total: params + optimizer + activations + scratch, largestTensor: largest, largestActivationBytes: 4 * N * C * F, tokens: N };
}

/** "1.23 GB" style: powers of 1000, as browsers and the GPU vendors print them. */
export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let u = -1;
  let x = n;
  do {
    x /= 1000;
    u++;
  } while (x >= 1000 && u < units.length - 1);
  return `${x.toFixed(x < 10 ? 2 : x < 100 ? 1 : 0)} ${units[u]}`;
}

export interface DeviceBudget {
  /** The device's maxBufferSize: one tensor must fit one buffer. */
  maxBufferSize: number;
  /** The device's maxStorageBufferBindingSize: weights larger than it are bound in ranges,
   *  activations are bound whole, so B·T is limited by it. */
  maxStorageBufferBindingSize: number;
  /** Bytes this run may use in all: WebGPU does not tell a device's memory, so the caller
   *  decides (a user setting, or a default by adapter kind). */
  budgetBytes: number;
}

/** Null when it fits, else a message with the numbers and what would make it fit. */
export function checkFits(est: MemoryEstimate, dev: DeviceBudget, what: string): string | null {
  if (est.largestTensor.bytes > dev.maxBufferSize) {
    return `${what}: tensor ${est.largestTensor.name} needs ${formatBytes(est.largestTensor.bytes)} in one buffer, but this GPU's largest buffer is ${formatBytes(dev.maxBufferSize)}`;
  }
  if (est.largestActivationBytes > dev.maxStorageBufferBindingSize) {
    const maxTokens = Math.floor((est.tokens * dev.maxStorageBufferBindingSize) / est.largestActivationBytes);
    return `${what}: the MLP activations of ${est.tokens} tokens per batch need ${formatBytes(est.largestActivationBytes)} in one binding, over this GPU's ${formatBytes(dev.maxStorageBufferBindingSize)}: use at most ${maxTokens} tokens per batch (batch × sequence length)`;
  }
  if (est.total > dev.budgetBytes) {
    return (
      `${what} needs about ${formatBytes(est.total)} of GPU memory (parameters ${formatBytes(est.params)}, ` +
      `optimizer ${formatBytes(est.optimizer)}, activations ${formatBytes(est.activations)}, scratch ${formatBytes(est.scratch)}), ` +
      `more than the ${formatBytes(dev.budgetBytes)} allowed: lower the batch size or sequence length, or pick an adapter instead of full fine-tuning`
    );
  }
  return null;
}

/** A planned run: what estimateMemory needs besides the model's config. */
export interface PlannedRun {
  adapter: AdapterSpec;
  batch: number;
  /** Capped at the model's context length, as the trainer caps it. */
  seqLen: number;
  /** Training adds gradients, moments and the backward's temporaries; false: inference only. */
  training: boolean;
}

/**
 * Whether `c` with `run` fits `dev`, from the config alone (so a base can be refused before
 * a byte of its weights is read): null when it fits, else checkFits' message with numbers.
 */
export function checkRunFits(c: ModelConfig, run: PlannedRun, dev: DeviceBudget, what: string): string | null {
  const T = Math.min(run.seqLen, c.contextLength);
  return checkFits(estimateMemory(c, run.adapter, run.batch, T, run.training), dev, `${what} (${run.training ? 'training' : 'inference'}, ${run.adapter.method}, batch ${run.batch} × sequence ${T})`);
}
