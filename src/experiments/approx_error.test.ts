// The approximation-error experiment on the GPU, small: the pipeline against float64
// references, the paper's trend for the closed form, training lowering the error, and the
// robust parameterisation's chain rule against finite differences.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeGpu } from '../gpu/node';
import type { Gpu, Tensor } from '../gpu/runtime';
import { relErr } from '../kernels/check';
import { featureDim, ntkAttentionRef, ntkFromPrefixRef } from '../kernels/ntk_attention.ref';
import { prefixAttentionRef } from '../kernels/prefix_attention.ref';
import { add } from '../kernels/residual';
import { freshSeed, Rng } from '../util/rng';
import { makeSetup, replicateSeed, slicePrefix } from './approx_data';
import { runApproxError, type ApproxPoint } from './approx_error';
import { overfitPoints, trainRatio } from './approx_points';
import { ntkBackward, ntkForward, robustBackward, robustForward } from './approx_ntk';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await createNodeGpu();
});
afterAll(() => gpu?.destroy());

const seed = freshSeed();

function norm(a: ArrayLike<number>, b: ArrayLike<number>): { l2: number; max: number } {
  let s = 0;
  let mx = 0;
  for (let i = 0; i < a.length; i++) {
    const e = a[i] - b[i];
    s += e * e;
    mx = Math.max(mx, Math.abs(e));
  }
  return { l2: Math.sqrt(s), max: mx };
}

describe(`approximation-error experiment (seed ${seed})`, () => {
  it('closed-form points match a float64 recomputation of T, Y0 and Y from the same data', async () => {
    const cfg = { d: 5, L: 6, heads: 2, evalSeqs: 2, trainSeqs: 1, bound: 1.5, prefix: 'direct' as const, maxM: 5, methods: ['closed' as const], maps: ['elu1' as const, 'taylor2' as const], seeds: 1, seed };
    const streamed: ApproxPoint[] = [];
    const progress: number[] = [];
    const res = await runApproxError(gpu, cfg, { onPoint: (p) => streamed.push(p), onProgress: (p) => progress.push(p.done / p.total) });
    expect(res.points.map((p) => p.m)).toEqual([1, 1, 2, 2, 4, 4, 5, 5]); // powers of two, then maxM
    expect(streamed).toEqual(res.points);
    expect(progress[progress.length - 1]).toBeCloseTo(1, 6);
    expect(JSON.parse(JSON.stringify(res)).points.length).toBe(8); // plain JSON

    const { d, L, heads: H } = cfg;
    const s = makeSetup(cfg, replicateSeed(seed, 0), 5);
    const e = s.evalSet;
    const dims = { B: e.n, H, L, d, causal: true };
    const y0 = prefixAttentionRef({ ...e, pk: [], pv: [] }, { ...dims, m: 0 }).o;
    for (const p of res.points) {
      const pk = slicePrefix(s.pk, H, 5, p.m, d);
      const pv = slicePrefix(s.pv, H, 5, p.m, d);
      const t = prefixAttentionRef({ ...e, pk, pv }, { ...dims, m: p.m });
      const { z, k } = ntkFromPrefixRef(pk, pv, H, p.m, d, p.map);
      const y = ntkAttentionRef(e.q, e.k, e.v, z, k, { ...dims, featureMap: p.map, kParam: 'identity' }).o;
      const err = norm(t.o, y);
      const eff = norm(t.o, y0);
      // float32 kernels vs float64: 1e-5-level rounding against errors of 1e-3 and up.
      expect(p.rel!).toBeCloseTo(err.l2 / eff.l2, 3);
      expect(Math.abs(p.maxAbs! - err.max)).toBeLessThan(1e-4 + 1e-3 * err.max);
      expect(p.beta).toBeCloseTo(t.beta.reduce((a, b) => a + b, 0) / t.beta.length, 5);
    }
  });

  it("the paper's trend: closed-form taylor2 error relative to the prefix's effect falls from m = 1 to the largest m", async () => {
    // Bounded scores (B = 2), values with a shared mean. At m = 1 the error is Taylor-2's
    // error at one key, |e^t − (1 + t + t²/2)|/e^t, ~0.1 for |t| ~ 1; at large m the prefix
    // dominates both T and Y (β → 1) and what remains is the shift of the weighted mean of
    // the values, a floor of ~0.03. With one key per head, rel(1) depends on how long that
    // key happens to be, so 16 heads (16 independent keys) aggregate into each seed's
    // number: over 30 seeds rel(1) ranged 0.067-0.18, rel(512) 0.024-0.036 and the ratio
    // rel(512)/rel(1) at most 0.47. The asserted ratio 0.75 leaves 1.6x on the worst
    // seen; rel(512) < 0.1 leaves ~3x. Zeroed (Z, k) give Y = Y0: rel = 1 at every m, and
    // both assertions fail.
    const maxM = 512;
    const res = await runApproxError(gpu, { d: 8, L: 16, heads: 16, evalSeqs: 2, trainSeqs: 1, bound: 2, maxM, methods: ['closed'], maps: ['taylor2'], seeds: 3, seed });
    for (let s = 0; s < 3; s++) {
      const pts = res.points.filter((p) => p.seed === s).sort((a, b) => a.m - b.m);
      const first = pts[0];
      const last = pts[pts.length - 1];
      expect([first.m, last.m]).toEqual([1, maxM]);
      expect(last.rel!).toBeLessThan(0.75 * first.rel!);
      expect(last.rel!).toBeLessThan(0.1);
      // The prefix's share of attention grows with m (it only adds positive weight).
      for (let i = 1; i < pts.length; i++) expect(pts[i].beta).toBeGreaterThan(pts[i - 1].beta);
    }
    const fit = res.fits.find((f) => f.method === 'closed' && f.map === 'taylor2')!;
    expect(fit.all.slope).toBeLessThan(0);
    expect(res.summary.filter((r) => r.method === 'closed').length).toBe(10); // m = 1 … 512
  });

  it('training lowers the training error from its initialisation (paper and robust parameterisations)', async () => {
    // Both start at Z = 0 with a small attention sink (Y ≈ Y0, rel ≈ 1). 100 full-batch Adam
    // steps (lr 0.05) at m ≤ 2 took the training MSE to 0.3-18% of its start over 16 seeds
    // × 8 points (777, 1793000204, 12345, 1, 11 … 333); the bound 0.5 fails if the gradient has the wrong
    // sign or never reaches (Z, k). The evaluation error is only required to be finite: with
    // 2 training sequences taylor2's 1,168 Z entries can overfit (seed 777 left one point's
    // evaluation error at 3× its start while its training MSE fell to 2%).
    const res = await runApproxError(gpu, { d: 8, L: 16, heads: 2, evalSeqs: 2, trainSeqs: 2, trainMaxM: 2, steps: 100, lr: 0.05, methods: ['paper', 'robust'], maps: ['elu1', 'taylor2'], seeds: 1, seed });
    expect(res.points.length).toBe(2 * 2 * 2);
    for (const p of res.points) {
      const tag = `${p.method}/${p.map} m=${p.m}`;
      expect(p.initRel!, tag).toBeGreaterThan(0.9);
      expect(p.initRel!, tag).toBeLessThan(1.1);
      expect(p.initTrainLoss!, tag).toBeGreaterThan(0);
      expect(p.trainLoss!, tag).toBeLessThan(0.5 * p.initTrainLoss!);
      expect(Number.isFinite(p.rel!), tag).toBe(true);
    }
  });
});

describe('overfitting flag', () => {
  const point = (p: Partial<ApproxPoint>): ApproxPoint => ({ seed: 1, m: 4, method: 'paper', map: 'taylor2', rel: 1.2, maxAbs: 0.1, relTarget: 0.1, effect: 0.5, beta: 0.3, initRel: 1, initTrainLoss: 1, trainLoss: 0.1, ms: 1, ...p });
  it('flags points that fit the training set but end worse on evaluation, and nothing else', () => {
    expect(overfitPoints([point({})]).length).toBe(1);
    expect(overfitPoints([point({ rel: 0.9 })]).length).toBe(0); // evaluation improved
    expect(overfitPoints([point({ trainLoss: 0.8 })]).length).toBe(0); // did not fit: a training problem, not overfitting
    expect(overfitPoints([point({ method: 'closed', initRel: undefined, initTrainLoss: undefined, trainLoss: undefined })]).length).toBe(0);
    expect(trainRatio(point({ trainLoss: 0.25, initTrainLoss: 0.5 }))).toBe(0.5);
    expect(trainRatio(point({ trainLoss: null }))).toBeNull();
  });
});

describe(`robust parameterisation gradients (seed ${seed})`, () => {
  it('k = e^κ, Z = diag(k)·W̃: ∂ℓ/∂W̃ and ∂ℓ/∂κ on the GPU match float64 finite differences', async () => {
    // ℓ = ½‖Y − T‖² through the float64 reference; the GPU runs the sequence train() runs.
    const rng = new Rng(seed);
    const B = 1, H = 2, L = rng.int(2, 4), d = 3;
    for (const map of ['elu1', 'taylor2'] as const) {
      const r = featureDim(map, d);
      const nK = H * r, nZ = nK * d, nY = B * H * L * d;
      const [q, k, v, T] = [0, 1, 2, 3].map(() => rng.normals(nY));
      const W = rng.normals(nZ, 0.5);
      const kap = rng.normals(nK, 0.3);
      const dims = { B, H, L, d, featureMap: map, kParam: 'exp' as const, causal: true };
      const loss = (W: Float64Array, kap: Float64Array) => {
        const z = W.map((x, i) => Math.exp(kap[Math.floor(i / d)]) * x);
        const y = ntkAttentionRef(q, k, v, z, kap, dims).o;
        return y.reduce((s, yi, i) => s + 0.5 * (yi - T[i]) ** 2, 0);
      };
      const ts: Tensor[] = [];
      const t = (n: number, x?: Float64Array) => {
        const a = gpu.tensor([n], x ? Float32Array.from(x) : undefined);
        ts.push(a);
        return a;
      };
      const set = { q: t(nY, q), k: t(nY, k), v: t(nY, v) };
      const [w, kappa, kt, z, negT] = [t(nZ, W), t(nK, kap), t(nK), t(nZ), t(nY, T.map((x) => -x))];
      const [y, stats, dO, gw] = [t(nY), t(2 * B * H * L), t(nY), t(nZ)];
      const g = { dq: t(nY), dk: t(nY), dv: t(nY), dz: t(nZ), dkappa: t(nK) };
      const run = { B, H, L, d, map, kParam: 'exp' as const };
      robustForward(gpu, kappa, kt, w, z, { H, r, d });
      ntkForward(gpu, set, z, kappa, y, stats, run);
      add(gpu, y, negT, dO);
      ntkBackward(gpu, set, z, kappa, y, stats, dO, g, run);
      robustBackward(gpu, kt, w, g.dz, gw, g.dkappa, { H, r, d });
      const [gW, gK] = [await gpu.read(gw), await gpu.read(g.dkappa)];
      gpu.release(...ts);
      const h = 1e-5;
      const fd = (x: Float64Array, i: number, f: (x: Float64Array) => number) => {
        const a = x.slice(), b = x.slice();
        a[i] += h;
        b[i] -= h;
        return (f(a) - f(b)) / (2 * h);
      };
      const fdW = Float64Array.from(W, (_, i) => fd(W, i, (x) => loss(x, kap)));
      const fdK = Float64Array.from(kap, (_, i) => fd(kap, i, (x) => loss(W, x)));
      // float32 forward/backward vs central differences in float64: ~1e-6 relative.
      expect(relErr(gW, fdW), `${map} dW~`).toBeLessThan(1e-4);
      expect(relErr(gK, fdK), `${map} dkappa`).toBeLessThan(1e-4);
    }
  });
});
