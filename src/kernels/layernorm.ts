// LayerNorm over the last dimension (GPT-2's ln_1 / ln_2 / ln_f), forward and backward.
//
// layerNormForward: x [N, C], w [C], b [C] → y [N, C], mean [N], rstd [N] (saved for backward).
// layerNormBackward: dy [N, C] → dx [N, C] (written, or += with `accumulate`), and, when
//   dw/db are given, dw [C] = Σ_n dy·n̂ and db [C] = Σ_n dy (written, or += with
//   `accumulateParams`). The column sums are two deterministic passes (row-chunk partials,
//   then an in-order sum per column): no float atomics.
import { shapeCheck } from '../gpu/errors';
import { params } from '../gpu/params';
import { cdiv, type Gpu, type Tensor } from '../gpu/runtime';
import { MAX_GROUPS } from './grid';

/** GPT-2's LayerNorm epsilon. */
export const LN_EPS = 1e-5;

const WG = 64;

export interface LayerNormDims {
  N: number;
  C: number;
  eps?: number;
  /** Cap on workgroups per dispatch (rows are grid-strided beyond it); tests lower it. */
  maxGroups?: number;
}

export interface LayerNormBackwardOpts {
  N: number;
  C: number;
  /** dx += … instead of dx = … (dx is the residual-stream gradient). */
  accumulate?: boolean;
  /** dw += …, db += … instead of writing them. */
  accumulateParams?: boolean;
  /** Cap on row workgroups per dispatch (rows are grid-strided beyond it); tests lower it. */
  maxGroups?: number;
}

function checkDims(kernel: string, N: number, C: number) {
  shapeCheck(Number.isInteger(N) && N >= 1 && Number.isInteger(C) && C >= 1, kernel, `N and C must be positive integers, got N=${N} C=${C}`);
  shapeCheck(cdiv(C, WG) <= MAX_GROUPS, kernel, `C=${C} too large (at most ${MAX_GROUPS * WG})`);
}

/** y = (x − μ)·rstd·w + b per row; saves μ and rstd = 1/√(σ² + eps). */
export function layerNormForward(gpu: Gpu, x: Tensor, w: Tensor, b: Tensor, y: Tensor, mean: Tensor, rstd: Tensor, dims: LayerNormDims) {
  const { N, C, eps = LN_EPS, maxGroups = MAX_GROUPS } = dims;
  const K = 'layernorm';
  checkDims(K, N, C);
  shapeCheck(x.numel === N * C && y.numel === N * C, K, `x and y must be [N=${N}, C=${C}] (${N * C} elements), got x ${x.numel}, y ${y.numel}`);
  shapeCheck(w.numel === C && b.numel === C, K, `w and b must be [C=${C}], got w ${w.numel}, b ${b.numel}`);
  shapeCheck(mean.numel === N && rstd.numel === N, K, `mean and rstd must be [N=${N}], got ${mean.numel}, ${rstd.numel}`);
  shapeCheck(new Set([x, w, b, y, mean, rstd]).size === 6, K, 'all tensors must be distinct (no in-place LayerNorm)');
  const k = gpu.kernel({ shader: 'layernorm_forward', bindings: ['uniform', 'read', 'read', 'read', 'rw', 'rw', 'rw'] });
  gpu.dispatch(k, [x, w, b, y, mean, rstd], [Math.min(N, maxGroups, MAX_GROUPS)], params().u32(N).u32(C).f32(eps));
}

/** Rows per chunk of the dw/db partial sums: ≥ 64, and at most 1024 chunks. */
export function lnRowsPerChunk(N: number): number {
  return Math.max(64, cdiv(N, 1024));
}

/**
 * dx = LayerNorm's input gradient (or dx += it); dw, db = Σ over rows (or +=). Pass null for
 * both dw and db when the LayerNorm parameters are frozen.
 */
export function layerNormBackward(
  gpu: Gpu,
  dy: Tensor,
  x: Tensor,
  w: Tensor,
  mean: Tensor,
  rstd: Tensor,
  dx: Tensor,
  dw: Tensor | null,
  db: Tensor | null,
  opts: LayerNormBackwardOpts,
) {
  const { N, C, accumulate = false, accumulateParams = false, maxGroups = MAX_GROUPS } = opts;
  const K = 'layernorm_backward';
  checkDims(K, N, C);
  shapeCheck(dy.numel === N * C && x.numel === N * C && dx.numel === N * C, K, `dy, x, dx must be [N=${N}, C=${C}], got ${dy.numel}, ${x.numel}, ${dx.numel}`);
  shapeCheck(w.numel === C, K, `w must be [C=${C}], got ${w.numel}`);
  shapeCheck(mean.numel === N && rstd.numel === N, K, `mean and rstd must be [N=${N}], got ${mean.numel}, ${rstd.numel}`);
  shapeCheck((dw === null) === (db === null), K, 'pass both dw and db, or neither');
  shapeCheck(![dy, x, w, mean, rstd].includes(dx), K, 'dx must not alias an input (WebGPU forbids a buffer bound read and read-write)');
  const kx = gpu.kernel({ shader: 'layernorm_backward', bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'rw'] });
  gpu.dispatch(kx, [dy, x, w, mean, rstd, dx], [Math.min(N, maxGroups, MAX_GROUPS)], params().u32(N).u32(C).u32(accumulate ? 1 : 0));
  if (!dw || !db) return;
  shapeCheck(dw.numel === C && db.numel === C && dw !== db, K, `dw and db must be distinct [C=${C}] tensors, got ${dw.numel}, ${db.numel}`);
  shapeCheck(![dy, x, mean, rstd, dx].includes(dw) && ![dy, x, mean, rstd, dx].includes(db), K, 'dw/db must not alias another argument');
  const rows = lnRowsPerChunk(N);
  const chunks = cdiv(N, rows);
  const partials = gpu.tensor([chunks, 2, C], undefined, 'layernorm-param-partials');
  const kp = gpu.kernel({ shader: 'layernorm_param_grad_partial', bindings: ['uniform', 'read', 'read', 'read', 'read', 'rw'] });
  gpu.dispatch(kp, [dy, x, mean, rstd, partials], [cdiv(C, WG), chunks], params().u32(N).u32(C).u32(rows));
  const kf = gpu.kernel({ shader: 'layernorm_param_grad_final', bindings: ['uniform', 'read', 'rw', 'rw'] });
  gpu.dispatch(kf, [partials, dw, db], [cdiv(C, WG)], params().u32(C).u32(chunks).u32(accumulateParams ? 1 : 0));
  // Safe to pool now: any later use of this buffer is recorded (and runs) after these dispatches.
  gpu.release(partials);
}
