import type { Gpu } from '../gpu/runtime';
import type { FeatureMapName, KParam } from './ntk_types';
import type { Rng } from '../util/rng';
import { compare, dot, fdCheck, poisoned, roundF32, type KernelCheck, type Metric } from './check';
import { ntkAttentionBackward, ntkAttentionForward, ntkFromPrefix, type NtkPath } from './ntk_attention';
import {
  featureDim, ntkAttentionBackwardRef, ntkAttentionRef, ntkFromPrefixRef, phi, taylorPrefixAttentionRef, type NtkDims,
} from './ntk_attention.ref';

// Bounds: each output is a softmax-weighted average over ≤ L + r terms of float32
// products (a few hundred here), so relative errors sit near 1e-7..1e-6; 2e-5 leaves
// room for exp/log differences between drivers while a wrong index or a missing term
// shows up as O(1e-2) or worse.
const FWD = 2e-5;
const BWD = 3e-5;

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
  // κ away from 0 for |κ| (its gradient is sign(κ)); positive k̃ for 'identity' with elu1.
  const kappa = roundF32(Array.from({ length: H * r }, () => (c.kParam === 'abs' || c.kParam === 'identity' ? 0.2 + rng.next() : rng.normal() - 1)));
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
  // Redraw ill-conditioned inputs: a denominator that nearly cancels (taylor2 or identity
  // k̃, where φ(q)ᵀk̃ is signed; a few percent of draws) or a dK whose terms nearly cancel
  // (one key dominating its row: with L = 1, dK ∝ β, and a draw with β ≈ 1e-3 gave 8e-5).
  // Float32 rounding is amplified there by the cancellation factor (the references' cond
  // and dkCancel), not by anything the kernel does.
  const illPosed = (x: ReturnType<typeof inputs>) =>
    Math.max(...ntkAttentionRef(x.q, x.k, x.v, x.z, x.kappa, c).cond) > 10 || ntkAttentionBackwardRef(x.q, x.k, x.v, x.z, x.kappa, x.g, c).dkCancel > 30;
  let x = inputs(rng, c);
  for (let tries = 0; illPosed(x); tries++) {
    if (tries >= 100) throw new Error(`ntk_attention check: no well-conditioned draw for ${JSON.stringify(c)}`);
    x = inputs(rng, c);
  }
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
  const out = [
    compare(`o ${tag}`, await gpu.read(o), ref.o, FWD),
    compare(`beta ${tag}`, await gpu.read(beta), ref.beta, FWD),
    compare(`dq ${tag}`, await gpu.read(dq), rg.dq, BWD),
    compare(`dk ${tag}`, await gpu.read(dk), rg.dk, BWD),
    compare(`dv ${tag}`, await gpu.read(dv), rg.dv, BWD),
    compare(`dkappa ${tag}`, await gpu.read(dkap), rg.dkappa, BWD),
  ];
  if (c.rank) {
    // dZ_A = dZ·Z_Bᵀ, dZ_B = Z_Aᵀ·dZ from the reference dZ.
    const s = c.rank;
    const dza = new Float64Array(H * r * s), dzb = new Float64Array(H * s * d);
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < r; i++) for (let t = 0; t < s; t++) { let a = 0; for (let j = 0; j < d; j++) a += rg.dz[(h * r + i) * d + j] * x.zb![(h * s + t) * d + j]; dza[(h * r + i) * s + t] = a; }
      for (let t = 0; t < s; t++) for (let j = 0; j < d; j++) { let a = 0; for (let i = 0; i < r; i++) a += x.za![(h * r + i) * s + t] * rg.dz[(h * r + i) * d + j]; dzb[(h * s + t) * d + j] = a; }
    }
    out.push(compare(`dza ${tag}`, await gpu.read(grads.dza!), dza, BWD), compare(`dzb ${tag}`, await gpu.read(grads.dzb!), dzb, BWD));
  } else out.push(compare(`dz ${tag}`, await gpu.read(grads.dz!), rg.dz, BWD));
  gpu.release(tq, tk, tv, tg, tkap, o, stats, beta, dq, dk, dv, dkap, ...Object.values(adapter), ...Object.values(grads));
  return out;
}

const MAPS: FeatureMapName[] = ['elu1', 'taylor2'];
const KPARAMS: KParam[] = ['abs', 'exp', 'softplus', 'identity'];

export const checks: KernelCheck[] = [
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
        // Split path across the prefix-attention kernel's 64-row tiles.
        { B: 1, H: 1, L: rng.int(65, 75), d: rng.int(3, 7), featureMap: 'elu1', kParam: 'exp', rank: 0 },
      ];
      for (const c of cases) out.push(...(await runCase(gpu!, rng, c)));
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
          { what: `dq ${tag}`, err: fdCheck((p) => loss(p, x.k, x.v, x.z, x.kappa), Float64Array.from(x.q), gr.dq, rng), bound: 1e-6 },
          { what: `dk ${tag}`, err: fdCheck((p) => loss(x.q, p, x.v, x.z, x.kappa), Float64Array.from(x.k), gr.dk, rng), bound: 1e-6 },
          { what: `dv ${tag}`, err: fdCheck((p) => loss(x.q, x.k, p, x.z, x.kappa), Float64Array.from(x.v), gr.dv, rng), bound: 1e-6 },
          { what: `dz ${tag}`, err: fdCheck((p) => loss(x.q, x.k, x.v, p, x.kappa), Float64Array.from(x.z), gr.dz, rng), bound: 1e-6 },
          { what: `dkappa ${tag}`, err: fdCheck((p) => loss(x.q, x.k, x.v, x.z, p), Float64Array.from(x.kappa), gr.dkappa, rng), bound: 1e-6 },
        );
      }
      return out;
    },
  },
];
