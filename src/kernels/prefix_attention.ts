// Fused prefix attention (P-Tuning v2 style prefix keys/values shared by the batch), forward
// and backward. Definition and layouts: prefix_attention.ref.ts; math: docs/ntk-attention.md §2, §3.
//
//   prefixAttentionForward(gpu, {q, k, v, pk, pv, o, lse, beta?}, dims)
//     q, k, v [B,H,L,d]; pk, pv [H,m,d] (m = 0 allowed: any tensor, it is not read)
//     → o [B,H,L,d], lse [B,H,L] (log of each row's softmax denominator over prefix and
//       visible sequence keys; the backward needs it), beta [B,H,L] when given (prefix mass).
//     One dispatch; streams over the m + L keys with an online softmax, so nothing of size
//     L×(m+L) is ever stored and memory beyond the prefix does not grow with m.
//
//   prefixAttentionBackward(gpu, {q, k, v, pk, pv, o, lse, dO, dq, dk, dv, dpk, dpv}, dims, accumulate?)
//     → dq, dk, dv [B,H,L,d]; dpk, dpv [H,m,d] summed over the batch (each written, or
//       added to with `accumulate`). dpk/dpv may be null (frozen prefix): their pass is
//       skipped. FlashAttention-2's split, deterministic (no atomics):
//       1. Δ_i = dO_i·o_i, packed with lse_i into a temporary [B,H,L,2];
//       2. key-parallel dK, dV of the sequence (one workgroup per 64 keys of a (b,h));
//       3. key-parallel dPk, dPv (one workgroup per 64 prefix keys of a head, looping over
//          every batch entry and query row);
//       4. query-parallel dQ.
//     Probabilities are recomputed from lse. Temporary memory: 2·B·H·L floats.
//
// Wrappers record only; the caller submits/reads (gpu.sync(), gpu.read()).
import { shapeCheck } from '../gpu/errors';
import { params } from '../gpu/params';
import { cdiv, type Gpu, type Tensor } from '../gpu/runtime';
import { MAX_GROUPS, gridStride } from './grid';
import { attnScale, type PrefixAttentionDims } from './prefix_attention.ref';

export type { PrefixAttentionDims } from './prefix_attention.ref';

/** Rows (forward, dQ) and keys (dK/dV) per workgroup: WG·R in both configurations. */
const TILE = 64;

/**
 * Register blocking, per adapter kind (the shaders' R, WG, BC defines): 'software' (R = 8
 * rows or keys per invocation, workgroups of 8 = one SIMD batch of lavapipe/SwiftShader,
 * 8-key tiles) measured 3-4x faster than 'gpu' (R = 1, 64 invocations, 16-key tiles) on
 * lavapipe; 'gpu' keeps per-thread state small for real GPUs. 'auto' picks by
 * gpu.report.isFallbackAdapter. Results agree to float32 rounding (the order of the d-loop
 * sums is the same; only tile boundaries of the online softmax differ).
 */
export type PrefixAttentionPath = 'auto' | 'software' | 'gpu';
const CONFIGS = {
  software: { R: 8, WG: 8, BC: 8 },
  gpu: { R: 1, WG: 64, BC: 16 },
} as const;

export interface PrefixAttentionOptions extends PrefixAttentionDims {
  path?: PrefixAttentionPath;
}

function config(gpu: Gpu, path: PrefixAttentionPath = 'auto') {
  const c = CONFIGS[path === 'auto' ? (gpu.report.isFallbackAdapter ? 'software' : 'gpu') : path];
  return { R: c.R, WG: c.WG, BC: c.BC };
}
/** Largest head dimension (private arrays of D floats per invocation). */
export const MAX_HEAD_DIM = 128;

export interface PrefixAttentionForwardTensors {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  pk: Tensor;
  pv: Tensor;
  o: Tensor;
  lse: Tensor;
  /** Optional [B,H,L] output: the prefix's share of each row's attention. */
  beta?: Tensor | null;
}

export interface PrefixAttentionBackwardTensors {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  pk: Tensor;
  pv: Tensor;
  /** Forward outputs. */
  o: Tensor;
  lse: Tensor;
  /** ∂ℓ/∂O [B,H,L,d]. */
  dO: Tensor;
  dq: Tensor;
  dk: Tensor;
  dv: Tensor;
  /** [H,m,d], batch-summed; null skips the prefix pass (frozen prefix, or m = 0). */
  dpk: Tensor | null;
  dpv: Tensor | null;
}

const isInt = (v: number, min: number) => Number.isInteger(v) && v >= min;

function checkDims(kernel: string, dims: PrefixAttentionDims) {
  const { B, H, L, d, m } = dims;
  shapeCheck(isInt(B, 1) && isInt(H, 1) && isInt(L, 1) && isInt(d, 1) && isInt(m, 0), kernel, `B, H, L, d must be integers ≥ 1 and m ≥ 0 (got B=${B} H=${H} L=${L} d=${d} m=${m})`);
  shapeCheck(d <= MAX_HEAD_DIM, kernel, `head dim d=${d} exceeds ${MAX_HEAD_DIM}`);
  shapeCheck(B * H <= MAX_GROUPS, kernel, `B·H = ${B * H} exceeds ${MAX_GROUPS} (one workgroup row per (b, h))`);
  shapeCheck(cdiv(L, TILE) <= MAX_GROUPS && cdiv(m, TILE) <= MAX_GROUPS, kernel, `L=${L} or m=${m} exceeds ${MAX_GROUPS * TILE}`);
  const s = attnScale(dims);
  shapeCheck(Number.isFinite(s), kernel, `scale must be finite (got ${s})`);
}

function checkShape(kernel: string, t: Tensor, name: string, numel: number, shape: string) {
  shapeCheck(t.numel === numel, kernel, `${name} (${t.label}) must be ${shape} = ${numel} elements, got ${t.numel}`);
}

function distinct(kernel: string, ts: (Tensor | null | undefined)[]) {
  const bufs = ts.filter((t): t is Tensor => !!t).map((t) => t.buffer);
  shapeCheck(new Set(bufs).size === bufs.length, kernel, 'outputs must be distinct tensors, not aliasing any input');
}

export function prefixAttentionForward(gpu: Gpu, t: PrefixAttentionForwardTensors, dims: PrefixAttentionOptions) {
  const K = 'prefix_attention';
  checkDims(K, dims);
  const { B, H, L, d, m } = dims;
  const seq = `[B=${B},H=${H},L=${L},d=${d}]`;
  for (const [n, x] of [['q', t.q], ['k', t.k], ['v', t.v], ['o', t.o]] as const) checkShape(K, x, n, B * H * L * d, seq);
  if (m > 0) for (const [n, x] of [['pk', t.pk], ['pv', t.pv]] as const) checkShape(K, x, n, H * m * d, `[H=${H},m=${m},d=${d}]`);
  checkShape(K, t.lse, 'lse', B * H * L, `[B,H,L]`);
  if (t.beta) checkShape(K, t.beta, 'beta', B * H * L, `[B,H,L]`);
  const outs = [t.o, t.lse, t.beta];
  distinct(K, outs);
  for (const x of outs) if (x) shapeCheck(![t.q, t.k, t.v, t.pk, t.pv].some((i) => i.buffer === x.buffer), K, `output ${x.label} aliases an input`);

  // Without beta a 1-element placeholder takes its binding (one pipeline either way).
  const beta = t.beta ?? gpu.tensor([1], undefined, 'prefix_attention.no-beta');
  const kern = gpu.kernel({ shader: 'prefix_attention_forward', defines: config(gpu, dims.path), bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw', 'rw'] });
  const p = params()
    .u32(H)
    .u32(L)
    .u32(m)
    .u32(d)
    .u32(dims.causal ?? true ? 1 : 0)
    .f32(attnScale(dims))
    .u32(t.beta ? 1 : 0);
  gpu.dispatch(kern, [t.q, t.k, t.v, t.pk, t.pv, t.o, t.lse, beta], [cdiv(L, TILE), B * H], p);
  if (!t.beta) gpu.release(beta);
}

export function prefixAttentionBackward(gpu: Gpu, t: PrefixAttentionBackwardTensors, dims: PrefixAttentionOptions, accumulate = false) {
  const K = 'prefix_attention_backward';
  checkDims(K, dims);
  const { B, H, L, d, m } = dims;
  const causal = dims.causal ?? true;
  const scale = attnScale(dims);
  const seq = `[B=${B},H=${H},L=${L},d=${d}]`;
  const pre = `[H=${H},m=${m},d=${d}]`;
  for (const [n, x] of [['q', t.q], ['k', t.k], ['v', t.v], ['o', t.o], ['dO', t.dO], ['dq', t.dq], ['dk', t.dk], ['dv', t.dv]] as const) checkShape(K, x, n, B * H * L * d, seq);
  if (m > 0) for (const [n, x] of [['pk', t.pk], ['pv', t.pv]] as const) checkShape(K, x, n, H * m * d, pre);
  shapeCheck(!t.dpk === !t.dpv, K, 'dpk and dpv must both be given or both be null');
  if (m > 0 && t.dpk && t.dpv) {
    checkShape(K, t.dpk, 'dpk', H * m * d, pre);
    checkShape(K, t.dpv, 'dpv', H * m * d, pre);
  }
  checkShape(K, t.lse, 'lse', B * H * L, '[B,H,L]');
  const outs = [t.dq, t.dk, t.dv, ...(m > 0 ? [t.dpk, t.dpv] : [])];
  distinct(K, outs);
  for (const x of outs) if (x) shapeCheck(![t.q, t.k, t.v, t.pk, t.pv, t.o, t.lse, t.dO].some((i) => i.buffer === x.buffer), K, `output ${x.label} aliases an input`);

  const rows = B * H * L;
  const stats = gpu.tensor([B, H, L, 2], undefined, 'prefix_attention.stats');
  const kd = gpu.kernel({ shader: 'prefix_attention_backward_delta', bindings: ['uniform', 'read', 'read', 'read', 'rw'] });
  gpu.dispatch(kd, [t.o, t.dO, t.lse, stats], gridStride(rows, 64), params().u32(rows).u32(d));

  const cfg = config(gpu, dims.path);
  const kkv = gpu.kernel({ shader: 'prefix_attention_backward_kv', defines: cfg, bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw'] });
  const kvParams = (nKeys: number, prefix: boolean) =>
    params()
      .u32(H)
      .u32(L)
      .u32(d)
      .u32(nKeys)
      .u32(prefix ? 1 : 0)
      .u32(B)
      .u32(causal ? 1 : 0)
      .f32(scale)
      .u32(accumulate ? 1 : 0);
  gpu.dispatch(kkv, [t.q, t.k, t.v, t.dO, stats, t.dk, t.dv], [cdiv(L, TILE), B * H], kvParams(L, false));
  if (m > 0 && t.dpk && t.dpv) gpu.dispatch(kkv, [t.q, t.pk, t.pv, t.dO, stats, t.dpk, t.dpv], [cdiv(m, TILE), H], kvParams(m, true));

  const kq = gpu.kernel({ shader: 'prefix_attention_backward_q', defines: cfg, bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'read', 'read', 'rw'] });
  const pq = params().u32(H).u32(L).u32(m).u32(d).u32(causal ? 1 : 0).f32(scale).u32(accumulate ? 1 : 0);
  gpu.dispatch(kq, [t.q, t.k, t.v, t.pk, t.pv, t.dO, stats, t.dq], [cdiv(L, TILE), B * H], pq);
  // Later users of this buffer are queue-ordered after the dispatches above.
  gpu.release(stats);
}

/** Floating-point work of one forward call (2 FLOPs per multiply-add, causal mask counted), for benchmarks. */
export function prefixAttentionFlops(dims: PrefixAttentionDims): number {
  const { B, H, L, d, m } = dims;
  const seqPairs = (dims.causal ?? true) ? (L * (L + 1)) / 2 : L * L;
  return 2 * 2 * B * H * d * (L * m + seqPairs);
}
