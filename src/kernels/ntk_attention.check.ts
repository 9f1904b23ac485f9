import type { Gpu } from '../gpu/runtime';
import type { FeatureMapName, KParam } from './ntk_types';
import type { Rng } from '../util/rng';
import { compare, dot, poisoned, relErr, roundF32, type KernelCheck, type Metric } from './check';
import { ntkAttentionBackward, ntkAttentionForward, ntkFromPrefix, ntkTaylor2Fold, type NtkPath } from './ntk_attention';
import {
  featureDim, foldedFeatureDim, ntkAttentionBackwardRef, ntkAttentionRef, ntkFromPrefixRef, phi, taylor2FoldRef, taylorPrefixAttentionRef, type NtkDims,
} from './ntk_attention.ref';
import { fdMetric } from './fd';
import { scaledErr, U32 } from './scaled';

// Bounds. GPU results are compared with the float64 reference element by element as
// |gpu − ref| / M, M the reference's rounding scale (ntk_attention.ref.ts: every sum's terms
// in absolute value, so a denominator φ(q)ᵀk̃ or a Δ = dO·o that cancels raises M instead of
// failing the check by chance). A float32 computation of n chained operations is within
// about n·2⁻²⁴·M of the exact value whatever its order; the longest chains here are
// ≤ L + r + d ≈ 120 terms (taylor2, d = 6: r = 43; L ≤ 75 for elu1). Rounding errors of
// random sign grow like √n (≈ 11·2⁻²⁴ at n = 120; measured ≤ 1·2⁻²⁴ over these cases), so
// SCALED = 64·2⁻²⁴ ≈ 3.8e-6, while a wrong term, index, sign or k parametrisation moves an
// element by O(M) (scaled error ≳ 1e-2).
const SCALED = 64 * U32;
// Closed-form (Z, k) and taylor-prefix comparisons: sums of positive terms (no cancellation
// in k's and the taylor denominators' leading terms), relative errors ~1e-7; 2e-5 as before.
const FWD = 2e-5;

interface Case extends NtkDims {
  rank: number;
  /** Kernel path (default: auto = split for elu1 with k̃ ≥ 0, else fused). */
  path?: NtkPath;
}

function inputs(rng: Rng, c: Case) {
  const { B, H, L, d } = c;
  const r = featureDim(c.featureMap, d);
  const n = B * H * L * d;
  const q = roundF32(rng.normals(n));
  const k = roundF32(rng.normals(n));
  const v = roundF32(rng.normals(n));
  const za = c.rank ? roundF32(rng.normals(H * r * c.rank, 0.3)) : null;
  const zb = c.rank ? roundF32(rng.normals(H * c.rank * d, 0.3)) : null;
  const z = c.rank ? lowRank(za!, zb!, H, r, c.rank, d) : roundF32(rng.normals(H * r * d, 0.3));
  // κ of both signs for every k parametrisation (κ_0 > 0 > κ_1 in each head, the rest random
  // signs), so that abs, identity, exp and softplus all give different k̃; |κ| ≥ 0.2 keeps
  // away from |κ|'s kink at 0 (its gradient is sign(κ)).
  const kappa = roundF32(Array.from({ length: H * r }, (_, idx) => {
    const t = idx % r;
    const sign = t === 0 ? 1 : t === 1 ? -1 : rng.next() < 0.5 ? 1 : -1;
    return sign * (0.2 + rng.next());
  }));
  const g = roundF32(rng.normals(n));
  return { q, k, v, z, za, zb, kappa, g };
}

function lowRank(za: Float64Array, zb: Float64Array, H: number, r: number, s: number, d: number) {
  const z = new Float64Array(H * r * d);
  for (let h = 0; h < H; h++) for (let i = 0; i < r; i++) for (let j = 0; j < d; j++) {
    let acc = 0;
    for (let t = 0; t < s; t++) acc += za[(h * r + i) * s + t] * zb[(h * s + t) * d + j];
    z[(h * r + i) * d + j] = acc;
  }
  return z;
}

async function runCase(gpu: Gpu, rng: Rng, c: Case): Promise<Metric[]> {
  const { B, H, L, d } = c;
  const r = featureDim(c.featureMap, d);
  // No redraws: ill-conditioned draws (a denominator or a dK that nearly cancels) are judged
  // by their rounding scales, which grow with the cancellation.
  const x = inputs(rng, c);
  const T = (a: ArrayLike<number>, shape: number[]) => gpu.tensor(shape, Float32Array.from(a));
  const seq = [B, H, L, d];
  const tq = T(x.q, seq), tk = T(x.k, seq), tv = T(x.v, seq), tg = T(x.g, seq);
  const tkap = T(x.kappa, [H, r]);
  const adapter = c.rank ? { za: T(x.za!, [H, r, c.rank]), zb: T(x.zb!, [H, c.rank, d]) } : { z: T(x.z, [H, r, d]) };
  const o = poisoned(gpu, seq), stats = poisoned(gpu, [B, H, L, 2]), beta = poisoned(gpu, [B, H, L]);
  const dq = poisoned(gpu, seq), dk = poisoned(gpu, seq), dv = poisoned(gpu, seq), dkap = poisoned(gpu, [H, r]);
  const grads = c.rank ? { dza: poisoned(gpu, [H, r, c.rank]), dzb: poisoned(gpu, [H, c.rank, d]) } : { dz: poisoned(gpu, [H, r, d]) };
  const opts = { ...c, rank: c.rank || undefined };
  ntkAttentionForward(gpu, { q: tq, k: tk, v: tv, ...adapter, kappa: tkap, o, stats, beta }, opts);
  ntkAttentionBackward(gpu, { q: tq, k: tk, v: tv, ...adapter, kappa: tkap, o, stats, beta, dO: tg, dq, dk, dv, ...grads, dkappa: dkap }, opts);
  const ref = ntkAttentionRef(x.q, x.k, x.v, x.z, x.kappa, c);
  const rg = ntkAttentionBackwardRef(x.q, x.k, x.v, x.z, x.kappa, x.g, c);
  const tag = `${c.featureMap}/${c.kParam}${c.rank ? ` s=${c.rank}` : ''} B=${B} H=${H} L=${L} d=${d}${c.causal === false ? ' bidirectional' : ''}${c.path ? ` path=${c.path}` : ''}`;
  const sc = (what: string, got: ArrayLike<number>, want: ArrayLike<number>, scale: ArrayLike<number>): Metric => ({ what: `${what} ${tag}`, err: scaledErr(got, want, scale), bound: SCALED });
  const out = [
    sc('o', await gpu.read(o), ref.o, ref.oScale),
    sc('beta', await gpu.read(beta), ref.beta, ref.betaScale),
    sc('dq', await gpu.read(dq), rg.dq, rg.scale.dq),
    sc('dk', await gpu.read(dk), rg.dk, rg.scale.dk),
    sc('dv', await gpu.read(dv), rg.dv, rg.scale.dv),
    sc('dkappa', await gpu.read(dkap), rg.dkappa, rg.scale.dkappa),
  ];
  if (c.rank) {
    // dZ_A = dZ·Z_Bᵀ, dZ_B = Z_Aᵀ·dZ from the reference dZ, with scales from dZ's
    // (M(dZ) + |dZ| per term: the products' own rounding).
    const s = c.rank;
    const dza = new Float64Array(H * r * s), dzb = new Float64Array(H * s * d);
    const dzaS = new Float64Array(H * r * s), dzbS = new Float64Array(H * s * d);
    const m = (i: number) => rg.scale.dz[i] + Math.abs(rg.dz[i]);
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < r; i++) for (let t = 0; t < s; t++) {
        let a = 0, aS = 0;
        for (let j = 0; j < d; j++) { const zb = x.zb![(h * s + t) * d + j]; a += rg.dz[(h * r + i) * d + j] * zb; aS += m((h * r + i) * d + j) * Math.abs(zb); }
        dza[(h * r + i) * s + t] = a; dzaS[(h * r + i) * s + t] = aS;
      }
      for (let t = 0; t < s; t++) for (let j = 0; j < d; j++) {
        let a = 0, aS = 0;
        for (let i = 0; i < r; i++) { const za = x.za![(h * r + i) * s + t]; a += za * rg.dz[(h * r + i) * d + j]; aS += Math.abs(za) * m((h * r + i) * d + j); }
        dzb[(h * s + t) * d + j] = a; dzbS[(h * s + t) * d + j] = aS;
      }
    }
    out.push(sc('dza', await gpu.read(grads.dza!), dza, dzaS), sc('dzb', await gpu.read(grads.dzb!), dzb, dzbS));
  } else out.push(sc('dz', await gpu.read(grads.dz!), rg.dz, rg.scale.dz));
  gpu.release(tq, tk, tv, tg, tkap, o, stats, beta, dq, dk, dv, dkap, ...Object.values(adapter), ...Object.values(grads));
  return out;
}


// A fixed case per k parametrisation, expected numbers worked out by hand (and with a
// calculator, not with the reference). B = H = L = 1, d = r = 2, elu1, causal, c = 1/√2:
//   q = [0, 0] → every score S = 0 and φ(q) = elu(0) + 1 = [1, 1]; k = [1, 1], v = [1, 2],
//   Z = [[1, 0], [0, −1]], κ = [0.5, −1] (both signs), dO = g = [1, 0].
// Forward: D = e⁰ + φᵀk̃ = 1 + k̃₀ + k̃₁; o = (v + φᵀZ)/D = ([1, 2] + [1, 0] + [0, −1])/D = [2, 1]/D;
//   β = (k̃₀ + k̃₁)/D.
// Backward (w = e⁰/D = 1/D, p = 1/D the one key's weight, Δ = g·o = 2/D):
//   dv = p·g = [1/D, 0]; dZ_t = w·φ_t·g = [1/D, 0] for t = 0, 1; dk = c·dS·q = 0;
//   dk̃_t = −w·φ_t·Δ = −2/D², dκ_t = dk̃_t·k̃'(κ_t);
//   dS = p·(g·v − Δ) = (1 − 2/D)/D, dφ = w·(Zg − Δ·k̃) = (1/D)·([1, 0] − (2/D)·k̃),
//   dq = c·dS·k + 2^{−1/4}·dφ (elu1's φ'(0) = e⁰·d^{−1/4}).
//   identity: k̃ = [0.5, −1], D = 0.5: o = [4, 2], β = −1, dκ = [−8, −8],
//             dq = [−6/√2 + 2^{−1/4}·(−2), −6/√2 + 2^{−1/4}·8] = [−5.924433518, 2.484530635].
//   abs:      k̃ = [0.5, 1], D = 2.5: o = [0.8, 0.4], β = 0.6, dκ = [−0.32, +0.32] (sign κ).
//   exp:      k̃ = [e^0.5, e^−1] = [1.6487212707, 0.3678794412], D = 3.0166007119.
//   softplus: k̃ = [ln(1+e^0.5), ln(1+e^−1)] = [0.9740769842, 0.3132616875], D = 2.2873386717,
//             k̃' = σ(κ) = [0.6224593312, 0.2689414214].
const FIXED: Record<KParam, { D: number; beta: number; dkappa: [number, number]; dq: [number, number] }> = {
  identity: { D: 0.5, beta: -1, dkappa: [-8, -8], dq: [-5.924433518, 2.484530635] },
  abs: { D: 2.5, beta: 0.6, dkappa: [-0.32, 0.32], dq: [0.2583836822, -0.2125183104] },
  exp: { D: 3.016600712, beta: 0.6685010396, dkappa: [-0.3623611074, -0.08085369193], dq: [0.05304315849, 0.01100544755] },
  softplus: { D: 2.287338672, beta: 0.5628106968, dkappa: [-0.2379468897, -0.1028079611], dq: [0.09334976309, -0.06186299643] },
};
// The literals have 10 significant digits: the float64 reference must match them to 1e-9;
// the GPU sees exact float32 inputs and sums ≤ 3 O(1) terms without cancellation (identity's
// D = 1 + 0.5 − 1 is exact), so a few ulps: 1e-6.
const FIXED_REF = 1e-9;
const FIXED_GPU = 1e-6;

async function fixedCase(gpu: Gpu | null, kParam: KParam): Promise<Metric[]> {
  const c: NtkDims = { B: 1, H: 1, L: 1, d: 2, featureMap: 'elu1', kParam };
  const x = { q: [0, 0], k: [1, 1], v: [1, 2], z: [1, 0, 0, -1], kappa: [0.5, -1], g: [1, 0] };
  const e = FIXED[kParam];
  const want = {
    o: [2 / e.D, 1 / e.D], beta: [e.beta], dq: e.dq, dk: [0, 0], dv: [1 / e.D, 0], dz: [1 / e.D, 0, 1 / e.D, 0], dkappa: e.dkappa,
  };
  const f = ntkAttentionRef(x.q, x.k, x.v, x.z, x.kappa, c);
  const b = ntkAttentionBackwardRef(x.q, x.k, x.v, x.z, x.kappa, x.g, c);
  const got: Record<keyof typeof want, ArrayLike<number>> = { o: f.o, beta: f.beta, dq: b.dq, dk: b.dk, dv: b.dv, dz: b.dz, dkappa: b.dkappa };
  const out: Metric[] = (Object.keys(want) as (keyof typeof want)[]).map((n) => ({ what: `reference ${n} ${kParam}`, err: relErr(got[n], want[n]), bound: FIXED_REF }));
  if (!gpu) return out;
  const T = (a: number[], shape: number[]) => gpu.tensor(shape, Float32Array.from(a));
  const seq = [1, 1, 1, 2];
  const t = { q: T(x.q, seq), k: T(x.k, seq), v: T(x.v, seq), z: T(x.z, [1, 2, 2]), kappa: T(x.kappa, [1, 2]), dO: T(x.g, seq) };
  const res = {
    o: poisoned(gpu, seq), stats: poisoned(gpu, [1, 1, 1, 2]), beta: poisoned(gpu, [1, 1, 1]),
    dq: poisoned(gpu, seq), dk: poisoned(gpu, seq), dv: poisoned(gpu, seq), dz: poisoned(gpu, [1, 2, 2]), dkappa: poisoned(gpu, [1, 2]),
  };
  ntkAttentionForward(gpu, { ...t, ...res }, c);
  ntkAttentionBackward(gpu, { ...t, ...res }, c);
  for (const n of Object.keys(want) as (keyof typeof want)[]) out.push({ what: `gpu ${n} ${kParam}`, err: relErr(await gpu.read(res[n]), want[n]), bound: FIXED_GPU });
  gpu.release(...Object.values(t), ...Object.values(res));
  return out;
}

const MAPS: FeatureMapName[] = ['elu1', 'taylor2'];
const KPARAMS: KParam[] = ['abs', 'exp', 'softplus', 'identity'];

export const checks: KernelCheck[] = [
  {
    kernel: 'ntk_attention',
    name: 'fixed d=2 case per k parametrisation (identity, abs, exp, softplus) vs numbers worked out by hand',
    gpu: true,
    async run(gpu) {
      const out: Metric[] = [];
      for (const kp of KPARAMS) out.push(...(await fixedCase(gpu, kp)));
      return out;
    },
  },
  {
    kernel: 'ntk_attention',
    name: 'forward + backward vs float64: both maps, all k params, low rank, random and edge shapes',
    gpu: true,
    async run(gpu, rng) {
      const out: Metric[] = [];
      const cases: Case[] = [
        { B: 2, H: 2, L: 7, d: 5, featureMap: 'elu1', kParam: KPARAMS[rng.int(0, 3)], rank: 0 },
        { B: 1, H: 1, L: 1, d: 4, featureMap: 'taylor2', kParam: 'identity', rank: 0 },
        { B: rng.int(1, 2), H: rng.int(1, 3), L: rng.int(2, 9), d: rng.int(2, 6), featureMap: 'taylor2', kParam: KPARAMS[rng.int(0, 3)], rank: 0, causal: false },
        { B: 2, H: 2, L: 5, d: 3, featureMap: MAPS[rng.int(0, 1)], kParam: 'softplus', rank: 2 },
        { B: 1, H: 2, L: 6, d: 8, featureMap: 'elu1', kParam: 'exp', rank: 0, causal: false },
        // The fused kernels (path 'fused') where auto would take the split path.
        { B: 2, H: 2, L: rng.int(2, 9), d: rng.int(2, 6), featureMap: 'elu1', kParam: KPARAMS[rng.int(0, 2)], rank: 0, path: 'fused' },
        { B: 1, H: 2, L: rng.int(2, 7), d: 3, featureMap: 'elu1', kParam: 'softplus', rank: 2, causal: false, path: 'split' },
        // taylor2 past d = 8: the folded features' walk over more rows of (a, b).
        { B: 1, H: 1, L: rng.int(2, 5), d: rng.int(9, 13), featureMap: 'taylor2', kParam: 'exp', rank: 0 },
        // Split path across the prefix-attention kernel's 64-row tiles.
        { B: 1, H: 1, L: rng.int(65, 75), d: rng.int(3, 7), featureMap: 'elu1', kParam: 'exp', rank: 0 },
      ];
      for (const c of cases) out.push(...(await runCase(gpu!, rng, c)));
      return out;
    },
  },
  {
    kernel: 'ntk_attention',
    name: "taylor2's fold of Z and k̃ onto the symmetric features vs float64, and φᵀZ, φᵀk̃ unchanged by it",
    gpu: true,
    async run(gpu, rng) {
      const out: Metric[] = [];
      for (const d of [1, rng.int(2, 7), 16]) {
        const H = rng.int(1, 3);
        const r = featureDim('taylor2', d), rf = foldedFeatureDim('taylor2', d);
        const z = roundF32(rng.normals(H * r * d)), kt = roundF32(rng.normals(H * r));
        const ref = taylor2FoldRef(z, kt, H, d);
        // The folded features are φ's entries (a, b) with a ≤ b: φ_fᵀZ_f = φᵀZ per head.
        const x = rng.normals(d);
        const f = phi('taylor2', x);
        const folded = [...f.slice(0, 1 + d)];
        for (let a = 0; a < d; a++) for (let b = a; b < d; b++) folded.push(f[1 + d + a * d + b]);
        for (let h = 0; h < H; h++) {
          const want = Array.from({ length: d + 1 }, (_, c) => c < d ? dot(f, Array.from({ length: r }, (_, t) => z[(h * r + t) * d + c])) : dot(f, kt.subarray(h * r, (h + 1) * r)));
          const got = Array.from({ length: d + 1 }, (_, c) => c < d ? dot(folded, Array.from({ length: rf }, (_, t) => ref.zf[(h * rf + t) * d + c])) : dot(folded, ref.ktf.subarray(h * rf, (h + 1) * rf)));
          out.push(compare(`reference φ_fᵀ[Z_f, k̃_f] = φᵀ[Z, k̃] d=${d} h=${h}`, got, want, 1e-12));
        }
        const T = (a: ArrayLike<number>, shape: number[]) => gpu!.tensor(shape, Float32Array.from(a));
        const tz = T(z, [H, r, d]), tkt = T(kt, [H, r]);
        const zf = poisoned(gpu!, [H, rf, d]), ktf = poisoned(gpu!, [H, rf]);
        ntkTaylor2Fold(gpu!, tz, tkt, zf, ktf, { H, d });
        // One float32 addition of two float32 values: within half an ulp of the float64 sum.
        out.push(compare(`fold Z H=${H} d=${d}`, await gpu!.read(zf), ref.zf, 1e-7), compare(`fold k~ H=${H} d=${d}`, await gpu!.read(ktf), ref.ktf, 1e-7));
        gpu!.release(tz, tkt, zf, ktf);
      }
      return out;
    },
  },
  {
    kernel: 'ntk_attention',
    name: 'taylor2 with closed-form (Z, k) from a prefix equals prefix attention with e^t → 1 + t + t²/2',
    gpu: true,
    async run(gpu, rng) {
      const out: Metric[] = [];
      for (const m of [0, 1, rng.int(2, 40)]) {
        const B = 2, H = 2, L = rng.int(1, 6), d = rng.int(2, 5);
        const r = featureDim('taylor2', d);
        const n = B * H * L * d;
        const q = roundF32(rng.normals(n)), k = roundF32(rng.normals(n)), v = roundF32(rng.normals(n));
        const pk = roundF32(rng.normals(H * Math.max(m, 1) * d)), pv = roundF32(rng.normals(H * Math.max(m, 1) * d));
        const T = (a: ArrayLike<number>, shape: number[]) => gpu!.tensor(shape, Float32Array.from(a));
        const tz = poisoned(gpu!, [H, r, d]), tkap = poisoned(gpu!, [H, r]);
        if (m > 0) ntkFromPrefix(gpu!, T(pk, [H, m, d]), T(pv, [H, m, d]), tz, tkap, { H, m, d, featureMap: 'taylor2' });
        else {
          gpu!.write(tz, new Float32Array(H * r * d));
          gpu!.write(tkap, new Float32Array(H * r));
        }
        if (m > 0) {
          const cf = ntkFromPrefixRef(pk, pv, H, m, d, 'taylor2');
          out.push(compare(`closed-form Z m=${m}`, await gpu!.read(tz), cf.z, FWD), compare(`closed-form k m=${m}`, await gpu!.read(tkap), cf.k, FWD));
        }
        const o = poisoned(gpu!, [B, H, L, d]), stats = poisoned(gpu!, [B, H, L, 2]);
        ntkAttentionForward(gpu!, { q: T(q, [B, H, L, d]), k: T(k, [B, H, L, d]), v: T(v, [B, H, L, d]), z: tz, kappa: tkap, o, stats }, { B, H, L, d, featureMap: 'taylor2', kParam: 'identity' });
        out.push(compare(`o vs taylor prefix attention m=${m} L=${L} d=${d}`, await gpu!.read(o), taylorPrefixAttentionRef(q, k, v, pk, pv, B, H, L, d, m), FWD));
      }
      return out;
    },
  },
  {
    kernel: 'ntk_attention',
    name: 'reference: φ identities and backward vs finite differences (every gradient, both maps, all k params)',
    gpu: false,
    async run(_gpu, rng) {
      const out: Metric[] = [];
      // φ(q)ᵀφ(p) = 1 + t + t²/2 for taylor2.
      const d = 5;
      const a = rng.normals(d), b = rng.normals(d);
      const t = dot(a, b) / Math.sqrt(d);
      out.push({ what: 'taylor2 φ(q)ᵀφ(p) = 1 + t + t²/2', err: Math.abs(dot(phi('taylor2', a), phi('taylor2', b)) - (1 + t + (t * t) / 2)), bound: 1e-12 });
      for (const featureMap of MAPS) for (const kParam of KPARAMS) {
        const c: NtkDims = { B: 2, H: 2, L: 4, d: 3, featureMap, kParam, causal: rng.next() < 0.5 };
        const x = inputs(rng, { ...c, rank: 0 });
        const gr = ntkAttentionBackwardRef(x.q, x.k, x.v, x.z, x.kappa, x.g, c);
        const loss = (qq: Float64Array, kk: Float64Array, vv: Float64Array, zz: Float64Array, kap: Float64Array) => dot(ntkAttentionRef(qq, kk, vv, zz, kap, c).o, x.g);
        const tag = `${featureMap}/${kParam}`;
        out.push(
          fdMetric(`dq ${tag}`, (p) => loss(p, x.k, x.v, x.z, x.kappa), x.q, gr.dq, rng),
          fdMetric(`dk ${tag}`, (p) => loss(x.q, p, x.v, x.z, x.kappa), x.k, gr.dk, rng),
          fdMetric(`dv ${tag}`, (p) => loss(x.q, x.k, p, x.z, x.kappa), x.v, gr.dv, rng),
          fdMetric(`dz ${tag}`, (p) => loss(x.q, x.k, x.v, p, x.kappa), x.z, gr.dz, rng),
          fdMetric(`dkappa ${tag}`, (p) => loss(x.q, x.k, x.v, x.z, p), x.kappa, gr.dkappa, rng),
        );
      }
      return out;
    },
  },
];
