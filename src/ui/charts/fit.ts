// Power-law fits y ≈ c·x^slope by ordinary least squares on (log10 x, log10 y).

export interface PowerLawFit {
  /** Exponent: the slope of the line on log-log axes. */
  slope: number;
  /** log10 c, the line's value at x = 1. */
  intercept: number;
  /** Coefficient of determination on log-log (1 when every point is on the line). */
  r2: number;
  /** How many (x, y) pairs were usable (both positive and finite). */
  n: number;
}

/** Least-squares power-law fit. Pairs with a non-positive or non-finite coordinate cannot
 *  sit on log axes and are skipped. Returns null when fewer than two distinct x remain
 *  (the slope is undefined). */
export function fitPowerLaw(xs: readonly number[], ys: readonly (number | null)[]): PowerLawFit | null {
  if (xs.length !== ys.length) throw new Error(`fitPowerLaw: ${xs.length} x values but ${ys.length} y values`);
  const lx: number[] = [];
  const ly: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    const y = ys[i];
    if (y === null || !(x > 0) || !(y > 0) || !Number.isFinite(x) || !Number.isFinite(y)) continue;
    lx.push(Math.log10(x));
    ly.push(Math.log10(y));
  }
  const n = lx.length;
  if (n < 2) return null;
  // Centre first: the two-pass form stays accurate when all x are large and close together.
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += lx[i];
    my += ly[i];
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = lx[i] - mx;
    const dy = ly[i] - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (!(sxx > 1e-300)) return null;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let ssRes = 0;
  for (let i = 0; i < n; i++) {
    const r = ly[i] - (intercept + slope * lx[i]);
    ssRes += r * r;
  }
  const r2 = syy > 0 ? 1 - ssRes / syy : 1;
  return { slope, intercept, r2, n };
}

/** The fitted curve's value at x. */
export function powerLawAt(fit: PowerLawFit, x: number): number {
  return 10 ** (fit.intercept + fit.slope * Math.log10(x));
}

/** "−0.98" style slope text (a true minus sign, two decimals). */
export function formatSlope(slope: number): string {
  const s = slope.toFixed(2);
  return s.startsWith('-') ? `\u2212${s.slice(1)}` : s;
}
