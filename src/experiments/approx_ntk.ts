// A thin layer over the NTK-Attention kernels (kernels/ntk_attention.ts) in the shapes the
// approximation-error experiment uses: one input set (Q, K, V [n, H, L, d]) and one (Z, κ)
// per head. No new math here: the closed form is ntkFromPrefix; training calls the kernels'
// forward and backward with their default path ('auto'): the split path for elu1 (with
// abs, exp or softplus k, where φ ≥ 0 and k̃ ≥ 0 keep it exact), the fused one for taylor2.
import type { Gpu, Tensor } from '../gpu/runtime';
import { matmul } from '../kernels/matmul';
import { ntkAttentionBackward, ntkAttentionForward, ntkFromPrefix, ntkKTilde, NTK_MAX_HEAD_DIM } from '../kernels/ntk_attention';
import { featureDim } from '../kernels/ntk_attention.ref';
import { addInPlace } from '../kernels/residual';
import type { FeatureMapName, KParam } from '../train/config';

export { featureDim, NTK_MAX_HEAD_DIM };

/** The attention inputs of one set on the GPU, head-major [n, H, L, d]. */
export interface NtkSet {
  q: Tensor;
  k: Tensor;
  v: Tensor;
}

export interface NtkRunDims {
  B: number;
  H: number;
  L: number;
  d: number;
  map: FeatureMapName;
  kParam: KParam;
}

const opts = (o: NtkRunDims) => ({ B: o.B, H: o.H, L: o.L, d: o.d, featureMap: o.map, kParam: o.kParam, causal: true });

/** Y = NTK-Attention(X) with (Z, κ); stats [B, H, L, 2] is kept for the backward. */
export function ntkForward(gpu: Gpu, s: NtkSet, z: Tensor, kappa: Tensor, y: Tensor, stats: Tensor, o: NtkRunDims) {
  ntkAttentionForward(gpu, { q: s.q, k: s.k, v: s.v, z, kappa, o: y, stats }, opts(o));
}

/** dZ and dκ for ∂ℓ/∂Y = dO (dq, dk, dv are written too: the kernel always computes them). */
export function ntkBackward(
  gpu: Gpu,
  s: NtkSet,
  z: Tensor,
  kappa: Tensor,
  y: Tensor,
  stats: Tensor,
  dO: Tensor,
  g: { dq: Tensor; dk: Tensor; dv: Tensor; dz: Tensor; dkappa: Tensor },
  o: NtkRunDims,
) {
  ntkAttentionBackward(gpu, { q: s.q, k: s.k, v: s.v, z, kappa, o: y, stats, dO, ...g }, opts(o));
}

/**
 * Adds the closed-form contribution of prefix rows pk, pv [H, m, d] to (Z, k):
 * k += Σ φ(p), Z += Σ φ(p) wᵀ. The sweep over m = 1, 2, 4, … feeds each new block of rows
 * once, so the whole sweep costs one pass over the largest prefix (and float32 sums stay
 * short: each block is summed on its own before it is added).
 */
export function accumulateClosedForm(gpu: Gpu, pk: Tensor, pv: Tensor, z: Tensor, k: Tensor, o: { H: number; m: number; d: number; map: FeatureMapName }) {
  const r = featureDim(o.map, o.d);
  const zPart = gpu.tensor([o.H * r * o.d], undefined, 'Z.block');
  const kPart = gpu.tensor([o.H * r], undefined, 'k.block');
  ntkFromPrefix(gpu, pk, pv, zPart, kPart, { H: o.H, m: o.m, d: o.d, featureMap: o.map });
  addInPlace(gpu, z, zPart);
  addInPlace(gpu, k, kPart);
  gpu.release(zPart, kPart);
}

/** Closed form (Z, k) of a whole prefix pk, pv [H, m, d] into z, k. */
export function closedFormZk(gpu: Gpu, pk: Tensor, pv: Tensor, z: Tensor, k: Tensor, o: { H: number; m: number; d: number; map: FeatureMapName }) {
  ntkFromPrefix(gpu, pk, pv, z, k, { H: o.H, m: o.m, d: o.d, featureMap: o.map });
}

/**
 * The k̃ both trained methods start from (with Z = 0), per head [H, r]: a small "attention
 * sink" φ(q)ᵀk̃ ≈ SINK, so the model starts next to attention without the prefix (relative
 * error ≈ 1, nothing captured), with every entry non-zero so that |κ| has a gradient
 * (sign(0) = 0 would freeze it) and log k̃ is finite for k̃ = exp(κ).
 * - elu1: φ > 0 with entries near 1 (u = x/d^{1/4} is small), so k̃ = SINK/r per entry.
 * - taylor2: φ = [1, u, vec(x xᵀ)/(√2√d)] is signed; k̃ = SINK·[1, 1/r, …, 1/r] gives
 *   φᵀk̃ = SINK·(1 + (Σu + (Σx)²/(√2√d))/r): the quadratic part is ≥ 0 and the linear part
 *   is O(√d/r) ≪ 1, so the denominator stays positive.
 */
export const SINK = 0.01;
export function initialKTilde(map: FeatureMapName, d: number, H: number): Float64Array {
  const r = featureDim(map, d);
  const k = new Float64Array(H * r).fill(SINK / r);
  if (map === 'taylor2') for (let h = 0; h < H; h++) k[h * r] = SINK;
  return k;
}

// The scale-robust parameterisation: k = e^κ, Z = diag(k)·W̃ over the H·r rows of W̃ [H, r, d].
// Scaling each row by one number is a batched 1×1 matmul (batch H·r ≤ 65535, K = 1).

/** k = e^κ and Z = diag(k)·W̃. */
export function robustForward(gpu: Gpu, kappa: Tensor, k: Tensor, w: Tensor, z: Tensor, o: { H: number; r: number; d: number }) {
  ntkKTilde(gpu, kappa, k, 'exp');
  matmul(gpu, k, w, z, { M: 1, K: 1, N: o.d, batch: o.H * o.r });
}

/**
 * Chain rule of Z = diag(k)·W̃ given the kernel's dZ and dκ (run with kParam 'exp', so dκ
 * already holds ∂ℓ/∂κ through k̃ = e^κ): ∂ℓ/∂W̃ = diag(k)·dZ into gw, and
 * ∂ℓ/∂κ_a += Σ_c (k dZ)_ac W̃_ac added to dkappa (a [1,d]·[d,1] product per row: a row of d
 * contiguous floats is both shapes, so no transpose).
 */
export function robustBackward(gpu: Gpu, k: Tensor, w: Tensor, dz: Tensor, gw: Tensor, dkappa: Tensor, o: { H: number; r: number; d: number }) {
  const n = o.H * o.r;
  matmul(gpu, k, dz, gw, { M: 1, K: 1, N: o.d, batch: n });
  matmul(gpu, gw, w, dkappa, { M: 1, K: o.d, N: 1, batch: n, accumulate: true });
}
