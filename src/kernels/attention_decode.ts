// Incremental decoding with a KV cache (one sequence, B = 1): the layer's attention for
// n new positions t … t+n−1 only, against keys/values cached for every earlier position.
// Definition: attention_decode.ref.ts (rows t … t+n−1 of the training kernels' output).
//
//   attentionDecodeAppend(gpu, qkv, q, kCache, vCache, {H, n, d, Tmax, pos})
//     qkv [n, 3C] (x·W_qkv of the new rows) → q [H, n, d]; k, v into kCache, vCache
//     [H, Tmax, d] at rows pos … pos+n−1 (the other rows are left as they are).
//   attentionDecode(gpu, {q, kCache, vCache, pk, pv, o, lse}, {H, n, t, Tmax, d, m})
//     → o [H, n, d], lse [H, n]: row i over the m prefix keys and cache rows 0 … t+i.
//   ntkDecodeTerms(gpu, {z | za, zb, kappa}, {z, kTilde}, {H, d, featureMap, kParam, rank})
//     → Z [H, r, d] (the parameter, or Z_A·Z_B) and k̃ = f(κ) [H, r]: they depend on the
//     adapter's parameters only, so a sequence builds them once and every step reads them.
//   attentionDecodeNtk(gpu, {q, kCache, vCache, z, kTilde, o}, {..., featureMap})
//     → o [H, n, d]: NTK-Attention, the sequence part above (m = 0) with φ(q)ᵀZ and
//     φ(q)ᵀk̃ added to numerator and denominator by ntk_combine (the split path's per-row
//     kernel, exact for either sign of the denominator in the forward).
// Wrappers record only; the caller submits/reads.
import { shapeCheck } from '../gpu/errors';
import { params } from '../gpu/params';
import { type Gpu, type Tensor } from '../gpu/runtime';
import { MAX_GROUPS, gridStride } from './grid';
import { matmul } from './matmul';
import { featureDim, NTK_MAX_HEAD_DIM, ntkKTilde, type NtkAdapterTensors } from './ntk_attention';
import type { FeatureMapName, KParam } from './ntk_types';
import type { DecodeAppendDims, DecodeRefDims } from './attention_decode.ref';

export type { DecodeAppendDims } from './attention_decode.ref';

/** Largest head dimension (private arrays of DMAX floats per invocation in the shader). */
export const DECODE_MAX_HEAD_DIM = 128;

/**
 * Invocations per (row, head) workgroup, and output dims merged per round. 'software':
 * 8 = one SIMD batch of lavapipe/SwiftShader (more only adds barrier work on a CPU);
 * 'gpu': 64 keys in flight per row. 'auto' picks by gpu.report.isFallbackAdapter.
 */
export type DecodePath = 'auto' | 'software' | 'gpu';
const CONFIGS = { software: { WG: 8, CH: 8 }, gpu: { WG: 64, CH: 16 } } as const;

export interface DecodeDims extends DecodeRefDims {
  path?: DecodePath;
}

export interface DecodeNtkDims extends Omit<DecodeDims, 'm'> {
  featureMap: FeatureMapName;
}

export interface NtkTermDims {
  H: number;
  d: number;
  featureMap: FeatureMapName;
  kParam: KParam;
  /** Rank s of Z = Z_A·Z_B; 0 or undefined = full rank. */
  rank?: number;
}

/** One layer's NTK-Attention terms for decoding: Z [H, r, d] and k̃ [H, r]. */
export interface NtkDecodeTerms {
  z: Tensor;
  kTilde: Tensor;
}

export interface DecodeTensors {
  q: Tensor;
  kCache: Tensor;
  vCache: Tensor;
  pk: Tensor;
  pv: Tensor;
  o: Tensor;
  lse: Tensor;
}

export interface DecodeNtkTensors extends NtkDecodeTerms {
  q: Tensor;
  kCache: Tensor;
  vCache: Tensor;
  o: Tensor;
}

const isInt = (v: number, min: number) => Number.isInteger(v) && v >= min;
const MAP_ID: Record<FeatureMapName, number> = { elu1: 0, taylor2: 1 };

function size(kernel: string, t: Tensor, name: string, numel: number, shape: string) {
  shapeCheck(t.numel === numel, kernel, `${name} (${t.label}) must be ${shape} = ${numel} elements, got ${t.numel}`);
}

function checkCache(kernel: string, { H, n, d, Tmax }: { H: number; n: number; d: number; Tmax: number }, last: number, kCache: Tensor, vCache: Tensor) {
  shapeCheck(last <= Tmax, kernel, `positions up to ${last} do not fit a cache of Tmax = ${Tmax}`);
  for (const [name, c] of [['kCache', kCache], ['vCache', vCache]] as const) size(kernel, c, name, H * Tmax * d, `[H=${H},Tmax=${Tmax},d=${d}]`);
  shapeCheck(kCache.buffer !== vCache.buffer, kernel, 'kCache and vCache must be distinct tensors');
  shapeCheck(n <= MAX_GROUPS && H <= MAX_GROUPS, kernel, `n=${n} or H=${H} exceeds ${MAX_GROUPS} (one workgroup per row and head)`);
}

export function attentionDecodeAppend(gpu: Gpu, qkv: Tensor, q: Tensor, kCache: Tensor, vCache: Tensor, dims: DecodeAppendDims) {
  const K = 'attention_decode_append';
  const { H, n, d, Tmax, pos } = dims;
  shapeCheck(isInt(H, 1) && isInt(n, 1) && isInt(d, 1) && isInt(Tmax, 1) && isInt(pos, 0), K, `H, n, d, Tmax must be integers ≥ 1 and pos ≥ 0 (got H=${H} n=${n} d=${d} Tmax=${Tmax} pos=${pos})`);
  checkCache(K, dims, pos + n, kCache, vCache);
  size(K, qkv, 'qkv', 3 * n * H * d, `[n=${n},3,H=${H},d=${d}]`);
  size(K, q, 'q', H * n * d, `[H=${H},n=${n},d=${d}]`);
  shapeCheck(new Set([qkv.buffer, q.buffer, kCache.buffer, vCache.buffer]).size === 4, K, 'qkv, q, kCache, vCache must be distinct tensors');
  const kern = gpu.kernel({ shader: 'attention_decode_append', bindings: ['uniform', 'read', 'rw', 'rw', 'rw'] });
  gpu.dispatch(kern, [qkv, q, kCache, vCache], gridStride(H * n * d, 256), params().u32(n).u32(H).u32(d).u32(Tmax).u32(pos));
}

function checkDims(kernel: string, dims: DecodeDims, maxD: number) {
  const { H, n, t, Tmax, d, m } = dims;
  shapeCheck(isInt(H, 1) && isInt(n, 1) && isInt(t, 0) && isInt(Tmax, 1) && isInt(d, 1) && isInt(m, 0), kernel, `H, n, Tmax, d must be integers ≥ 1 and t, m ≥ 0 (got H=${H} n=${n} t=${t} Tmax=${Tmax} d=${d} m=${m})`);
  shapeCheck(d <= maxD, kernel, `head dim d=${d} exceeds ${maxD}`);
  const s = dims.scale ?? 1 / Math.sqrt(d);
  shapeCheck(Number.isFinite(s), kernel, `scale must be finite (got ${s})`);
}

function record(gpu: Gpu, t: DecodeTensors, dims: DecodeDims) {
  const { H, n, t: past, Tmax, d, m } = dims;
  const path = dims.path ?? 'auto';
  const defines = CONFIGS[path === 'auto' ? (gpu.report.isFallbackAdapter ? 'software' : 'gpu') : path];
  const kern = gpu.kernel({ shader: 'attention_decode', defines: { ...defines }, bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw'] });
  const p = params().u32(H).u32(n).u32(past).u32(Tmax).u32(m).u32(d).f32(dims.scale ?? 1 / Math.sqrt(d));
  gpu.dispatch(kern, [t.q, t.kCache, t.vCache, t.pk, t.pv, t.o, t.lse], [n, H], p);
}

export function attentionDecode(gpu: Gpu, t: DecodeTensors, dims: DecodeDims) {
  const K = 'attention_decode';
  checkDims(K, dims, DECODE_MAX_HEAD_DIM);
  const { H, n, t: past, d, m } = dims;
  checkCache(K, dims, past + n, t.kCache, t.vCache);
  const rows = `[H=${H},n=${n},d=${d}]`;
  for (const [name, x] of [['q', t.q], ['o', t.o]] as const) size(K, x, name, H * n * d, rows);
  size(K, t.lse, 'lse', H * n, `[H=${H},n=${n}]`);
  if (m > 0) for (const [name, x] of [['pk', t.pk], ['pv', t.pv]] as const) size(K, x, name, H * m * d, `[H=${H},m=${m},d=${d}]`);
  const inputs = [t.q, t.kCache, t.vCache, t.pk, t.pv].map((x) => x.buffer);
  shapeCheck(t.o.buffer !== t.lse.buffer && ![t.o, t.lse].some((x) => inputs.includes(x.buffer)), K, 'o and lse must be distinct tensors, not aliasing any input');
  record(gpu, t, dims);
}

/**
 * k̃ = f(κ) into `into.kTilde` and, when low rank, Z = Z_A·Z_B into `into.z` (full rank:
 * Z is the parameter itself, returned as it is; `into.z` may then be null).
 */
export function ntkDecodeTerms(gpu: Gpu, t: NtkAdapterTensors, into: { z: Tensor | null; kTilde: Tensor }, dims: NtkTermDims): NtkDecodeTerms {
  const K = 'ntk_decode_terms';
  const { H, d } = dims;
  shapeCheck(isInt(H, 1) && isInt(d, 1) && d <= NTK_MAX_HEAD_DIM, K, `H, d must be integers ≥ 1, d ≤ ${NTK_MAX_HEAD_DIM} (got H=${H} d=${d})`);
  const r = featureDim(dims.featureMap, d);
  const s = dims.rank ?? 0;
  size(K, t.kappa, 'kappa', H * r, `[H=${H},r=${r}]`);
  size(K, into.kTilde, 'kTilde', H * r, `[H=${H},r=${r}]`);
  shapeCheck(into.kTilde.buffer !== t.kappa.buffer, K, 'kTilde must not alias kappa');
  ntkKTilde(gpu, t.kappa, into.kTilde, dims.kParam);
  if (!s) {
    shapeCheck(!!t.z, K, 'full rank needs z');
    size(K, t.z!, 'z', H * r * d, `[H=${H},r=${r},d=${d}]`);
    return { z: t.z!, kTilde: into.kTilde };
  }
  shapeCheck(!!t.za && !!t.zb && !!into.z, K, 'low rank needs za, zb and a z to write');
  size(K, t.za!, 'za', H * r * s, `[H=${H},r=${r},s=${s}]`);
  size(K, t.zb!, 'zb', H * s * d, `[H=${H},s=${s},d=${d}]`);
  size(K, into.z!, 'z', H * r * d, `[H=${H},r=${r},d=${d}]`);
  matmul(gpu, t.za!, t.zb!, into.z!, { M: r, K: s, N: d, batch: H });
  return { z: into.z!, kTilde: into.kTilde };
}

export function attentionDecodeNtk(gpu: Gpu, t: DecodeNtkTensors, dims: DecodeNtkDims) {
  const K = 'attention_decode_ntk';
  checkDims(K, { ...dims, m: 0 }, NTK_MAX_HEAD_DIM);
  const { H, n, t: past, d } = dims;
  checkCache(K, dims, past + n, t.kCache, t.vCache);
  const r = featureDim(dims.featureMap, d);
  for (const [name, x] of [['q', t.q], ['o', t.o]] as const) size(K, x, name, H * n * d, `[H=${H},n=${n},d=${d}]`);
  size(K, t.kTilde, 'kTilde', H * r, `[H=${H},r=${r}]`);
  size(K, t.z, 'z', H * r * d, `[H=${H},r=${r},d=${d}]`);
  shapeCheck(![t.q, t.kCache, t.vCache, t.z, t.kTilde].some((x) => x.buffer === t.o.buffer), K, 'o must not alias an input');

  const oseq = gpu.tensor([H, n, d], undefined, 'decode.o-seq');
  const lseq = gpu.tensor([H, n], undefined, 'decode.lse-seq');
  const none = gpu.tensor([1], undefined, 'decode.no-prefix');
  record(gpu, { q: t.q, kCache: t.kCache, vCache: t.vCache, pk: none, pv: none, o: oseq, lse: lseq }, { ...dims, m: 0 });
  const stats = gpu.tensor([H, n, 2], undefined, 'decode.ntk.stats'); // the backward's; unused here
  const kc = gpu.kernel({ shader: 'ntk_combine', constants: { FEATURE_MAP: MAP_ID[dims.featureMap] }, bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw', 'rw'] });
  const g = Math.max(1, Math.ceil((H * n) / 64));
  const x = Math.min(g, 65535);
  gpu.dispatch(kc, [t.q, oseq, lseq, t.z, t.kTilde, t.o, stats, none], [x, Math.ceil(g / x)], params().u32(1).u32(H).u32(n).u32(d).u32(r).u32(0));
  gpu.release(oseq, lseq, none, stats);
}
