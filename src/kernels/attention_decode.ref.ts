// float64 references for decoding with a KV cache (attention_decode.ts). Decoding changes
// where keys come from, not what attention computes: the n new rows are rows t … t+n−1 of
// the training kernels' causal attention over the sequence 0 … t+n−1, whose keys/values
// are the cache's first t+n rows. So the references build that sequence and read those
// rows from the training references (prefix_attention.ref.ts, ntk_attention.ref.ts).
// Layouts (B = 1): q, o [H, n, d]; caches [H, Tmax, d]; pk, pv [H, m, d]; lse [H, n].
import { ntkAttentionRef } from './ntk_attention.ref';
import type { FeatureMapName, KParam } from './ntk_types';
import { prefixAttentionRef } from './prefix_attention.ref';

export interface DecodeRefDims {
  H: number;
  /** New query rows, at positions t … t+n−1 (≥ 1). */
  n: number;
  /** Positions cached before this step (0 for a prefill). Cache rows t … t+n−1 must hold the new keys already. */
  t: number;
  /** Cache capacity (positions). */
  Tmax: number;
  d: number;
  /** Prefix length (0 allowed: pk, pv are then not read). */
  m: number;
  /** Score scale c; default 1/√d. */
  scale?: number;
}

export interface DecodeAppendDims {
  H: number;
  /** New positions. */
  n: number;
  d: number;
  /** Cache capacity (positions). */
  Tmax: number;
  /** Cache row of the first new position. */
  pos: number;
}

/** The appended cache (copies) and q [H, n, d] from qkv [n, 3, H, d] at rows pos … pos+n−1. */
export function attentionDecodeAppendRef(qkv: ArrayLike<number>, kCache: ArrayLike<number>, vCache: ArrayLike<number>, { H, n, d, Tmax, pos }: DecodeAppendDims) {
  const q = new Float64Array(H * n * d);
  const k = Float64Array.from(kCache);
  const v = Float64Array.from(vCache);
  const C = H * d;
  for (let i = 0; i < n; i++)
    for (let h = 0; h < H; h++)
      for (let e = 0; e < d; e++) {
        const src = i * 3 * C + h * d + e;
        q[(h * n + i) * d + e] = qkv[src];
        k[(h * Tmax + pos + i) * d + e] = qkv[src + C];
        v[(h * Tmax + pos + i) * d + e] = qkv[src + 2 * C];
      }
  return { q, k, v };
}

/** The sequence of length L = t+n as the training kernels see it ([1, H, L, d]); query rows before t are 0 (never read back). */
function sequence(q: ArrayLike<number>, kCache: ArrayLike<number>, vCache: ArrayLike<number>, { H, n, t, Tmax, d }: DecodeRefDims) {
  const L = t + n;
  const Q = new Float64Array(H * L * d);
  const K = new Float64Array(H * L * d);
  const V = new Float64Array(H * L * d);
  for (let h = 0; h < H; h++) {
    for (let j = 0; j < L * d; j++) {
      K[h * L * d + j] = kCache[h * Tmax * d + j];
      V[h * L * d + j] = vCache[h * Tmax * d + j];
    }
    for (let j = 0; j < n * d; j++) Q[(h * L + t) * d + j] = q[h * n * d + j];
  }
  return { Q, K, V, L };
}

/** Rows t … t+n−1 of `full` ([H, L, per]) → [H, n, per]. */
function newRows(full: ArrayLike<number>, H: number, L: number, t: number, n: number, per: number): Float64Array {
  const out = new Float64Array(H * n * per);
  for (let h = 0; h < H; h++) for (let j = 0; j < n * per; j++) out[h * n * per + j] = full[(h * L + t) * per + j];
  return out;
}

/** o [H, n, d] and lse [H, n] of the new rows (prefix keys pk, pv [H, m, d]; m may be 0). */
export function attentionDecodeRef(x: { q: ArrayLike<number>; kCache: ArrayLike<number>; vCache: ArrayLike<number>; pk: ArrayLike<number>; pv: ArrayLike<number> }, dims: DecodeRefDims) {
  const { H, n, t, d, m } = dims;
  const s = sequence(x.q, x.kCache, x.vCache, dims);
  const f = prefixAttentionRef({ q: s.Q, k: s.K, v: s.V, pk: x.pk, pv: x.pv }, { B: 1, H, L: s.L, d, m, causal: true, scale: dims.scale });
  return { o: newRows(f.o, H, s.L, t, n, d), lse: newRows(f.lse, H, s.L, t, n, 1) };
}

/** NTK-Attention's o [H, n, d] for the new rows (full-rank Z [H, r, d], κ [H, r]), with its rounding scale. */
export function attentionDecodeNtkRef(
  x: { q: ArrayLike<number>; kCache: ArrayLike<number>; vCache: ArrayLike<number>; z: ArrayLike<number>; kappa: ArrayLike<number> },
  dims: Omit<DecodeRefDims, 'm'> & { featureMap: FeatureMapName; kParam: KParam },
) {
  const { H, n, t, d } = dims;
  const s = sequence(x.q, x.kCache, x.vCache, { ...dims, m: 0 });
  const f = ntkAttentionRef(s.Q, s.K, s.V, x.z, x.kappa, { B: 1, H, L: s.L, d, featureMap: dims.featureMap, kParam: dims.kParam, causal: true, scale: dims.scale });
  return { o: newRows(f.o, H, s.L, t, n, d), oScale: newRows(f.oScale, H, s.L, t, n, d) };
}
