// Settings validation of the approximation-error experiment, the sweep's m values, the
// data draw's promises (prefix rows independent of M, the bound B), and the statistics.
import { describe, expect, it } from 'vitest';
import { freshSeed, Rng } from '../util/rng';
import { DEFAULT_APPROX_CONFIG, resolveApproxConfig } from './approx_config';
import { makeSetup, slicePrefix } from './approx_data';
import { sweepFor } from './approx_error';
import { fitPowerLaw, powersOfTwo, spread } from './stats';

const seed = freshSeed();
const rng = new Rng(seed);

describe(`approximation-error settings and data (seed ${seed})`, () => {
  it('defaults resolve, and the sweep covers m = 1, 2, 4, … 2^18 for the closed form', () => {
    const c = resolveApproxConfig();
    expect(c).toEqual({ ...DEFAULT_APPROX_CONFIG, maps: [...DEFAULT_APPROX_CONFIG.maps], methods: [...DEFAULT_APPROX_CONFIG.methods] });
    expect(sweepFor(c, 'closed')).toEqual(Array.from({ length: 19 }, (_, i) => 2 ** i));
    expect(sweepFor(c, 'robust').at(-1)).toBe(c.trainMaxM);
    expect(powersOfTwo(12)).toEqual([1, 2, 4, 8, 12]);
  });

  it('bad settings are refused with a message naming each setting', () => {
    const bad = (p: Parameters<typeof resolveApproxConfig>[0]) => {
      try {
        resolveApproxConfig(p);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('expected a validation error');
    };
    expect(bad({ maxM: 0 })).toMatch(/maxM must be an integer in \[1, 4194304\] \(got 0\)/);
    expect(bad({ steps: 1.5 })).toMatch(/steps must be an integer/);
    expect(bad({ d: 65 })).toMatch(/d must be an integer in \[1, 64\]/);
    expect(bad({ lr: -1 })).toMatch(/lr must be a positive number/);
    expect(bad({ seeds: 0, L: 0 })).toMatch(/L must .*seeds must/s);
    expect(bad({ maps: ['elu1', 'cosine' as never] })).toMatch(/maps: unknown feature map 'cosine'/);
    expect(bad({ methods: [] })).toMatch(/methods: give at least one method/);
    expect(bad({ methods: ['closed', 'closed'] })).toMatch(/methods: listed twice/);
    expect(bad({ prefix: 'random' as never })).toMatch(/prefix must be one of direct, projected/);
    expect(bad({ d: 64, heads: 16, maps: ['taylor2'] })).toMatch(/heads × features \(16 × 4161 for taylor2 at d=64\) exceeds 65535/);
  });

  it('the prefix of length m is the first m rows whatever M is, and |c·q·p| ≤ B for every query', () => {
    const cfg = { d: rng.int(2, 6), L: rng.int(2, 6), heads: 3, evalSeqs: 2, trainSeqs: 1, bound: 0.7, prefix: rng.int(0, 1) ? ('direct' as const) : ('projected' as const) };
    const s = rng.int(0, 1e6);
    const small = makeSetup(cfg, s, 5);
    const big = makeSetup(cfg, s, 13);
    expect(Array.from(slicePrefix(big.pk, 3, 13, 5, cfg.d))).toEqual(Array.from(small.pk));
    expect(Array.from(slicePrefix(big.pv, 3, 13, 5, cfg.d))).toEqual(Array.from(small.pv));
    expect(Array.from(slicePrefix(big.pv, 3, 13, 9, cfg.d, 5)).length).toBe(3 * 4 * cfg.d);
    expect(Array.from(big.evalSet.q)).toEqual(Array.from(small.evalSet.q));
    // Every score of every query (evaluation and training set) against every prefix row.
    const c = 1 / Math.sqrt(cfg.d);
    let worst = 0;
    for (const set of [big.evalSet, big.trainSet])
      for (let b = 0; b < set.n; b++)
        for (let h = 0; h < 3; h++)
          for (let i = 0; i < cfg.L; i++)
            for (let j = 0; j < 13; j++) {
              let t = 0;
              for (let e = 0; e < cfg.d; e++) t += set.q[((b * 3 + h) * cfg.L + i) * cfg.d + e] * big.pk[(h * 13 + j) * cfg.d + e];
              worst = Math.max(worst, Math.abs(c * t));
            }
    expect(worst).toBeLessThanOrEqual(0.7 * (1 + 1e-5));
    expect(big.maxScore).toBeCloseTo(worst, 4);
    // Without the bound, scores of N(0, 1) keys against O(1) queries exceed 0.7.
    expect(makeSetup({ ...cfg, bound: 0 }, s, 13).maxScore).toBeGreaterThan(0.7);
  });

  it('statistics: spread over seeds and power-law slopes', () => {
    const a = rng.normal() * 2;
    const k = Math.exp(rng.normal());
    const xs = [1, 2, 4, 8, 16, 32];
    const fit = fitPowerLaw(xs, xs.map((x) => k * x ** a));
    expect(fit.slope).toBeCloseTo(a, 10);
    expect(fit.intercept).toBeCloseTo(Math.log(k), 10);
    expect(fit.r2).toBeCloseTo(1, 10);
    // Non-positive and non-finite points are left out of the fit.
    expect(fitPowerLaw([1, 2, 4, 8], [1, 0.5, NaN, -1]).n).toBe(2);
    const sp = spread([1, 2, 3, NaN]);
    expect(sp).toEqual({ n: 3, nonFinite: 1, mean: 2, std: 1, min: 1, max: 3 });
  });
});
