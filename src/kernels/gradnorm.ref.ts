// float64 reference for global gradient-norm clipping: norm = sqrt(Σ over every tensor of
// Σ g²), scale = min(1, maxNorm/(norm + 1e-6)); maxNorm ≤ 0 (or not finite) means no
// clipping (scale 1), as in the run config's `gradClip: 0 = off`.

export const CLIP_EPS = 1e-6;

export function gradNormScaleRef(grads: ArrayLike<number>[], maxNorm: number): { norm: number; scale: number } {
  let ss = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) ss += g[i] * g[i];
  const norm = Math.sqrt(ss);
  const clip = maxNorm > 0 && Number.isFinite(maxNorm);
  return { norm, scale: clip ? Math.min(1, maxNorm / (norm + CLIP_EPS)) : 1 };
}

/** x·s: what scaleByScalar computes (the clip scale applied to a tensor). */
export function scaleRef(x: ArrayLike<number>, s: number): Float64Array {
  return Float64Array.from(x, (a) => a * s);
}
