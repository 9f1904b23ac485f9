// Prefix initialisation: how a prefix adapter's keys and values h.{l}.prefix.key/value
// [H, m, d] start.
// - 'random': N(0, 1) per entry, exactly what initParams gives the prefix specs.
// - 'from-text': the base model's own keys and values on real text (a common practice in
//   prefix / prompt tuning: start the prefix as if the model had just read m tokens of the
//   task's training text). The text is m tokens from the task's training split, read in
//   windows of at most contextLength tokens (each window starts at position 0, so its keys
//   carry positions 0..W−1 as they would in the base model); layer l's per-head k and v
//   rows for those tokens become prefix rows 0..m−1, in text order.
//
// The keys and values are recomputed here with the same kernels, in the same order, as
// GptGpu.forward with no adapter (bit-identical to its activations; the test checks it):
// GptGpu keeps its activations private. Only the model's base tensors are read, so any
// GptGpu works as the base (its adapter, if any, is ignored).
import type { Task } from '../data';
import type { Gpu } from '../gpu/runtime';
import { embeddingForward } from '../kernels/embedding';
import { geluForward } from '../kernels/gelu';
import { layerNormForward } from '../kernels/layernorm';
import { matmul } from '../kernels/matmul';
import { permuteQkvForward, unpermuteForward } from '../kernels/permute';
import { prefixAttentionForward } from '../kernels/prefix_attention';
import { addInPlace } from '../kernels/residual';
import { Rng } from '../util/rng';
import type { GptGpu } from './gpt';
import { initParams } from './init';
import { adapterParamSpecs, headDim, type ModelConfig } from './params';

export type PrefixInit =
  | { kind: 'random'; seed: number }
  | { kind: 'from-text'; task: Task; seed: number };

export const PREFIX_INITS = ['random', 'from-text'] as const;

/** m tokens of training text as B windows of T tokens (B·T ≥ m; rows past m unused). */
export interface TextSample {
  tokens: Int32Array;
  B: number;
  T: number;
}

/** The text 'from-text' reads: B = ⌈m / T⌉ random windows of T = min(m, context, task max). */
export function prefixTextSample(task: Task, m: number, contextLength: number, seed: number): TextSample {
  if (!Number.isInteger(m) || m < 1) throw new Error(`prefix init: prefix length m must be an integer ≥ 1 (got ${m})`);
  const T = Math.min(m, contextLength, task.maxSeqLen);
  if (T < task.minSeqLen) {
    throw new Error(`prefix init: task '${task.name}' needs windows of at least ${task.minSeqLen} tokens; at most ${T} fit (m = ${m}, context ${contextLength})`);
  }
  const B = Math.ceil(m / T);
  const batch = task.nextBatch('train', B, T, new Rng(seed));
  return { tokens: batch.inputs, B, T };
}

/**
 * Per-layer keys and values [B, H, T, d] of the base model on `tokens` ([B, T] row-major),
 * computed with the forward pass's kernels (no adapter, causal).
 */
export async function baseKeysValues(gpu: Gpu, model: GptGpu, tokens: Int32Array, B: number, T: number): Promise<{ k: Float32Array[]; v: Float32Array[] }> {
  const cfg = model.config;
  if (T > cfg.contextLength) throw new Error(`prefix init: window of ${T} tokens exceeds the model context ${cfg.contextLength}`);
  if (tokens.length !== B * T) throw new Error(`prefix init: expected ${B * T} tokens ([B=${B}, T=${T}]), got ${tokens.length}`);
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] < 0 || tokens[i] >= cfg.vocabSize) throw new Error(`prefix init: token ${i} is ${tokens[i]}, outside the model's vocabulary [0, ${cfg.vocabSize}): the task must use the base model's vocabulary`);
  }
  const C = cfg.nEmbd;
  const H = cfg.nHead;
  const d = headDim(cfg);
  const N = B * T;
  const P = (n: string) => {
    const t = model.params.get(n);
    if (!t) throw new Error(`prefix init: the model has no parameter ${n}`);
    return t;
  };
  const a = (shape: number[], label: string) => gpu.tensor(shape, undefined, label);
  const tok = gpu.tensor([B, T], new Uint32Array(tokens.buffer, tokens.byteOffset, tokens.length), 'init.tokens');
  const x = a([N, C], 'init.x');
  const ln = a([N, C], 'init.ln');
  const mean = a([N], 'init.mean');
  const rstd = a([N], 'init.rstd');
  const qkv = a([N, 3 * C], 'init.qkv');
  const q = a([B, H, T, d], 'init.q');
  const k = a([B, H, T, d], 'init.k');
  const v = a([B, H, T, d], 'init.v');
  const o = a([B, H, T, d], 'init.o');
  const lse = a([B, H, T], 'init.lse');
  const beta = a([B, H, T], 'init.beta');
  const att = a([N, C], 'init.att');
  const resid2 = a([N, C], 'init.resid2');
  const fc = a([N, 4 * C], 'init.fc');
  const fcg = a([N, 4 * C], 'init.fcg');
  const out = { k: [] as Float32Array[], v: [] as Float32Array[] };
  try {
    embeddingForward(gpu, tok, P('wte'), P('wpe'), x, { B, T, C });
    for (let l = 0; l < cfg.nLayer; l++) {
      const L = (n: string) => P(`h.${l}.${n}`);
      layerNormForward(gpu, x, L('ln_1.weight'), L('ln_1.bias'), ln, mean, rstd, { N, C });
      matmul(gpu, ln, L('attn.c_attn.weight'), qkv, { M: N, K: C, N: 3 * C, bias: L('attn.c_attn.bias') });
      permuteQkvForward(gpu, qkv, q, k, v, { B, T, H, d });
      out.k.push(await gpu.read(k));
      out.v.push(await gpu.read(v));
      if (l === cfg.nLayer - 1) break; // the last block's output is not needed
      // m = 0: the prefix inputs are never read (GptGpu passes q and v the same way).
      prefixAttentionForward(gpu, { q, k, v, pk: q, pv: v, o, lse, beta }, { B, H, L: T, d, m: 0, causal: true });
      unpermuteForward(gpu, o, att, { B, T, H, d });
      matmul(gpu, att, L('attn.c_proj.weight'), resid2, { M: N, K: C, N: C, bias: L('attn.c_proj.bias') });
      addInPlace(gpu, resid2, x);
      layerNormForward(gpu, resid2, L('ln_2.weight'), L('ln_2.bias'), ln, mean, rstd, { N, C });
      matmul(gpu, ln, L('mlp.c_fc.weight'), fc, { M: N, K: C, N: 4 * C, bias: L('mlp.c_fc.bias') });
      geluForward(gpu, fc, fcg);
      matmul(gpu, fcg, L('mlp.c_proj.weight'), x, { M: N, K: 4 * C, N: C, bias: L('mlp.c_proj.bias') });
      addInPlace(gpu, x, resid2); // x = resid2 + mlp: the next block's input
    }
  } finally {
    gpu.release(tok, x, ln, mean, rstd, qkv, q, k, v, o, lse, beta, att, resid2, fc, fcg);
  }
  return out;
}

/** Rows 0..m−1 of [B, H, T, d] activations (text order b·T + t) as a prefix [H, m, d]. */
export function activationsToPrefix(act: Float32Array, B: number, H: number, T: number, d: number, m: number): Float32Array {
  if (m > B * T) throw new Error(`prefix init: ${B * T} token rows cannot fill a prefix of ${m}`);
  const p = new Float32Array(H * m * d);
  for (let j = 0; j < m; j++) {
    const b = Math.floor(j / T);
    const t = j % T;
    for (let h = 0; h < H; h++) p.set(act.subarray(((b * H + h) * T + t) * d, ((b * H + h) * T + t + 1) * d), (h * m + j) * d);
  }
  return p;
}

/**
 * Initial prefix tensors h.{l}.prefix.key / value for a prefix of length m on `base`'s
 * architecture. 'from-text' runs `base` (its base tensors) on the task's training text.
 */
export async function initPrefix(gpu: Gpu, base: GptGpu, m: number, init: PrefixInit): Promise<Map<string, Float32Array>> {
  const cfg: ModelConfig = base.config;
  if (!Number.isInteger(m) || m < 1) throw new Error(`prefix init: prefix length m must be an integer ≥ 1 (got ${m})`);
  if (init.kind === 'random') return initParams(adapterParamSpecs(cfg, { method: 'prefix', prefixLength: m }), init.seed);
  if (init.kind !== 'from-text') throw new Error(`prefix init: unknown kind '${(init as { kind: string }).kind}' (expected ${PREFIX_INITS.join(' or ')})`);
  const s = prefixTextSample(init.task, m, cfg.contextLength, init.seed);
  const kv = await baseKeysValues(gpu, base, s.tokens, s.B, s.T);
  const H = cfg.nHead;
  const d = headDim(cfg);
  const out = new Map<string, Float32Array>();
  for (let l = 0; l < cfg.nLayer; l++) {
    out.set(`h.${l}.prefix.key`, activationsToPrefix(kv.k[l], s.B, H, s.T, d, m));
    out.set(`h.${l}.prefix.value`, activationsToPrefix(kv.v[l], s.B, H, s.T, d, m));
  }
  return out;
}

/** Loads a prefix init into a prefix model (its base tensors must already be loaded). */
export function loadPrefix(gpu: Gpu, model: GptGpu, prefix: Map<string, Float32Array>) {
  if (model.adapter.method !== 'prefix') throw new Error(`prefix init: the model's adapter is '${model.adapter.method}', not a prefix`);
  for (const s of model.trainable) {
    const v = prefix.get(s.name);
    if (!v) throw new Error(`prefix init: no tensor for ${s.name}`);
    if (v.length !== s.numel) throw new Error(`prefix init: ${s.name} holds ${v.length} values, expected ${s.numel} [${s.shape}]`);
    gpu.write(model.params.get(s.name)!, v);
  }
}
