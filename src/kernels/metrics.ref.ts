// float64 reference for the error metrics: [Σ (a − b)², Σ b², max |a − b|] (b absent:
// [Σ a², 0, max |a|]) and the relative error derived from them.
export function metricsRef(a: ArrayLike<number>, b?: ArrayLike<number> | null) {
  let sumSq = 0;
  let refSumSq = 0;
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const bv = b ? b[i] : 0;
    const d = a[i] - bv;
    sumSq += d * d;
    refSumSq += bv * bv;
    maxAbs = Math.max(maxAbs, Math.abs(d));
  }
  return { sumSq, refSumSq, maxAbs, rel: refSumSq > 0 ? Math.sqrt(sumSq / refSumSq) : Math.sqrt(sumSq) };
}
