// The kernel-check helpers (check.ts, fd.ts, scaled.ts) on the CPU: they decide whether a
// kernel check passes, so a helper that always passed would hide every kernel bug. Small
// hand-worked cases; what mutation testing of these files runs.
import { describe, expect, it } from 'vitest';
import type { Gpu } from '../gpu/runtime';
import { Rng } from '../util/rng';
import {
  centralDifference,
  compare,
  dot,
  fdCheck,
  fdCoordinates,
  formatOutcome,
  maxAbsErr,
  poisoned,
  relErr,
  roundF32,
  runCheck,
  toF32,
  type KernelCheck,
  type Metric,
} from './check';
import { fdMetric } from './fd';
import { U32, scaledErr } from './scaled';

describe('check.ts helpers', () => {
  it('relErr: ‖a−b‖/‖b‖, ‖a‖ when b = 0, Infinity on a length mismatch or a non-finite a', () => {
    expect(relErr([3, 4], [0, 0])).toBe(5);
    expect(relErr([1, 2], [1, 4])).toBeCloseTo(2 / Math.sqrt(17), 15);
    expect(relErr([1, 2], [1, 2, 3])).toBe(Infinity);
    expect(relErr([1, NaN], [1, 2])).toBe(Infinity);
    expect(relErr([Infinity, 2], [1, 2])).toBe(Infinity);
    expect(relErr([], [])).toBe(0);
  });

  it('maxAbsErr: the largest |a−b|, Infinity on a mismatch or a non-finite a', () => {
    expect(maxAbsErr([1, -3, 2], [1.5, 1, 2.5])).toBe(4);
    expect(maxAbsErr([1], [1, 2])).toBe(Infinity);
    expect(maxAbsErr([1, NaN], [1, 2])).toBe(Infinity);
    expect(maxAbsErr([], [])).toBe(0);
  });

  it('compare: the relative error with a default bound of 1e-5; toF32 / roundF32 round to float32', () => {
    expect(compare('x', [2], [1])).toEqual({ what: 'x', err: 1, bound: 1e-5 });
    expect(compare('x', [1], [1], 3).bound).toBe(3);
    expect(toF32([0.1])).toBeInstanceOf(Float32Array);
    expect(toF32([0.1])[0]).toBe(Math.fround(0.1));
    const r = roundF32([0.1, 1 / 3]);
    expect(r).toBeInstanceOf(Float64Array);
    expect(Array.from(r)).toEqual([Math.fround(0.1), Math.fround(1 / 3)]);
  });

  it('poisoned: a tensor of the shape, filled with NaN', () => {
    const calls: unknown[][] = [];
    const t = { shape: [2, 3] };
    const gpu = {
      tensor: (...a: unknown[]) => (calls.push(['tensor', ...a]), t),
      fill: (...a: unknown[]) => calls.push(['fill', ...a]),
    } as unknown as Gpu;
    expect(poisoned(gpu, [2, 3], 'o')).toBe(t);
    expect(calls[0]).toEqual(['tensor', [2, 3], undefined, 'o']);
    expect(calls[1][0]).toBe('fill');
    expect(calls[1][1]).toBe(t);
    expect(calls[1][2]).toBeNaN();
    poisoned(gpu, [1]);
    expect(calls[2][3]).toBe('out');
  });

  it('centralDifference is exact for a quadratic and leaves x as it was; dot is Σ a·b', () => {
    const x = Float64Array.from([1, -2, 3]);
    const f = (p: Float64Array) => p[0] * p[0] + 3 * p[1] - p[2] * p[1];
    expect(centralDifference(f, x, 0, 0.5)).toBeCloseTo(2, 12);
    expect(centralDifference(f, x, 1, 0.5)).toBeCloseTo(0, 12);
    expect(centralDifference(f, x, 2, 0.25)).toBeCloseTo(2, 12);
    expect(Array.from(x)).toEqual([1, -2, 3]);
    expect(dot([1, 2, 3], [4, -5, 6])).toBe(12);
  });

  it('fdCoordinates: every coordinate up to count, else count drawn in range', () => {
    expect(fdCoordinates(3, new Rng(1), 3)).toEqual([0, 1, 2]);
    expect(fdCoordinates(2, new Rng(1), 5)).toEqual([0, 1]);
    const idx = fdCoordinates(50, new Rng(1), 7);
    expect(idx.length).toBe(7);
    expect(idx.every((i) => Number.isInteger(i) && i >= 0 && i < 50)).toBe(true);
    expect(new Set(fdCoordinates(4, new Rng(2), 3).concat(fdCoordinates(1000, new Rng(2), 200))).size).toBeGreaterThan(50);
  });

  it('fdCheck: ~0 for the right gradient, O(1) for a wrong one', () => {
    const f = (p: Float64Array) => p[0] * p[0] + 3 * p[1];
    const x = Float64Array.from([1.5, 2]);
    expect(fdCheck(f, x, [3, 3], new Rng(1))).toBeLessThan(1e-9);
    expect(fdCheck(f, x, [3, -3], new Rng(1))).toBeGreaterThan(0.5);
    expect(fdCheck(f, x, [3, 3], new Rng(1), 24, 0.5)).toBeLessThan(1e-12);
  });
});

describe('fdMetric (fd.ts)', () => {
  it('the right gradient passes with a small bound, a wrong one fails it', () => {
    const f = (p: Float64Array) => Math.sin(p[0]) * p[1] + Math.exp(p[2]);
    const x = Float64Array.from([0.3, -1.2, 0.5]);
    const grad = [Math.cos(0.3) * -1.2, Math.sin(0.3), Math.exp(0.5)];
    const m = fdMetric('g', f, x, grad, new Rng(1));
    expect(m.what).toBe('g');
    expect(m.err).toBeLessThan(1e-9);
    expect(m.bound).toBeGreaterThan(1e-8);
    expect(m.bound).toBeLessThan(1e-6);
    expect(m.err).toBeLessThan(m.bound);
    const bad = fdMetric('g', f, x, [grad[0], grad[1], grad[2] * 1.01], new Rng(1));
    expect(bad.err).toBeGreaterThan(bad.bound);
    expect(Array.from(x)).toEqual([0.3, -1.2, 0.5]);
  });

  it('the bound follows the curvature: ‖FD(h) − FD(2h)‖/‖Richardson‖ + 1e-8', () => {
    // f = x³ at x = 1, h = 0.1: FD(h) = 3 + h², FD(2h) = 3 + 4h², Richardson = 3 exactly.
    const m = fdMetric('cube', (p) => p[0] ** 3, Float64Array.from([1]), [3], new Rng(1), 24, 0.1);
    expect(m.err).toBeLessThan(1e-12);
    expect(m.bound).toBeCloseTo(1e-8 + 0.03 / 3, 10);
    // A zero gradient everywhere: the norm falls back to 1.
    const z = fdMetric('flat', () => 7, Float64Array.from([1, 2]), [0, 0], new Rng(1));
    expect(z.err).toBe(0);
    expect(z.bound).toBe(1e-8);
  });
});

describe('runCheck and formatOutcome', () => {
  const check = (metrics: Metric[] | (() => never)): KernelCheck => ({
    kernel: 'k',
    name: 'n',
    gpu: false,
    async run(_gpu, rng) {
      expect(rng).toBeInstanceOf(Rng);
      if (typeof metrics === 'function') return metrics();
      return metrics;
    },
  });

  it('passes when every error is finite and within its bound; fails otherwise or with no metrics', async () => {
    expect((await runCheck(check([{ what: 'a', err: 1e-6, bound: 1e-5 }, { what: 'b', err: 1e-5, bound: 1e-5 }]), null, 3)).pass).toBe(true);
    expect((await runCheck(check([{ what: 'a', err: 2e-5, bound: 1e-5 }]), null, 3)).pass).toBe(false);
    expect((await runCheck(check([{ what: 'a', err: NaN, bound: Infinity }]), null, 3)).pass).toBe(false);
    expect((await runCheck(check([{ what: 'a', err: Infinity, bound: Infinity }]), null, 3)).pass).toBe(false);
    expect((await runCheck(check([{ what: 'a', err: 0, bound: 1 }, { what: 'b', err: 2, bound: 1 }]), null, 3)).pass).toBe(false);
    expect((await runCheck(check([]), null, 3)).pass).toBe(false);
    const o = await runCheck(check([{ what: 'a', err: 0, bound: 1 }]), null, 42);
    expect(o).toMatchObject({ kernel: 'k', name: 'n', seed: 42, pass: true });
    expect(o.error).toBeUndefined();
    // ms is the check's own duration: within the time around the call.
    const before = performance.now();
    const timed = await runCheck(check([]), null, 1);
    expect(timed.ms).toBeGreaterThanOrEqual(0);
    expect(timed.ms).toBeLessThanOrEqual(performance.now() - before);
  });

  it('the seed reaches the check as its Rng', async () => {
    let first = 0;
    const c: KernelCheck = { kernel: 'k', name: 'n', gpu: false, run: async (_g, rng) => ((first = rng.next()), []) };
    await runCheck(c, null, 7);
    expect(first).toBe(new Rng(7).next());
  });

  it('a throwing check fails with its stack; formatOutcome names kernel, check, seed and every metric', async () => {
    const err = new Error('boom');
    const before = performance.now();
    const o = await runCheck(check(() => { throw err; }), null, 5);
    expect(o.ms).toBeLessThanOrEqual(performance.now() - before);
    expect(o.error).toBe(err.stack);
    // Something thrown that is not an Error: its text.
    expect((await runCheck(check(() => { throw 'plain'; }), null, 5)).error).toBe('plain');
    expect(o.pass).toBe(false);
    expect(o.metrics).toEqual([]);
    expect(o.error).toContain('boom');
    expect(formatOutcome(o)).toMatch(/^FAIL k \/ n \[seed 5\] \n.*boom/);
    const ok = await runCheck(check([{ what: 'dq', err: 1.234e-7, bound: 1e-5 }, { what: 'dk', err: 0, bound: 2e-6 }]), null, 9);
    expect(formatOutcome(ok)).toBe('PASS k / n [seed 9] dq: 1.23e-7 (bound 1e-5); dk: 0.00e+0 (bound 2e-6)');
  });
});

describe('scaledErr (scaled.ts)', () => {
  it('max |got − ref| / scale; 0 where equal; Infinity on a mismatch, a non-finite got or a difference at scale 0', () => {
    expect(U32).toBe(1 / 16777216);
    expect(scaledErr([1, 2.5, 3], [1, 2, 3.5], [1, 0.25, 2])).toBe(2);
    expect(scaledErr([1, 2], [1, 2], [0, 0])).toBe(0);
    expect(scaledErr([1, 2.1], [1, 2], [0, 0])).toBe(Infinity);
    expect(scaledErr([1, 2], [1, 2, 3], [1, 1, 1])).toBe(Infinity);
    expect(scaledErr([1, 2], [1, 2], [1])).toBe(Infinity);
    expect(scaledErr([1, 2, 3], [1, 2], [1, 1])).toBe(Infinity);
    // A negative scale is no scale: any difference there is Infinity.
    expect(scaledErr([1.5], [1], [-1])).toBe(Infinity);
    expect(scaledErr([1, NaN], [1, 2], [1, 1])).toBe(Infinity);
    expect(scaledErr([], [], [])).toBe(0);
  });
});
