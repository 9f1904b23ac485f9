// Power-law fits y ≈ c·x^slope by ordinary least squares on (log10 x, log10 y).
import { fitLine } from '../../experiments/stats';

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
  // The experiments' least-squares line (one implementation for tables and charts).
  const f = fitLine(lx, ly);
  if (!Number.isFinite(f.slope)) return null;
  // All y equal: the flat line fits every point exactly.
  return { slope: f.slope, intercept: f.intercept, r2: Number.isFinite(f.r2) ? f.r2 : 1, n: f.n };
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
