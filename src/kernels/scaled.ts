// Errors measured against rounding scales (the ...Scale arrays some references return):
// max over elements of |got − ref| / scale, so each element is judged by what float32
// rounding could do to it, not by a total that may cancel to near 0.

/** 2⁻²⁴: float32's unit roundoff. Bounds on scaled errors are written as multiples of it. */
export const U32 = 2 ** -24;

/**
 * max_i |got_i − ref_i| / scale_i; Infinity on a length mismatch or any non-finite value in
 * `got`, and on any difference where the scale is 0 (nothing there may differ).
 */
export function scaledErr(got: ArrayLike<number>, ref: ArrayLike<number>, scale: ArrayLike<number>): number {
  if (got.length !== ref.length || scale.length !== ref.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    if (!Number.isFinite(got[i])) return Infinity;
    const diff = Math.abs(got[i] - ref[i]);
    if (diff === 0) continue;
    worst = Math.max(worst, scale[i] > 0 ? diff / scale[i] : Infinity);
  }
  return worst;
}
