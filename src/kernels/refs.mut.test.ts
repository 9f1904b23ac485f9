// The float64 references checked on the CPU, without a GPU: hand-worked values for the
// small references and index maps written as nested loops (refs.cpu.test.ts runs the
// CPU-only kernel checks: references vs finite differences). The GPU checks compare kernels
// with these references, so a wrong reference would make a wrong kernel pass; these tests
// are what mutation testing of src/kernels/*.ref.ts runs (fast: no kernel registry).
import { describe, expect, it } from 'vitest';
import { addBackwardRef, addRef } from './residual.ref';
import { geluBackwardRef, geluRef } from './gelu.ref';
import { CLIP_EPS, gradNormScaleRef, scaleRef } from './gradnorm.ref';
import { metricsRef } from './metrics.ref';
import { matmulRef } from './matmul.ref';
import { adamwRef } from './adamw.ref';
import { embeddingBackwardRef, embeddingRef } from './embedding.ref';
import { crossEntropyRef } from './crossentropy.ref';
import { permuteQkvBackwardRef, permuteQkvRef, unpermuteBackwardRef, unpermuteRef } from './permute.ref';
import { layerNormBackwardRef, layerNormRef } from './layernorm.ref';
import { LN_EPS } from './layernorm';

const close = (got: ArrayLike<number>, want: number[], tol = 1e-12) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(got[i] - w), `element ${i}: ${got[i]} vs ${w}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(w))));
};

describe('small references, hand-worked', () => {
  it('residual: a + b, and the identity backward into both (separate arrays)', () => {
    close(addRef([1, 2.5], [3, -5]), [4, -2.5]);
    const { da, db } = addBackwardRef([1, -2]);
    close(da, [1, -2]);
    close(db, [1, -2]);
    expect(da).not.toBe(db);
  });

  it('gelu (tanh form): known values; backward = dy · derivative (central differences)', () => {
    close(geluRef([0, 1, -1, 2, -3]), [0, 0.8411919906082768, -0.15880800939172324, 1.9545976940871754, -0.0036373920817729943], 1e-12);
    // Far left, where 1 + tanh u cancels: x·σ(2u) with σ(2u) ≈ e^{2u} (relative 1e-12 here).
    const u = Math.sqrt(2 / Math.PI) * (-7 - 0.044715 * 343);
    expect(Math.abs(geluRef([-7])[0] / (-7 * Math.exp(2 * u)) - 1)).toBeLessThan(1e-12);
    const x = [-2.5, -0.7, 0, 0.3, 1.9];
    const dy = [1, -2, 0.5, 3, -1];
    const h = 1e-6;
    const fd = x.map((v, i) => (dy[i] * (geluRef([v + h])[0] - geluRef([v - h])[0])) / (2 * h));
    close(geluBackwardRef(x, dy), fd, 1e-8);
  });

  it('gradnorm: norm over every tensor, scale min(1, max/(norm + eps)), off for max ≤ 0 or not finite', () => {
    expect(gradNormScaleRef([[3], [0, 4]], 1)).toEqual({ norm: 5, scale: 1 / (5 + CLIP_EPS) });
    expect(gradNormScaleRef([[3], [-4]], 10)).toEqual({ norm: 5, scale: 1 });
    // Just above the norm the scale is still 1 (the min), just below it is < 1.
    expect(gradNormScaleRef([[3, 4]], 5 + 2 * CLIP_EPS).scale).toBe(1);
    expect(gradNormScaleRef([[3, 4]], 5).scale).toBeLessThan(1);
    for (const off of [0, -1, Infinity, NaN]) expect(gradNormScaleRef([[3, 4]], off)).toEqual({ norm: 5, scale: 1 });
    close(scaleRef([1, -2], 3), [3, -6]);
  });

  it('metrics: Σ(a − b)², Σ b², max |a − b| and the relative error; without b, of a alone', () => {
    expect(metricsRef([1, 2, 0], [1, 4, 1])).toEqual({ sumSq: 5, refSumSq: 18, maxAbs: 2, rel: Math.sqrt(5 / 18) });
    expect(metricsRef([3, -4])).toEqual({ sumSq: 25, refSumSq: 0, maxAbs: 4, rel: 5 });
    expect(metricsRef([0, 0], [0, 0])).toEqual({ sumSq: 0, refSumSq: 0, maxAbs: 0, rel: 0 });
  });

  it('matmul: plain, transposed operands, alpha, bias, accumulate, batches with strides', () => {
    const a = [1, 2, 3, 4, 5, 6]; // [2, 3]
    const b = [1, 0, -1, 2, 3, 1]; // [3, 2]
    close(matmulRef(a, b, { M: 2, N: 2, K: 3 }), [8, 7, 17, 16]);
    // The same product with A given as [3, 2] = Aᵀ and B as [2, 3] = Bᵀ.
    const aT = [1, 4, 2, 5, 3, 6];
    const bT = [1, -1, 3, 0, 2, 1];
    close(matmulRef(aT, b, { M: 2, N: 2, K: 3, transA: true }), [8, 7, 17, 16]);
    close(matmulRef(a, bT, { M: 2, N: 2, K: 3, transB: true }), [8, 7, 17, 16]);
    close(matmulRef(a, b, { M: 2, N: 2, K: 3, alpha: 2, bias: [1, -1] }), [17, 13, 35, 31]);
    close(matmulRef(a, b, { M: 2, N: 2, K: 3, accumulate: true, c: [1, 2, 3, 4] }), [9, 9, 20, 20]);
    // c without accumulate: overwritten where written, kept elsewhere (strideC leaves a gap).
    close(matmulRef([1, 2], [3, 4], { M: 1, N: 1, K: 1, batch: 2, strideA: 1, strideB: 1, strideC: 2, c: [9, 9, 9, 9] }), [3, 9, 8, 9]);
    close(matmulRef([1, 2, 3, 4], [1, 1, 2, 2], { M: 1, N: 1, K: 2, batch: 2 }), [3, 14]);
    // Two batch entries of 1×2 outputs: C is (batch − 1)·strideC + M·N = 4 long.
    close(matmulRef([1, 2], [1, 2, 3, 4], { M: 1, N: 2, K: 1, batch: 2, strideA: 1, strideB: 2 }), [1, 2, 6, 8]);
  });

  it('adamw: one step worked by hand, with weight decay, without, and with a gradient scale', () => {
    const hp = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
    const p = Float64Array.of(1), m = Float64Array.of(0), v = Float64Array.of(0);
    adamwRef(p, [2], m, v, hp, 1, true);
    close(m, [0.2]);
    close(v, [0.004]);
    // m̂ = 0.2/0.1 = 2, v̂ = 0.004/0.001 = 4: p = 1 − 0.1·(2/(2 + 1e-8) + 0.01·1).
    close(p, [1 - 0.1 * (2 / (2 + 1e-8) + 0.01)]);
    // Decay is lr·wd·p: with p = 2 (not 1) it is 0.1·0.01·2.
    const q = Float64Array.of(2);
    adamwRef(q, [2], Float64Array.of(0), Float64Array.of(0), hp, 1, true);
    close(q, [2 - 0.1 * (2 / (2 + 1e-8) + 0.01 * 2)]);
    // Step 2 from there, no decay, gradient scaled by 0.5 (g' = 1).
    const p2 = Float64Array.from(p);
    adamwRef(p2, [2], m, v, hp, 2, false, 0.5);
    close(m, [0.9 * 0.2 + 0.1]);
    close(v, [0.999 * 0.004 + 0.001]);
    const mh = 0.28 / (1 - 0.81), vh = (0.999 * 0.004 + 0.001) / (1 - 0.999 ** 2);
    close(p2, [p[0] - 0.1 * (mh / (Math.sqrt(vh) + 1e-8))]);
  });

  it('embedding: rows of wte plus positions; a token ≥ V gives NaN; backward sums per token and per position', () => {
    const wte = [1, 2, 3, 4]; // V = 2, C = 2
    const wpe = [10, 20, 30, 40, 50, 60];
    close(embeddingRef([1, 0, 0, 1], wte, wpe, 2, 2, 2), [13, 24, 31, 42, 11, 22, 33, 44]);
    const bad = embeddingRef([2], wte, wpe, 1, 1, 2);
    expect([...bad].every(Number.isNaN)).toBe(true);
    const { dwte, dwpe } = embeddingBackwardRef([1, 1, 0, 2], [1, 2, 3, 4, 5, 6, 7, 8], 2, 2, 2, 2, 3);
    close(dwte, [5, 6, 4, 6]);
    close(dwpe, [6, 8, 10, 12, 0, 0]);
  });

  it('cross-entropy: loss and gradient by hand, ignored rows, scale, a target out of range, all ignored', () => {
    const l = [0, Math.log(3), 5, 5];
    const r = crossEntropyRef(l, [0, -1], 2, 2);
    close(r.losses, [Math.log(4), 0]);
    expect(r.count).toBe(1);
    expect(r.mean).toBeCloseTo(Math.log(4), 14);
    close(r.dlogits, [0.25 - 1, 0.75, 0, 0]);
    const s = crossEntropyRef(l, [1, 0], 2, 2, -1, 2);
    close(s.losses, [Math.log(4) - Math.log(3), Math.log(2)]);
    expect(s.mean).toBeCloseTo((Math.log(4 / 3) + Math.log(2)) / 2, 14);
    close(s.dlogits, [0.25, -0.25, -0.5, 0.5].map((v) => v * (2 / 2)));
    // The ignore index is a parameter, and a large logit does not overflow (max subtracted).
    const big = crossEntropyRef([1000, 1000], [7], 1, 2, 7);
    expect(big.count).toBe(0);
    expect(big.mean).toBe(0);
    close(crossEntropyRef([1000, 1000], [1], 1, 2).losses, [Math.log(2)]);
    const oob = crossEntropyRef([0, 0, 0, 0, 0, 0], [0, 2, 0], 3, 2);
    expect(Number.isNaN(oob.losses[1]) && Number.isNaN(oob.mean)).toBe(true);
    expect([...oob.dlogits.slice(2, 4)].every(Number.isNaN)).toBe(true);
    // The valid rows still get their gradients, over the three counted rows.
    close(oob.dlogits.slice(0, 2), [-1 / 6, 1 / 6]);
    close(oob.dlogits.slice(4), [-1 / 6, 1 / 6]);
    expect(Number.isNaN(crossEntropyRef([0, 0], [-2], 1, 2).losses[0])).toBe(true);
  });

  it('permutes: index maps equal the nested-array definitions, and the backwards invert them', () => {
    const dims = { B: 2, T: 3, H: 2, d: 2 };
    const n = 3 * 2 * 3 * 2 * 2;
    const qkv = Float64Array.from({ length: n }, (_, i) => i + 1);
    const { q, k, v } = permuteQkvRef(qkv, dims);
    const at = (b: number, t: number, s: number, h: number, e: number) => qkv[b * 36 + t * 12 + s * 4 + h * 2 + e];
    for (let b = 0; b < 2; b++) for (let h = 0; h < 2; h++) for (let t = 0; t < 3; t++) for (let e = 0; e < 2; e++) {
      const i = b * 12 + h * 6 + t * 2 + e;
      expect([q[i], k[i], v[i]]).toEqual([at(b, t, 0, h, e), at(b, t, 1, h, e), at(b, t, 2, h, e)]);
    }
    expect(permuteQkvBackwardRef(q, k, v, dims)).toEqual(qkv);
    const o = Float64Array.from({ length: 24 }, (_, i) => i + 1);
    const u = unpermuteRef(o, dims);
    for (let b = 0; b < 2; b++) for (let h = 0; h < 2; h++) for (let t = 0; t < 3; t++) for (let e = 0; e < 2; e++) {
      expect(u[b * 12 + t * 4 + h * 2 + e]).toBe(o[b * 12 + h * 6 + t * 2 + e]);
    }
    expect(unpermuteBackwardRef(u, dims)).toEqual(o);
  });

  it('layernorm: a two-element row by hand, its saved statistics and rounding scales', () => {
    const r = 1 / Math.sqrt(1 + LN_EPS);
    const f = layerNormRef([1, 3, -2, -2], [2, -1], [0.5, -0.5], 2, 2);
    close(f.mean, [2, -2]);
    close(f.rstd, [r, 1 / Math.sqrt(LN_EPS)]);
    close(f.y, [-2 * r + 0.5, -r - 0.5, 0.5, -0.5]);
    // n̂'s scale s = (|x| + mean|x|)·r + |x − μ|·r: 4r and 6r in row 0.
    close(f.yScale, [8 * r + 0.5, 6 * r + 0.5, 8 / Math.sqrt(LN_EPS) + 0.5, 4 / Math.sqrt(LN_EPS) + 0.5]);
    close(f.meanScale, [2, 2]);
    // Backward of row 0 with dy = [1, 2]: g = [2, −2], n̂ = [−r, r], Σg = 0, Σ g·n̂ = −4r.
    const g = layerNormBackwardRef([1, 2], [1, 3], [2, -1], 1, 2);
    close(g.dx, [r * (2 - (-r * -4 * r) / 2), r * (-2 - (r * -4 * r) / 2)]);
    close(g.dw, [-r, 2 * r]);
    close(g.db, [1, 2]);
    close(g.dwScale, [4 * r, 12 * r]);
    close(g.dbScale, [1, 2]);
    // dxScale = r·(|g| + mean|g| + s·|mean(g·n̂)| + |n̂|·mean(|g|·s)), mean(|g|·s) = (8r + 12r)/2.
    close(g.dxScale, [r * (2 + 2 + 4 * r * 2 * r + r * 10 * r), r * (2 + 2 + 6 * r * 2 * r + r * 10 * r)]);
  });

  it('layernorm backward of several rows with Σ dy·w ≠ 0 equals central differences of the forward', () => {
    const N = 2, C = 3;
    const x = [0.3, -1.2, 2.0, 1.5, 1.1, -0.4];
    const w = [1.3, -0.7, 0.9];
    const b = [0.1, 0.2, -0.3];
    const dy = [0.5, 1.0, -0.25, 2.0, -1.0, 0.75];
    const loss = (xx: number[], ww: number[], bb: number[]) => layerNormRef(xx, ww, bb, N, C).y.reduce((acc, v, i) => acc + v * dy[i], 0);
    const fd = (v: number[], f: (u: number[]) => number) => v.map((_, i) => {
      const h = 1e-6;
      const p = [...v], m = [...v];
      p[i] += h;
      m[i] -= h;
      return (f(p) - f(m)) / (2 * h);
    });
    const g = layerNormBackwardRef(dy, x, w, N, C);
    close(g.dx, fd(x, (u) => loss(u, w, b)), 1e-7);
    close(g.dw, fd(w, (u) => loss(x, u, b)), 1e-7);
    close(g.db, fd(b, (u) => loss(x, w, u)), 1e-7);
  });
});
