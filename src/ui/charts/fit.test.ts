import { describe, expect, it } from 'vitest';
import { Rng, freshSeed } from '../../util/rng';
import { fitPowerLaw, formatSlope, powerLawAt } from './fit';

const seed = freshSeed();

describe(`fitPowerLaw (seed ${seed})`, () => {
  const rng = new Rng(seed);

  it('recovers exponent and prefactor of an exact power law', () => {
    for (let trial = 0; trial < 20; trial++) {
      const slope = rng.uniform(-2, 2);
      const c = 10 ** rng.uniform(-3, 3);
      const n = rng.int(2, 13);
      const xs = Array.from({ length: n }, (_, i) => 2 ** i * rng.uniform(0.9, 1.1));
      const ys = xs.map((x) => c * x ** slope);
      const fit = fitPowerLaw(xs, ys)!;
      expect(fit.slope).toBeCloseTo(slope, 9);
      expect(fit.intercept).toBeCloseTo(Math.log10(c), 8);
      expect(fit.n).toBe(n);
      if (n > 2) expect(fit.r2).toBeCloseTo(1, 9);
      expect(powerLawAt(fit, 3.7) / (c * 3.7 ** slope)).toBeCloseTo(1, 8);
    }
  });

  it('matches the normal equations (raw sums, Cramer) on noisy data', () => {
    for (let trial = 0; trial < 20; trial++) {
      const n = rng.int(3, 31);
      const xs = Array.from({ length: n }, () => 10 ** rng.uniform(0, 4));
      const ys = xs.map((x) => 0.3 * x ** -0.7 * Math.exp(0.4 * rng.normal()));
      // Independent solve: [Σ1 Σu; Σu Σu²] [b; a] = [Σv; Σuv] with u = log10 x, v = log10 y.
      let s1 = 0, su = 0, suu = 0, sv = 0, suv = 0, svv = 0;
      for (let i = 0; i < n; i++) {
        const u = Math.log10(xs[i]);
        const v = Math.log10(ys[i]);
        s1 += 1; su += u; suu += u * u; sv += v; suv += u * v; svv += v * v;
      }
      const det = s1 * suu - su * su;
      const a = (s1 * suv - su * sv) / det;
      const b = (suu * sv - su * suv) / det;
      const fit = fitPowerLaw(xs, ys)!;
      expect(fit.slope).toBeCloseTo(a, 8);
      expect(fit.intercept).toBeCloseTo(b, 8);
      // r² = squared correlation of (u, v) for a simple regression.
      const cov = suv / n - (su / n) * (sv / n);
      const r = cov / Math.sqrt((suu / n - (su / n) ** 2) * (svv / n - (sv / n) ** 2));
      expect(fit.r2).toBeCloseTo(r * r, 8);
      expect(fit.r2).toBeGreaterThanOrEqual(0);
      expect(fit.r2).toBeLessThanOrEqual(1 + 1e-12);
    }
  });

  it('skips points a log axis cannot hold and gives up below two distinct x', () => {
    const fit = fitPowerLaw([0, -1, 1, 2, 4, 8, NaN, 16], [5, 5, 1, 0.5, 0.25, null, 3, -1])!;
    expect(fit.n).toBe(3);
    expect(fit.slope).toBeCloseTo(-1, 12);
    expect(fitPowerLaw([4, 4, 4], [1, 2, 3])).toBeNull();
    expect(fitPowerLaw([4], [1])).toBeNull();
    expect(fitPowerLaw([], [])).toBeNull();
    expect(fitPowerLaw([1, 2], [0, Infinity])).toBeNull();
    expect(() => fitPowerLaw([1, 2], [1])).toThrow(/2 x values but 1 y values/);
  });

  it('is invariant to the scale of y and shifts with the scale of x as a power law must', () => {
    const xs = Array.from({ length: 9 }, () => rng.uniform(1, 1000));
    const ys = xs.map(() => rng.uniform(0.01, 1));
    const f = fitPowerLaw(xs, ys)!;
    const k = rng.uniform(2, 50);
    const fy = fitPowerLaw(xs, ys.map((y) => y * k))!;
    expect(fy.slope).toBeCloseTo(f.slope, 10);
    expect(fy.intercept - f.intercept).toBeCloseTo(Math.log10(k), 10);
    const fx = fitPowerLaw(xs.map((x) => x * k), ys)!;
    expect(fx.slope).toBeCloseTo(f.slope, 10);
  });

  it('formats slopes with a true minus sign', () => {
    expect(formatSlope(-0.4999)).toBe('\u22120.50');
    expect(formatSlope(1.234)).toBe('1.23');
  });
});
