// Finite-difference checks of float64 references whose bound comes from the differences'
// own error estimate, so that it follows the function's curvature instead of a fixed number.
import type { Metric } from './check';
import { centralDifference, fdCoordinates, relErr } from './check';
import type { Rng } from '../util/rng';

/**
 * A reference's gradient vs central differences, with a bound from the differences' own
 * error. Central differences at step h are off by ≈ h²f‴/6 (plus ~1e-16·|f|/h rounding);
 * where f‴ is large (NTK-Attention's signed denominators φ(q)ᵀk̃ with taylor2 and identity
 * k̃; LayerNorm rows whose spread is near √eps) a fixed bound fails by chance. So: compare with the Richardson value
 * (4·FD(h) − FD(2h))/3, whose truncation is O(h⁴), and allow ‖FD(h) − FD(2h)‖ (≈ 3× FD(h)'s
 * truncation, far above the Richardson value's) plus 1e-8 for rounding, relative to ‖FD‖.
 * The allowance depends only on f, never on the gradient checked, so a wrong gradient
 * (relative error O(1)) cannot loosen it; it is ~1e-9 on most draws.
 */
export function fdMetric(what: string, f: (x: Float64Array) => number, x0: Float64Array, grad: ArrayLike<number>, rng: Rng, count = 24, h = 1e-5): Metric {
  const x = Float64Array.from(x0);
  const idx = fdCoordinates(x.length, rng, count);
  const fd1 = idx.map((i) => centralDifference(f, x, i, h));
  const fd2 = idx.map((i) => centralDifference(f, x, i, 2 * h));
  const rich = fd1.map((a, k) => (4 * a - fd2[k]) / 3);
  const an = idx.map((i) => grad[i]);
  const norm = (a: number[]) => Math.sqrt(a.reduce((acc, v) => acc + v * v, 0));
  const ref = norm(rich) || 1;
  return { what, err: relErr(an, rich), bound: 1e-8 + norm(fd1.map((a, k) => a - fd2[k])) / ref };
}
