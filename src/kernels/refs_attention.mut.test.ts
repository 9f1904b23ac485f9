// The attention references (prefix_attention, ntk_attention, attention_decode) checked on
// the CPU without a GPU, against computations of their own: hand-worked d = 1 cases, a
// plain softmax written from the formula (no max shift, small scores only), the identities
// between the references, and central differences of each forward for the backward
// references. The GPU checks compare kernels with these references, so a wrong reference
// would let a wrong kernel pass; these tests are what mutation testing of the attention
// references runs (fast: tiny shapes, no kernel registry).
import { describe, expect, it } from 'vitest';
import { centralDifference, dot, relErr } from './check';
import {
  featureDim,
  kTilde,
  foldedFeatureDim,
  kTildeGrad,
  ntkAttentionBackwardRef,
  ntkAttentionRef,
  ntkFromPrefixRef,
  phi,
  phiVjp,
  phiVjpAbs,
  taylor2FoldRef,
  taylorPrefixAttentionRef,
  type NtkDims,
} from './ntk_attention.ref';
import type { FeatureMapName, KParam } from './ntk_types';
import { attnScale, prefixAttentionBackwardRef, prefixAttentionRef, type PrefixAttentionDims, type PrefixAttentionInputs } from './prefix_attention.ref';
import { attentionDecodeAppendRef, attentionDecodeNtkRef, attentionDecodeRef } from './attention_decode.ref';
import { Rng } from '../util/rng';

const MAPS: FeatureMapName[] = ['elu1', 'taylor2'];
const KPARAMS: KParam[] = ['identity', 'abs', 'exp', 'softplus'];

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-12) => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i] - want[i]), `element ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i])));
  }
};

/** Every coordinate's central difference of f at x (x is left as it was). */
const fdAll = (f: (x: Float64Array) => number, x: Float64Array, h = 1e-5) => Array.from(x, (_, i) => centralDifference(f, x, i, h));
const expectGrad = (what: string, grad: ArrayLike<number>, f: (x: Float64Array) => number, x: Float64Array, tol = 1e-7) => {
  const err = relErr(grad, fdAll(f, x));
  expect(err, `${what}: relative error ${err} against central differences`).toBeLessThan(tol);
};

/** The softmax average Σ e^s v / Σ e^s of (score, value row) pairs, straight from the formula. */
function softmaxAverage(pairs: { s: number; v: number[] }[], d: number) {
  let den = 0;
  const num = new Array<number>(d).fill(0);
  for (const { s, v } of pairs) {
    den += Math.exp(s);
    for (let a = 0; a < d; a++) num[a] += Math.exp(s) * v[a];
  }
  return { o: num.map((x) => x / den), den };
}
const rowOf = (t: ArrayLike<number>, off: number, d: number) => Array.from({ length: d }, (_, a) => t[off + a]);
const dotRows = (a: number[], b: number[]) => a.reduce((acc, x, i) => acc + x * b[i], 0);

// ---------------------------------------------------------------- prefix attention

/** Prefix attention from the formula: per row the prefix pairs, then the visible sequence pairs. */
function prefixNaive(x: PrefixAttentionInputs, dims: PrefixAttentionDims, c: number) {
  const { B, H, L, d, m } = dims;
  const causal = dims.causal ?? true;
  const o: number[] = [], lse: number[] = [], beta: number[] = [];
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < L; i++) {
        const qi = rowOf(x.q, ((b * H + h) * L + i) * d, d);
        const pre = Array.from({ length: m }, (_, p) => ({ s: c * dotRows(qi, rowOf(x.pk, (h * m + p) * d, d)), v: rowOf(x.pv, (h * m + p) * d, d) }));
        const seq = Array.from({ length: causal ? i + 1 : L }, (_, j) => ({ s: c * dotRows(qi, rowOf(x.k, ((b * H + h) * L + j) * d, d)), v: rowOf(x.v, ((b * H + h) * L + j) * d, d) }));
        const all = softmaxAverage([...pre, ...seq], d);
        o.push(...all.o);
        lse.push(Math.log(all.den));
        beta.push(pre.reduce((acc, t) => acc + Math.exp(t.s), 0) / all.den);
      }
  return { o, lse, beta };
}

function prefixInputs(rng: Rng, dims: PrefixAttentionDims): PrefixAttentionInputs {
  const { B, H, L, d, m } = dims;
  const n = B * H * L * d;
  return { q: rng.normals(n), k: rng.normals(n), v: rng.normals(n), pk: rng.normals(H * m * d), pv: rng.normals(H * m * d) };
}

describe('prefix attention reference', () => {
  it('hand-worked d = 1: one prefix key and the causal sequence', () => {
    // q = [1, 2], k = [0.5, −1], v = [3, 5], pk = 2, pv = −1, c = 1/√1 = 1.
    const x = { q: [1, 2], k: [0.5, -1], v: [3, 5], pk: [2], pv: [-1] };
    const r = prefixAttentionRef(x, { B: 1, H: 1, L: 2, d: 1, m: 1 });
    // Row 0 sees the prefix (score 2) and key 0 (score 0.5).
    const d0 = Math.exp(2) + Math.exp(0.5);
    // Row 1 sees the prefix (score 4), key 0 (score 1) and key 1 (score −2).
    const d1 = Math.exp(4) + Math.exp(1) + Math.exp(-2);
    close(r.o, [(-Math.exp(2) + 3 * Math.exp(0.5)) / d0, (-Math.exp(4) + 3 * Math.exp(1) + 5 * Math.exp(-2)) / d1]);
    close(r.lse, [Math.log(d0), Math.log(d1)]);
    close(r.beta, [Math.exp(2) / d0, Math.exp(4) / d1]);
  });

  it('equals the softmax formula for m = 0, 1, 2, causal or not, default and given scale', () => {
    const rng = new Rng(11);
    for (const m of [0, 1, 2])
      for (const causal of [true, false, undefined])
        for (const scale of [undefined, 0.7]) {
          const dims: PrefixAttentionDims = { B: 2, H: 2, L: 3, d: 2, m, causal, scale };
          const x = prefixInputs(rng, dims);
          const r = prefixAttentionRef(x, dims);
          const want = prefixNaive(x, dims, scale ?? 1 / Math.sqrt(2));
          close(r.o, want.o, 1e-12);
          close(r.lse, want.lse, 1e-12);
          close(r.beta, want.beta, 1e-12);
        }
  });

  it('the score scale is 1/√d unless given (attnScale for the wrappers says the same)', () => {
    // d = 4: scores q·k/2. One key only: o = v whatever the scale, so use two keys.
    const x = { q: [1, 1, 1, 1], k: [0, 0, 0, 0], v: [1, 0, 0, 0], pk: [1, 1, 1, 1], pv: [0, 0, 0, 0] };
    const r = prefixAttentionRef(x, { B: 1, H: 1, L: 1, d: 4, m: 1 });
    // prefix score 4/2 = 2, key score 0.
    close(r.lse, [Math.log(Math.exp(2) + 1)]);
    close(r.o, [1 / (Math.exp(2) + 1), 0, 0, 0]);
    expect(attnScale({ B: 1, H: 1, L: 1, d: 4, m: 0 })).toBe(0.5);
    expect(attnScale({ B: 1, H: 1, L: 1, d: 4, m: 0, scale: 0.3 })).toBe(0.3);
  });

  it('large scores do not overflow (max-shifted): the top key wins', () => {
    const x = { q: [30, 30], k: [30, 0], v: [2, 9], pk: [-30], pv: [7] };
    const r = prefixAttentionRef(x, { B: 1, H: 1, L: 2, d: 1, m: 1, causal: false });
    close(r.o, [2, 2]);
    close(r.lse, [900, 900]);
    expect(r.beta[0]).toBeLessThan(1e-300);
  });

  it('a causal row reads no later key or value (even infinite ones); a non-causal row does', () => {
    // Row 1's score for the infinite key is q₁·∞ = −∞ (q₁ < 0): weight 0, its value never read.
    const dims: PrefixAttentionDims = { B: 1, H: 1, L: 2, d: 1, m: 1 };
    const base = { q: [0.3, -0.2], k: [0.1, 0.4], v: [1, 2], pk: [0.2], pv: [-1] };
    const later = { ...base, k: [0.1, Infinity], v: [1, Infinity] };
    const a = prefixAttentionRef(base, dims);
    const b = prefixAttentionRef(later, dims);
    expect(b.o[0]).toBe(a.o[0]);
    expect(b.lse[0]).toBe(a.lse[0]);
    expect(Number.isFinite(b.o[1])).toBe(true);
    const nc = prefixAttentionRef({ ...base, v: [1, 30] }, { ...dims, causal: false });
    expect(Math.abs(nc.o[0] - a.o[0])).toBeGreaterThan(0.1);
    // The backward skips weight-0 keys too: every gradient finite, row 0's dq unchanged.
    const dO = [1, 0.5];
    const ga = prefixAttentionBackwardRef(base, dO, dims);
    const gb = prefixAttentionBackwardRef(later, dO, dims);
    expect(gb.dq[0]).toBe(ga.dq[0]);
    for (const t of [gb.dq, gb.dk, gb.dv, gb.dpk, gb.dpv]) expect(Array.from(t).every(Number.isFinite)).toBe(true);
  });

  it('backward = central differences of Σ dO ⊙ O for q, k, v, pk, pv (pk, pv summed over the batch)', () => {
    const rng = new Rng(12);
    for (const [m, causal, scale] of [[2, true, undefined], [1, false, 0.6], [0, true, undefined]] as const) {
      const dims: PrefixAttentionDims = { B: 2, H: 2, L: 3, d: 2, m, causal, scale };
      const x = prefixInputs(rng, dims);
      const dO = rng.normals(x.q.length);
      const g = prefixAttentionBackwardRef(x, dO, dims);
      const loss = (y: PrefixAttentionInputs) => dot(prefixAttentionRef(y, dims).o, dO);
      const tag = `m=${m} causal=${causal}`;
      expectGrad(`dq ${tag}`, g.dq, (p) => loss({ ...x, q: p }), Float64Array.from(x.q));
      expectGrad(`dk ${tag}`, g.dk, (p) => loss({ ...x, k: p }), Float64Array.from(x.k));
      expectGrad(`dv ${tag}`, g.dv, (p) => loss({ ...x, v: p }), Float64Array.from(x.v));
      expect(g.dpk.length).toBe(2 * m * 2);
      if (m > 0) {
        expectGrad(`dpk ${tag}`, g.dpk, (p) => loss({ ...x, pk: p }), Float64Array.from(x.pk));
        expectGrad(`dpv ${tag}`, g.dpv, (p) => loss({ ...x, pv: p }), Float64Array.from(x.pv));
      }
    }
  });
});

// ---------------------------------------------------------------- NTK-Attention

/** NTK-Attention from its formula (§4), no max shift: o_i = (Σ e^S v + φᵀZ) / (Σ e^S + φᵀk̃). */
function ntkNaive(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, z: ArrayLike<number>, kt: number[], dims: NtkDims) {
  const { B, H, L, d, featureMap } = dims;
  const r = featureDim(featureMap, d);
  const c = dims.scale ?? 1 / Math.sqrt(d);
  const o: number[] = [], beta: number[] = [];
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < L; i++) {
        const off = ((b * H + h) * L + i) * d;
        const qi = rowOf(q, off, d);
        const f = phi(featureMap, qi);
        const seq = Array.from({ length: (dims.causal ?? true) ? i + 1 : L }, (_, j) => ({ s: c * dotRows(qi, rowOf(k, ((b * H + h) * L + j) * d, d)), v: rowOf(v, ((b * H + h) * L + j) * d, d) }));
        const sm = softmaxAverage(seq, d);
        let pz = 0;
        const fz = new Array<number>(d).fill(0);
        for (let t = 0; t < r; t++) {
          pz += f[t] * kt[h * r + t];
          for (let a = 0; a < d; a++) fz[a] += f[t] * z[(h * r + t) * d + a];
        }
        const D = sm.den + pz;
        for (let a = 0; a < d; a++) o.push((sm.o[a] * sm.den + fz[a]) / D);
        beta.push(pz / D);
      }
  return { o, beta };
}

function ntkInputs(rng: Rng, dims: NtkDims, kappaSpread = 0.8) {
  const { B, H, L, d, featureMap } = dims;
  const n = B * H * L * d;
  const r = featureDim(featureMap, d);
  // κ of both signs: [−spread, spread], kept away from 0 (|κ| has a kink there).
  const kappa = Float64Array.from({ length: H * r }, (_, i) => (i % 2 ? 1 : -1) * rng.uniform(0.2, kappaSpread));
  return { q: rng.normals(n), k: rng.normals(n), v: rng.normals(n), z: rng.normals(H * r * d, 0.5), kappa };
}

describe('NTK-Attention reference: pieces', () => {
  it('featureDim: d for elu1, 1 + d + d² for taylor2', () => {
    expect(featureDim('elu1', 3)).toBe(3);
    expect(featureDim('taylor2', 3)).toBe(13);
  });

  it('taylor2 folded onto symmetric pairs: 1 + d + d(d+1)/2 rows, (a, b) + (b, a) summed, φᵀZ unchanged', () => {
    expect(foldedFeatureDim('elu1', 3)).toBe(3);
    expect(foldedFeatureDim('taylor2', 3)).toBe(10);
    // d = 2, H = 2: r = 7 → 6; rows 0, 1, 2, (0,0) = 3, (0,1) + (1,0) = 4 + 5, (1,1) = 6.
    const [H, d] = [2, 2];
    const z = Float64Array.from({ length: H * 7 * d }, (_, i) => i * i - 3);
    const kt = Float64Array.from({ length: H * 7 }, (_, i) => 10 * i + 1);
    const { zf, ktf } = taylor2FoldRef(z, kt, H, d);
    const pick = [[0], [1], [2], [3], [4, 5], [6]];
    const wantK: number[] = [], wantZ: number[] = [];
    for (let h = 0; h < H; h++)
      for (const src of pick) {
        wantK.push(src.reduce((acc, u) => acc + kt[h * 7 + u], 0));
        for (let c = 0; c < d; c++) wantZ.push(src.reduce((acc, u) => acc + z[(h * 7 + u) * d + c], 0));
      }
    close(ktf, wantK);
    close(zf, wantZ);
    // φ with one of each pair against the folded rows gives the same φᵀk̃ and φᵀZ (d = 3).
    const rng = new Rng(27);
    const x = rng.normals(3), z3 = rng.normals(13 * 3), k3 = rng.normals(13);
    const f = phi('taylor2', x);
    const ff = [0, 1, 2, 3].map((t) => f[t]);
    for (let a = 0; a < 3; a++) for (let b = a; b < 3; b++) ff.push(f[4 + a * 3 + b]);
    const fold3 = taylor2FoldRef(z3, k3, 1, 3);
    expect(dot(ff, fold3.ktf)).toBeCloseTo(dot(f, k3), 12);
    for (let c = 0; c < 3; c++) {
      const full = Array.from({ length: 13 }, (_, t) => f[t] * z3[t * 3 + c]).reduce((p, q) => p + q, 0);
      const folded = ff.reduce((acc, ft, t) => acc + ft * fold3.zf[t * 3 + c], 0);
      expect(folded).toBeCloseTo(full, 12);
    }
  });

  it('φ elu1: elu(x/d^¼) + 1, hand-worked at d = 4 (x/√2)', () => {
    close(phi('elu1', [2, -2, 0, 1e-300]), [Math.SQRT2 + 1, Math.exp(-Math.SQRT2), 1, 1]);
    close(phi('elu1', [-3]), [Math.exp(-3)]);
    close(phi('elu1', [3]), [4]);
  });

  it('φ taylor2: [1, x/d^¼, x xᵀ/(√2·√d)] hand-worked at d = 2, and φ(q)ᵀφ(p) = 1 + t + t²/2', () => {
    const s = Math.pow(2, -0.25);
    close(phi('taylor2', [1, 2]), [1, s, 2 * s, 0.5, 1, 1, 2]);
    // Signed entries: the products keep their signs.
    close(phi('taylor2', [1, -3]).slice(3), [0.5, -1.5, -1.5, 4.5]);
    const a = [0.3, -1.2, 0.7], b = [-0.4, 0.9, 1.5];
    const t = dotRows(a, b) / Math.sqrt(3);
    expect(dot(phi('taylor2', a), phi('taylor2', b))).toBeCloseTo(1 + t + (t * t) / 2, 12);
  });

  it('φ vector-Jacobian products = central differences of gᵀφ(x), both maps, both signs', () => {
    for (const map of MAPS) {
      const x = Float64Array.from([0.8, -1.3, 0.4]);
      const g = Float64Array.from({ length: featureDim(map, 3) }, (_, i) => Math.sin(3 * i + 1));
      expectGrad(`φ ${map}`, phiVjp(map, x, g), (p) => dot(phi(map, p), g), x, 1e-8);
    }
  });

  it('|J_φ|ᵀg: elu1 is phiVjp itself (positive derivative); taylor2 uses |x| in the products', () => {
    const g = [0.5, 2];
    close(phiVjpAbs('elu1', [-1, 2], g), phiVjp('elu1', [-1, 2], g));
    // taylor2, d = 1: φ = [1, x, x²/√2]; |J|ᵀg = g1 + 2|x|g2/√2.
    close(phiVjpAbs('taylor2', [-2], [7, 1, 3]), [1 + (2 * 2 * 3) / Math.SQRT2]);
    close(phiVjp('taylor2', [-2], [7, 1, 3]), [1 - (2 * 2 * 3) / Math.SQRT2]);
    // d = 2: the cross terms come from both x_a x_b and x_b x_a.
    const x = [-1, 2], gg = [0, 1, 1, 1, 2, 3, 4];
    const s = Math.pow(2, -0.25), q = 0.5;
    close(phiVjpAbs('taylor2', x, gg), [s + (2 * 1 * 1 + (2 + 3) * 2) * q, s + (2 * 4 * 2 + (2 + 3) * 1) * q]);
  });

  it('k̃ for each parametrisation, κ of both signs, and its derivative = central differences', () => {
    for (const kappa of [-0.7, 0.4]) {
      expect(kTilde('identity', kappa)).toBe(kappa);
      expect(kTilde('abs', kappa)).toBe(Math.abs(kappa));
      expect(kTilde('exp', kappa)).toBe(Math.exp(kappa));
      expect(kTilde('softplus', kappa)).toBeCloseTo(Math.log(1 + Math.exp(kappa)), 14);
      for (const kp of KPARAMS) {
        const fd = (kTilde(kp, kappa + 1e-6) - kTilde(kp, kappa - 1e-6)) / 2e-6;
        expect(Math.abs(kTildeGrad(kp, kappa) - fd), `${kp} at ${kappa}`).toBeLessThan(1e-8);
      }
    }
    // softplus: log1p(e^κ) up to 20, κ itself above (e^κ would overflow far above).
    expect(kTilde('softplus', 20)).toBe(Math.log1p(Math.exp(20)));
    expect(kTilde('softplus', 25)).toBe(25);
    expect(kTilde('softplus', 800)).toBe(800);
    expect(kTildeGrad('softplus', 0)).toBe(0.5);
    expect(kTildeGrad('abs', -2)).toBe(-1);
    expect(kTildeGrad('identity', -2)).toBe(1);
  });
});

describe('NTK-Attention reference: forward', () => {
  it('hand-worked d = 1, L = 2, elu1 (φ(q) = q + 1 for q > 0), identity k̃', () => {
    // q = [1, 2], k = [2, −1], v = [3, 5], Z = 0.5, κ = −0.25, c = 1.
    const r = ntkAttentionRef([1, 2], [2, -1], [3, 5], [0.5], [-0.25], { B: 1, H: 1, L: 2, d: 1, featureMap: 'elu1', kParam: 'identity' });
    // Row 0: e^{2}·3 + 2·0.5 over e^{2} + 2·(−0.25). Row 1: scores 4, −2; φ = 3.
    const D0 = Math.exp(2) - 0.5, D1 = Math.exp(4) + Math.exp(-2) - 0.75;
    close(r.o, [(3 * Math.exp(2) + 1) / D0, (3 * Math.exp(4) + 5 * Math.exp(-2) + 1.5) / D1]);
    close(r.beta, [-0.5 / D0, -0.75 / D1]);
  });

  it('equals the formula for each map and k parametrisation, κ of both signs, causal or not, given scale', () => {
    const rng = new Rng(21);
    for (const featureMap of MAPS)
      for (const kParam of KPARAMS)
        for (const [causal, scale] of [[undefined, undefined], [false, 0.8]] as const) {
          const dims: NtkDims = { B: 2, H: 2, L: 3, d: 2, featureMap, kParam, causal, scale };
          const x = ntkInputs(rng, dims);
          const r = ntkAttentionRef(x.q, x.k, x.v, x.z, x.kappa, dims);
          const want = ntkNaive(x.q, x.k, x.v, x.z, Array.from(x.kappa, (kk) => kTilde(kParam, kk)), dims);
          close(r.o, want.o, 1e-11);
          close(r.beta, want.beta, 1e-11);
        }
  });

  it('zero Z and k̃ = 0 is plain causal attention (prefix attention with m = 0)', () => {
    const rng = new Rng(22);
    for (const kParam of ['identity', 'abs'] as const) {
      const dims: NtkDims = { B: 1, H: 2, L: 3, d: 2, featureMap: 'taylor2', kParam };
      const x = ntkInputs(rng, dims);
      const r = ntkAttentionRef(x.q, x.k, x.v, new Float64Array(x.z.length), new Float64Array(x.kappa.length), dims);
      const plain = prefixAttentionRef({ q: x.q, k: x.k, v: x.v, pk: [], pv: [] }, { B: 1, H: 2, L: 3, d: 2, m: 0 });
      close(r.o, plain.o, 1e-12);
      close(r.beta, new Array(6).fill(0));
    }
  });

  it('large scores do not overflow (max-shifted)', () => {
    // Score 27² = 729: e^729 overflows, e^{−729} is a (nonzero) subnormal.
    const r = ntkAttentionRef([27], [27], [2], [1], [1], { B: 1, H: 1, L: 1, d: 1, featureMap: 'elu1', kParam: 'exp' });
    close(r.o, [2]);
    expect(r.beta[0]).toBeGreaterThan(0);
    expect(r.beta[0]).toBeLessThan(1e-300);
    expect(r.oScale[0]).toBeGreaterThan(0);
    expect(Number.isFinite(r.oScale[0])).toBe(true);
  });

  it('the closed form from a prefix: k = Σ φ(p), Z = Σ φ(p) wᵀ per head (hand-worked, elu1, d = 1)', () => {
    // H = 2, m = 2: head 0 keys [1, −1], values [2, 3]; head 1 keys [0.5, 2], values [−1, 4].
    const r = ntkFromPrefixRef([1, -1, 0.5, 2], [2, 3, -1, 4], 2, 2, 1, 'elu1');
    const e = Math.exp(-1);
    close(r.k, [2 + e, 1.5 + 3]);
    close(r.z, [2 * 2 + 3 * e, -1.5 + 4 * 3]);
    const none = ntkFromPrefixRef([], [], 2, 0, 1, 'taylor2');
    close(none.k, new Array(6).fill(0));
    close(none.z, new Array(6).fill(0));
  });

  it('taylor2 with the closed-form (Z, k) equals prefix attention with e^t → 1 + t + t²/2 over the prefix', () => {
    const rng = new Rng(23);
    for (const [m, causal] of [[2, true], [1, false], [0, true]] as const) {
      const [B, H, L, d] = [2, 2, 3, 2];
      const n = B * H * L * d;
      const q = rng.normals(n, 0.5), k = rng.normals(n, 0.5), v = rng.normals(n), pk = rng.normals(H * m * d, 0.5), pv = rng.normals(H * m * d);
      const cf = ntkFromPrefixRef(pk, pv, H, m, d, 'taylor2');
      const r = ntkAttentionRef(q, k, v, cf.z, cf.k, { B, H, L, d, featureMap: 'taylor2', kParam: 'identity', causal });
      close(r.o, taylorPrefixAttentionRef(q, k, v, pk, pv, B, H, L, d, m, causal), 1e-11);
    }
  });

  it('taylorPrefixAttentionRef hand-worked: d = 1, m = 1, L = 2', () => {
    // q = [1, 2], k = [0.5, −1], v = [3, 5], pk = 2, pv = −1.
    const e0 = 1 + 2 + 2, e1 = 1 + 4 + 8;
    const o = taylorPrefixAttentionRef([1, 2], [0.5, -1], [3, 5], [2], [-1], 1, 1, 2, 1, 1);
    close(o, [(-e0 + 3 * Math.exp(0.5)) / (e0 + Math.exp(0.5)), (-e1 + 3 * Math.exp(1) + 5 * Math.exp(-2)) / (e1 + Math.exp(1) + Math.exp(-2))]);
    const nc = taylorPrefixAttentionRef([1, 2], [0.5, -1], [3, 5], [2], [-1], 1, 1, 2, 1, 1, false);
    close(nc.slice(0, 1), [(-e0 + 3 * Math.exp(0.5) + 5 * Math.exp(-1)) / (e0 + Math.exp(0.5) + Math.exp(-1))]);
  });
});

describe('NTK-Attention reference: rounding scales', () => {
  /**
   * The scales of a d = 1, L = 1 elu1 case worked from the rules of the file header, for
   * q > 0 (φ(q) = q + 1, φ′ = 1) and c = 1: S = qk is the max, w = 1, e^{−max} = e^{−S}.
   */
  function handScales(q: number, k: number, v: number, z: number, kappa: number, kParam: KParam, g: number) {
    const S = q * k, ea = Math.exp(-S), f = q + 1, kt = kTilde(kParam, kappa), kg = kTildeGrad(kParam, kappa);
    const pz = f * kt, D = 1 + ea * pz;
    const ferr = 1 + Math.abs(S) + Math.abs(S + Math.log(Math.abs(D)));
    const DAbs = ea * Math.abs(pz) * ferr + ferr + Math.abs(S);
    const o = (v + ea * f * z) / D, beta = (ea * pz) / D;
    const oScale = ((ferr + Math.abs(S)) * Math.abs(v) + ea * Math.abs(f * z) * ferr + Math.abs(o) * DAbs) / Math.abs(D);
    const betaScale = (ea * Math.abs(pz) * ferr + Math.abs(beta) * DAbs) / Math.abs(D);
    const w = ea / D, wAbs = Math.abs(w) * (ferr + DAbs / Math.abs(D));
    const delta = g * o, deltaAbs = Math.abs(g) * (oScale + Math.abs(o));
    const p = 1 / D, pAbs = Math.abs(p) * (ferr + Math.abs(S) + DAbs / Math.abs(D));
    const gv = g * v, ds = p * (gv - delta);
    const dsAbs = pAbs * Math.abs(gv - delta) + Math.abs(p) * (Math.abs(gv) + deltaAbs) + Math.abs(ds);
    const zg = z * g, dphi = w * (zg - delta * kt);
    const dphiAbs = wAbs * Math.abs(zg - delta * kt) + Math.abs(w) * (Math.abs(zg) + deltaAbs * Math.abs(kt)) + Math.abs(dphi);
    const dkt = -w * f * delta;
    const dktAbs = wAbs * Math.abs(f * delta) + Math.abs(w * f) * deltaAbs;
    return {
      o, beta, oScale, betaScale,
      dq: ds * k + dphi, dk: ds * q, dv: p * g, dz: w * f * g, dkappa: dkt * kg,
      scale: { dq: dsAbs * Math.abs(k) + dphiAbs, dk: dsAbs * Math.abs(q), dv: pAbs * Math.abs(g), dz: wAbs * Math.abs(f * g), dkappa: (dktAbs + Math.abs(dkt)) * Math.abs(kg) },
    };
  }

  it('hand-worked d = 1, L = 1, elu1: values and rounding scales of the forward and the backward', () => {
    const cases: [number, number, number, number, number, KParam, number][] = [
      [1, 2, 3, 0.5, -0.25, 'identity', -2],
      [2, 0.5, -1, 0.7, 0.3, 'exp', 1.5],
      [0.5, -1, 2, -0.4, -0.6, 'softplus', 0.8],
    ];
    for (const [q, k, v, z, kappa, kParam, g] of cases) {
      const dims: NtkDims = { B: 1, H: 1, L: 1, d: 1, featureMap: 'elu1', kParam };
      const f = ntkAttentionRef([q], [k], [v], [z], [kappa], dims);
      const b = ntkAttentionBackwardRef([q], [k], [v], [z], [kappa], [g], dims);
      const want = handScales(q, k, v, z, kappa, kParam, g);
      close(f.o, [want.o]);
      close(f.beta, [want.beta]);
      close(f.oScale, [want.oScale]);
      close(f.betaScale, [want.betaScale]);
      for (const key of ['dq', 'dk', 'dv', 'dz', 'dkappa'] as const) {
        close(b[key], [want[key]]);
        close(b.scale[key], [want.scale[key]]);
      }
    }
  });

  it('equal batches give equal blocks of every output and scale (each row writes its own place)', () => {
    const rng = new Rng(26);
    for (const featureMap of MAPS) {
      const one: NtkDims = { B: 1, H: 2, L: 3, d: 2, featureMap, kParam: 'identity' };
      const x = ntkInputs(rng, one);
      const dO = rng.normals(x.q.length);
      const twice = (a: Float64Array) => Float64Array.from([...a, ...a]);
      const f1 = ntkAttentionRef(x.q, x.k, x.v, x.z, x.kappa, one);
      const g1 = ntkAttentionBackwardRef(x.q, x.k, x.v, x.z, x.kappa, dO, one);
      const two = { ...one, B: 2 };
      const f2 = ntkAttentionRef(twice(x.q), twice(x.k), twice(x.v), x.z, x.kappa, two);
      const g2 = ntkAttentionBackwardRef(twice(x.q), twice(x.k), twice(x.v), x.z, x.kappa, twice(dO), two);
      close(f2.oScale, twice(f1.oScale));
      close(f2.betaScale, twice(f1.betaScale));
      for (const key of ['dq', 'dk', 'dv'] as const) {
        close(g2[key], twice(g1[key]));
        close(g2.scale[key], twice(g1.scale[key]));
      }
      // The shared Z and κ collect both batches.
      close(g2.scale.dz, g1.scale.dz.map((t) => 2 * t));
      close(g2.dkappa, g1.dkappa.map((t) => 2 * t));
    }
  });

  it('every scale bounds its value (|x| ≤ M(x)), is finite, and is homogeneous in v and Z', () => {
    const rng = new Rng(24);
    for (const featureMap of MAPS)
      for (const kParam of KPARAMS) {
        const dims: NtkDims = { B: 1, H: 2, L: 3, d: 2, featureMap, kParam };
        const x = ntkInputs(rng, dims);
        const dO = rng.normals(x.q.length);
        const f = ntkAttentionRef(x.q, x.k, x.v, x.z, x.kappa, dims);
        const g = ntkAttentionBackwardRef(x.q, x.k, x.v, x.z, x.kappa, dO, dims);
        const pairs: [string, ArrayLike<number>, ArrayLike<number>][] = [
          ['o', f.o, f.oScale], ['beta', f.beta, f.betaScale],
          ['dq', g.dq, g.scale.dq], ['dk', g.dk, g.scale.dk], ['dv', g.dv, g.scale.dv], ['dz', g.dz, g.scale.dz], ['dkappa', g.dkappa, g.scale.dkappa],
        ];
        for (const [what, val, sc] of pairs) {
          expect(sc.length).toBe(val.length);
          for (let i = 0; i < val.length; i++) {
            expect(Number.isFinite(sc[i]), `${what}[${i}] ${featureMap}/${kParam}`).toBe(true);
            expect(sc[i], `${what}[${i}] ${featureMap}/${kParam}`).toBeGreaterThanOrEqual(Math.abs(val[i]) * (1 + 1e-12));
          }
        }
        // o is linear in (v, Z) jointly, and so are its scale's terms: doubling both doubles M(o).
        const f2 = ntkAttentionRef(x.q, x.k, x.v.map((t) => 2 * t), x.z.map((t) => 2 * t), x.kappa, dims);
        close(f2.oScale, f.oScale.map((t) => 2 * t), 1e-12);
        close(f2.betaScale, f.betaScale, 1e-12);
      }
  });
  it('non-causal rows permuted (q, k, v, dO together) permute every output and scale', () => {
    const rng = new Rng(28);
    for (const featureMap of MAPS) {
      const dims: NtkDims = { B: 1, H: 1, L: 2, d: 2, featureMap, kParam: 'softplus', causal: false };
      const x = ntkInputs(rng, dims);
      const dO = rng.normals(4);
      const swap = (a: ArrayLike<number>) => Float64Array.from([a[2], a[3], a[0], a[1]]);
      const g = ntkAttentionBackwardRef(x.q, x.k, x.v, x.z, x.kappa, dO, dims);
      const gs = ntkAttentionBackwardRef(swap(x.q), swap(x.k), swap(x.v), x.z, x.kappa, swap(dO), dims);
      const f = ntkAttentionRef(x.q, x.k, x.v, x.z, x.kappa, dims);
      const fs = ntkAttentionRef(swap(x.q), swap(x.k), swap(x.v), x.z, x.kappa, dims);
      close(fs.oScale, swap(f.oScale));
      for (const key of ['dq', 'dk', 'dv'] as const) {
        close(gs[key], swap(g[key]));
        close(gs.scale[key], swap(g.scale[key]));
      }
      close(gs.scale.dz, g.scale.dz);
      close(gs.scale.dkappa, g.scale.dkappa);
    }
  });
});

describe('NTK-Attention reference: backward', () => {
  it('= central differences of Σ dO ⊙ O: every gradient, both maps, every k parametrisation, κ of both signs', () => {
    const rng = new Rng(25);
    for (const featureMap of MAPS)
      for (const kParam of KPARAMS) {
        const causal = kParam !== 'exp';
        const dims: NtkDims = { B: 2, H: 2, L: 2, d: 2, featureMap, kParam, causal, scale: kParam === 'softplus' ? 0.9 : undefined };
        const x = ntkInputs(rng, dims);
        const dO = rng.normals(x.q.length);
        const g = ntkAttentionBackwardRef(x.q, x.k, x.v, x.z, x.kappa, dO, dims);
        const loss = (q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, z: ArrayLike<number>, kap: ArrayLike<number>) => dot(ntkAttentionRef(q, k, v, z, kap, dims).o, dO);
        const tag = `${featureMap}/${kParam}`;
        expectGrad(`dq ${tag}`, g.dq, (p) => loss(p, x.k, x.v, x.z, x.kappa), x.q);
        expectGrad(`dk ${tag}`, g.dk, (p) => loss(x.q, p, x.v, x.z, x.kappa), x.k);
        expectGrad(`dv ${tag}`, g.dv, (p) => loss(x.q, x.k, p, x.z, x.kappa), x.v);
        expectGrad(`dz ${tag}`, g.dz, (p) => loss(x.q, x.k, x.v, p, x.kappa), x.z);
        expectGrad(`dkappa ${tag}`, g.dkappa, (p) => loss(x.q, x.k, x.v, x.z, p), x.kappa);
      }
  });
});

// ---------------------------------------------------------------- decoding

describe('decode references', () => {
  it('append: q [H, n, d] and cache rows pos … pos+n−1 from qkv [n, 3, H, d]; inputs untouched, other rows kept', () => {
    const [H, n, d, Tmax, pos] = [2, 2, 2, 4, 1];
    const C = H * d;
    const qkv = Float64Array.from({ length: n * 3 * C }, (_, i) => 100 + i);
    const kc = Float64Array.from({ length: H * Tmax * d }, (_, i) => -1 - i);
    const vc = Float64Array.from({ length: H * Tmax * d }, (_, i) => -101 - i);
    const kc0 = Float64Array.from(kc), vc0 = Float64Array.from(vc);
    const r = attentionDecodeAppendRef(qkv, kc, vc, { H, n, d, Tmax, pos });
    expect(Array.from(kc)).toEqual(Array.from(kc0));
    expect(Array.from(vc)).toEqual(Array.from(vc0));
    const wantK = Array.from(kc0), wantV = Array.from(vc0), wantQ: number[] = [];
    for (let h = 0; h < H; h++)
      for (let i = 0; i < n; i++)
        for (let e = 0; e < d; e++) {
          wantQ.push(qkv[((i * 3 + 0) * H + h) * d + e]);
          wantK[(h * Tmax + pos + i) * d + e] = qkv[((i * 3 + 1) * H + h) * d + e];
          wantV[(h * Tmax + pos + i) * d + e] = qkv[((i * 3 + 2) * H + h) * d + e];
        }
    expect(Array.from(r.q)).toEqual(wantQ);
    expect(Array.from(r.k)).toEqual(wantK);
    expect(Array.from(r.v)).toEqual(wantV);
  });

  /** A [1, H, L, d] sequence laid into caches [H, Tmax, d] with NaN past row L (never to be read). */
  const caches = (K: Float64Array, V: Float64Array, H: number, L: number, Tmax: number, d: number) => {
    const kc = new Float64Array(H * Tmax * d).fill(NaN), vc = new Float64Array(H * Tmax * d).fill(NaN);
    for (let h = 0; h < H; h++)
      for (let j = 0; j < L; j++)
        for (let e = 0; e < d; e++) {
          kc[(h * Tmax + j) * d + e] = K[(h * L + j) * d + e];
          vc[(h * Tmax + j) * d + e] = V[(h * L + j) * d + e];
        }
    return { kc, vc };
  };
  /** Rows t … L−1 of a [H, L, per] array. */
  const rows = (a: ArrayLike<number>, H: number, L: number, t: number, per: number) => {
    const out: number[] = [];
    for (let h = 0; h < H; h++) for (let j = t; j < L; j++) for (let e = 0; e < per; e++) out.push(a[(h * L + j) * per + e]);
    return out;
  };

  it('decode rows t … t+n−1 equal the training reference rows (prefix m = 0, 1, 2; prefill t = 0; given scale)', () => {
    const rng = new Rng(31);
    const [H, L, d, Tmax] = [2, 3, 2, 5];
    for (const [m, t, scale] of [[0, 0, undefined], [1, 2, undefined], [2, 1, 0.6]] as const) {
      const x = prefixInputs(rng, { B: 1, H, L, d, m });
      const full = prefixAttentionRef(x, { B: 1, H, L, d, m, scale });
      const { kc, vc } = caches(Float64Array.from(x.k), Float64Array.from(x.v), H, L, Tmax, d);
      const q = rows(x.q, H, L, t, d);
      const r = attentionDecodeRef({ q, kCache: kc, vCache: vc, pk: x.pk, pv: x.pv }, { H, n: L - t, t, Tmax, d, m, scale });
      close(r.o, rows(full.o, H, L, t, d), 1e-13);
      close(r.lse, rows(full.lse, H, L, t, 1), 1e-13);
    }
  });

  it('NTK decode rows equal the training reference rows, with their rounding scales', () => {
    const rng = new Rng(32);
    const [H, L, d, Tmax] = [2, 3, 2, 4];
    for (const [featureMap, kParam, t, scale] of [['elu1', 'softplus', 1, undefined], ['taylor2', 'identity', 2, 0.7], ['taylor2', 'abs', 0, undefined]] as const) {
      const dims: NtkDims = { B: 1, H, L, d, featureMap, kParam, scale };
      const x = ntkInputs(rng, dims);
      const full = ntkAttentionRef(x.q, x.k, x.v, x.z, x.kappa, dims);
      const { kc, vc } = caches(x.k, x.v, H, L, Tmax, d);
      const r = attentionDecodeNtkRef({ q: rows(x.q, H, L, t, d), kCache: kc, vCache: vc, z: x.z, kappa: x.kappa }, { H, n: L - t, t, Tmax, d, featureMap, kParam, scale });
      close(r.o, rows(full.o, H, L, t, d), 1e-13);
      close(r.oScale, rows(full.oScale, H, L, t, d), 1e-13);
    }
  });
});
