// The fused LM head + cross-entropy reference (lm_head.ref.ts) on the CPU: a hand-worked
// case, the logits written as loops and fed to the (separately tested) cross-entropy
// reference, central differences of the scaled mean loss, and the ignored / invalid rows.
// What mutation testing of lm_head.ref.ts runs (fast, no GPU).
import { describe, expect, it } from 'vitest';
import { centralDifference, relErr } from './check';
import { crossEntropyRef } from './crossentropy.ref';
import { lmHeadRef } from './lm_head.ref';
import { Rng } from '../util/rng';

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-12) => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i] - want[i]), `element ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i])));
  }
};

describe('LM head reference', () => {
  it('hand-worked: N = 2, C = 1, V = 2, scale 0.5', () => {
    // x = [1, −2], wte = [0.5, 3]: logits [0.5, 3] and [−1, −6]; targets 1 and 0.
    const r = lmHeadRef([1, -2], [0.5, 3], [1, 0], 2, 1, 2, -1, 0.5);
    close(r.logits, [0.5, 3, -1, -6]);
    const lse0 = Math.log(Math.exp(0.5) + Math.exp(3)), lse1 = Math.log(Math.exp(-1) + Math.exp(-6));
    close(r.lse, [lse0, lse1]);
    close(r.losses, [lse0 - 3, lse1 + 1]);
    expect(r.count).toBe(2);
    expect(r.mean).toBeCloseTo((lse0 - 3 + lse1 + 1) / 2, 14);
    // g = (softmax − onehot)·0.5/2.
    const p0 = [Math.exp(0.5 - lse0), Math.exp(3 - lse0)], p1 = [Math.exp(-1 - lse1), Math.exp(-6 - lse1)];
    const g = [p0[0] * 0.25, (p0[1] - 1) * 0.25, (p1[0] - 1) * 0.25, p1[1] * 0.25];
    close(r.dx, [g[0] * 0.5 + g[1] * 3, g[2] * 0.5 + g[3] * 3]);
    close(r.dwte, [g[0] * 1 + g[2] * -2, g[1] * 1 + g[3] * -2]);
  });

  it('equals cross-entropy of x·wteᵀ, with dx = g·wte and dwte = gᵀ·x (ignored rows, given ignore index and scale)', () => {
    const rng = new Rng(41);
    const [N, C, V] = [4, 3, 5];
    for (const [targets, ignore, scale] of [[[1, -1, 4, 0], -1, 1], [[3, 3, 2, 9], 9, 2.5], [[0, 1, 2, 3], -1, 1]] as const) {
      const x = rng.normals(N * C), wte = rng.normals(V * C);
      const logits = new Float64Array(N * V);
      for (let n = 0; n < N; n++) for (let v = 0; v < V; v++) for (let c = 0; c < C; c++) logits[n * V + v] += x[n * C + c] * wte[v * C + c];
      const ce = crossEntropyRef(logits, targets, N, V, ignore, scale);
      const r = lmHeadRef(x, wte, targets, N, C, V, ignore, scale);
      close(r.logits, logits);
      close(r.losses, ce.losses);
      expect(r.count).toBe(ce.count);
      expect(Math.abs(r.mean - ce.mean)).toBeLessThan(1e-13);
      for (let n = 0; n < N; n++) {
        let m = -Infinity;
        for (let v = 0; v < V; v++) m = Math.max(m, logits[n * V + v]);
        let s = 0;
        for (let v = 0; v < V; v++) s += Math.exp(logits[n * V + v] - m);
        expect(r.lse[n]).toBeCloseTo(m + Math.log(s), 13);
      }
      const dx = new Float64Array(N * C), dwte = new Float64Array(V * C);
      for (let n = 0; n < N; n++)
        for (let v = 0; v < V; v++)
          for (let c = 0; c < C; c++) {
            dx[n * C + c] += ce.dlogits[n * V + v] * wte[v * C + c];
            dwte[v * C + c] += ce.dlogits[n * V + v] * x[n * C + c];
          }
      close(r.dx, dx);
      close(r.dwte, dwte);
      // And the gradients are those of scale·mean (central differences, every coordinate).
      for (const [what, arr, grad] of [['dx', x, r.dx], ['dwte', wte, r.dwte]] as const) {
        const f = (p: Float64Array) => scale * (what === 'dx' ? lmHeadRef(p, wte, targets, N, C, V, ignore, scale) : lmHeadRef(x, p, targets, N, C, V, ignore, scale)).mean;
        const fd = Array.from(arr, (_, i) => centralDifference(f, arr, i, 1e-5));
        expect(relErr(grad, fd), what).toBeLessThan(1e-7);
      }
    }
  });

  it('every row ignored: count 0, mean 0, zero gradients; an ignored row with infinite x leaves dwte finite', () => {
    const r = lmHeadRef([1, 2], [1, -1], [-1, -1], 2, 1, 2);
    expect(r.count).toBe(0);
    expect(r.mean).toBe(0);
    expect(Array.from(r.dx)).toEqual([0, 0]);
    expect(Array.from(r.dwte)).toEqual([0, 0]);
    close(r.lse, [Math.log(Math.exp(1) + Math.exp(-1)), Math.log(Math.exp(2) + Math.exp(-2))]);
    const inf = lmHeadRef([Infinity, 0.5], [1, -1], [-1, 0], 2, 1, 2);
    expect(Array.from(inf.dwte).every(Number.isFinite)).toBe(true);
    expect(inf.dx[0]).toBe(0);
    expect(inf.count).toBe(1);
  });

  it('a target outside [0, V) or not an integer gives NaN loss, mean and gradient row; other rows stay finite', () => {
    for (const bad of [2, -2, 1.5, NaN]) {
      const r = lmHeadRef([1, 2, -1], [1, -1], [0, bad, 1], 3, 1, 2);
      expect(r.losses[1], `target ${bad}`).toBeNaN();
      expect(r.mean).toBeNaN();
      expect(r.dx[1]).toBeNaN();
      expect(Number.isFinite(r.losses[0]) && Number.isFinite(r.losses[2])).toBe(true);
      expect(r.dx[0]).toBeCloseTo(lmHeadRef([1], [1, -1], [0], 1, 1, 2).dx[0] / 3, 14);
    }
  });

  it('large logits do not overflow (max-shifted)', () => {
    const r = lmHeadRef([1000], [1, 0], [0], 1, 1, 2);
    close(r.lse, [1000]);
    close(r.losses, [0]);
    expect(Array.from(r.dx).every(Number.isFinite)).toBe(true);
  });
});
