// How many GPU bytes a model and a run need, before anything is allocated: so that a
// GPT-2 that will not fit is refused with numbers instead of failing halfway through a
// 500 MB upload. Mirrors what GptGpu allocates (gpt.ts: parameters, gradients and AdamW
// moments of the trainable tensors, per-layer activations for one (B, T), the backward's
// temporaries, the LM head's scratch; for generation the KV cache and decode-step buffers
// of kv_cache.ts). The GPT-2 benchmark (src/bench/gpt2_shapes.ts) prints it beside the
// runtime's measured peak. The LM head's scratch includes the transposed copy of its wte
// block that matmul makes for A·Bᵀ on software adapters only (src/kernels/matmul.ts; gpt2
// at 128 rows: 8192 × 768 floats, 25 MB): counted unless `softwareAdapter: false`, since
// an estimate from the config alone may not know the adapter (an upper bound elsewhere).
// Not counted: matmul's smaller transposed copies of the backward's weights (4C·C floats at
// most, transient while the head's block is not allocated) and buffers that a kernel holds
// only within one call of a few kB (e.g. NTK decode's per-row scratch).
import { lmHeadScratchFloats } from '../kernels/lm_head';
import { layerShapes, stepShapes } from './kv_cache';
import { type AdapterSpec, type ModelConfig, adapterParamSpecs, baseParamSpecs, countParams, featureDimOf } from './params';

export interface MemoryEstimate {
  /** Every parameter tensor (base + adapter). */
  params: number;
  /** Gradients + AdamW's two moments of the trainable tensors (0 when not training). */
  optimizer: number;
  /** Forward activations kept for the backward, for one batch of B×T tokens. */
  activations: number;
  /** The backward's temporaries (freed after each step) and the LM head's scratch. */
  scratch: number;
  /** Generation: the KV cache, NTK terms, decode-step buffers and the last row's logits (0 without `generation`). */
  decode: number;
  total: number;
  /** The largest single tensor, which must fit one buffer (maxBufferSize). */
  largestTensor: { name: string; bytes: number };
  /** The largest activation, [B·T, 4C] (the MLP's hidden layer): kernels bind it whole. */
  largestActivationBytes: number;
  /** Tokens per batch (B·T) this estimate is for. */
  tokens: number;
}

/** Generation with the KV cache (model/generate.ts), as generate() is called. */
export interface GenerationPlan {
  promptTokens: number;
  maxNewTokens: number;
}

export interface EstimateOptions {
  /** Whether matmul's transposed copies (software adapters only) are counted. Default true. */
  softwareAdapter?: boolean;
  /** Adds the decode line for generating with these lengths. */
  generation?: GenerationPlan;
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
 * gradients, moments and backward temporaries; `opts.generation` the decode line.
 */
export function estimateMemory(c: ModelConfig, a: AdapterSpec, B: number, T: number, training: boolean, opts: EstimateOptions = {}): MemoryEstimate {
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
  const head = lmHeadScratchFloats({ N, C, V: c.vocabSize }, opts.softwareAdapter ?? true);
  const scratch = backward + (head.block + head.partials + head.transposed) * F;
  const decode = opts.generation ? decodeBytes(c, a, opts.generation) : 0;
  return { params, optimizer, activations, scratch, decode, total: params + optimizer + activations + scratch + decode, largestTensor: largest, largestActivationBytes: 4 * N * C * F, tokens: N };
}

/** A buffer's bytes as Gpu.tensor allocates it (multiples of 16, at least 16). */
function bufferBytes(shape: number[] | null): number {
  if (!shape) return 0;
  return Math.max(16, Math.ceil((shape.reduce((x, y) => x * y, 1) * F) / 16) * 16);
}

/**
 * What generating with the KV cache holds at its peak, from kv_cache.ts's own shapes: every
 * layer's keys, values (and NTK terms) for the cache's capacity, one set of step buffers
 * for the longest step (the prompt; the whole window once it slides past the context), and
 * the [1, V] logits. As generate() sizes them: capacity min(context, prompt + new − 1).
 */
export function decodeBytes(c: ModelConfig, a: AdapterSpec, g: GenerationPlan): number {
  if (g.maxNewTokens < 1) return 0; // generate() returns before decoding
  const ctx = c.contextLength;
  const H = c.nHead;
  const d = c.nEmbd / H;
  const first = Math.min(g.promptTokens, ctx);
  const capacity = Math.min(ctx, Math.max(first, g.promptTokens + g.maxNewTokens - 1));
  const longest = g.promptTokens + g.maxNewTokens - 1 > ctx ? ctx : first;
  const ntk = a.method === 'ntk' ? { r: featureDimOf(a.featureMap, d), lowRank: a.rank > 0 } : null;
  const layer = Object.values(layerShapes({ nLayer: c.nLayer, H, d, capacity, ntk })).reduce((s, x) => s + bufferBytes(x), 0);
  const step = Object.values(stepShapes(H, d, longest, a.method === 'lora' ? a.rank : 0)).reduce((s, x) => s + bufferBytes(x), 0);
  return c.nLayer * layer + step + bufferBytes([1, c.vocabSize]);
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
      `optimizer ${formatBytes(est.optimizer)}, activations ${formatBytes(est.activations)}, scratch ${formatBytes(est.scratch)}` +
      `${est.decode ? `, KV cache and decode ${formatBytes(est.decode)}` : ''}), ` +
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
  /** Generation with the KV cache adds its cache and step buffers. */
  generation?: GenerationPlan;
}

/**
 * Whether `c` with `run` fits `dev`, from the config alone (so a base can be refused before
 * a byte of its weights is read): null when it fits, else checkFits' message with numbers.
 */
export function checkRunFits(c: ModelConfig, run: PlannedRun, dev: DeviceBudget, what: string): string | null {
  const T = Math.min(run.seqLen, c.contextLength);
  return checkFits(estimateMemory(c, run.adapter, run.batch, T, run.training, { generation: run.generation }), dev, `${what} (${run.training ? 'training' : 'inference'}, ${run.adapter.method}, batch ${run.batch} × sequence ${T})`);
}
