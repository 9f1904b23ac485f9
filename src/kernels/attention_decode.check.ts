import type { Gpu } from '../gpu/runtime';
import type { Rng } from '../util/rng';
import { compare, maxAbsErr, poisoned, roundF32, type KernelCheck, type Metric } from './check';
import { attentionDecode, attentionDecodeAppend, attentionDecodeNtk, type DecodePath, ntkDecodeTerms } from './attention_decode';
import { attentionDecodeAppendRef, attentionDecodeNtkRef, attentionDecodeRef, type DecodeRefDims } from './attention_decode.ref';
import { featureDim } from './ntk_attention.ref';
import type { FeatureMapName, KParam } from './ntk_types';
import { scaledErr, U32 } from './scaled';

// Bounds:
// - append: exact copies (bound 0), and the cache rows outside pos … pos+n−1 unchanged.
// - o, lse: each row is a float32 sum over ≤ m + t + n ≈ 150 keys of e^{s−max}·v terms
//   (d-term dot products for s), merged once across the workgroup; as for the prefix
//   attention kernel (prefix_attention.check.ts) rounding is ~1e-7…1e-6 and a dropped key
//   or a wrong mask moves o by ≥ 1e-3: bound 1e-5.
// - NTK: element-wise against the reference's rounding scales, as ntk_attention.check.ts
//   (≤ t + n + r + d ≈ 80 chained terms here): 64·2⁻²⁴.
// Cache rows from t + n on are NaN: a kernel reading past the causal end fails.
const FWD_BOUND = 1e-5;
const SCALED = 64 * U32;

interface Case extends DecodeRefDims {
  qStd?: number;
  path?: DecodePath;
}

/** Caches [H, Tmax, d] holding random rows 0 … t+n−1 and NaN after them. */
function caches(rng: Rng, { H, Tmax, d, t, n }: { H: number; Tmax: number; d: number; t: number; n: number }) {
  const make = () => {
    const c = roundF32(rng.normals(H * Tmax * d));
    for (let h = 0; h < H; h++) c.fill(Number.NaN, (h * Tmax + t + n) * d, (h + 1) * Tmax * d);
    return c;
  };
  return { kCache: make(), vCache: make() };
}

const up = (gpu: Gpu, shape: number[], a: ArrayLike<number>, label: string) => gpu.tensor(shape, Float32Array.from(a), label);

async function appendCase(gpu: Gpu, rng: Rng, c: { H: number; n: number; d: number; Tmax: number; pos: number }): Promise<Metric[]> {
  const { H, n, d, Tmax, pos } = c;
  const qkv = roundF32(rng.normals(n * 3 * H * d));
  const kc = roundF32(rng.normals(H * Tmax * d));
  const vc = roundF32(rng.normals(H * Tmax * d));
  const ref = attentionDecodeAppendRef(qkv, kc, vc, c);
  const t = { qkv: up(gpu, [n, 3 * H * d], qkv, 'qkv'), q: poisoned(gpu, [H, n, d], 'q'), kc: up(gpu, [H, Tmax, d], kc, 'kc'), vc: up(gpu, [H, Tmax, d], vc, 'vc') };
  attentionDecodeAppend(gpu, t.qkv, t.q, t.kc, t.vc, c);
  const tag = `H=${H} n=${n} d=${d} Tmax=${Tmax} pos=${pos}`;
  const out = [
    { what: `q ${tag}`, err: maxAbsErr(await gpu.read(t.q), ref.q), bound: 0 },
    { what: `k cache ${tag}`, err: maxAbsErr(await gpu.read(t.kc), ref.k), bound: 0 },
    { what: `v cache ${tag}`, err: maxAbsErr(await gpu.read(t.vc), ref.v), bound: 0 },
  ];
  gpu.release(t.qkv, t.q, t.kc, t.vc);
  return out;
}

async function decodeCase(gpu: Gpu, rng: Rng, c: Case): Promise<Metric[]> {
  const { H, n, d, m, Tmax } = c;
  const q = roundF32(rng.normals(H * n * d, c.qStd ?? 1));
  const { kCache, vCache } = caches(rng, c);
  const pk = roundF32(rng.normals(H * m * d));
  const pv = roundF32(rng.normals(H * m * d));
  const ref = attentionDecodeRef({ q, kCache, vCache, pk, pv }, c);
  const t = {
    q: up(gpu, [H, n, d], q, 'q'),
    kCache: up(gpu, [H, Tmax, d], kCache, 'kc'),
    vCache: up(gpu, [H, Tmax, d], vCache, 'vc'),
    pk: m > 0 ? up(gpu, [H, m, d], pk, 'pk') : gpu.tensor([1], undefined, 'no-pk'),
    pv: m > 0 ? up(gpu, [H, m, d], pv, 'pv') : gpu.tensor([1], undefined, 'no-pv'),
    o: poisoned(gpu, [H, n, d], 'o'),
    lse: poisoned(gpu, [H, n], 'lse'),
  };
  attentionDecode(gpu, t, c);
  const tag = `H=${H} n=${n} t=${c.t} Tmax=${Tmax} d=${d} m=${m}${c.path ? ` path=${c.path}` : ''}`;
  const out = [compare(`o ${tag}`, await gpu.read(t.o), ref.o, FWD_BOUND), compare(`lse ${tag}`, await gpu.read(t.lse), ref.lse, FWD_BOUND)];
  gpu.release(...Object.values(t));
  return out;
}

interface NtkCase extends Omit<DecodeRefDims, 'm'> {
  featureMap: FeatureMapName;
  kParam: KParam;
  rank: number;
}

async function ntkCase(gpu: Gpu, rng: Rng, c: NtkCase): Promise<Metric[]> {
  const { H, n, d, Tmax, rank: s } = c;
  const r = featureDim(c.featureMap, d);
  const q = roundF32(rng.normals(H * n * d));
  const { kCache, vCache } = caches(rng, c);
  const za = roundF32(rng.normals(H * r * s, 0.3));
  const zb = roundF32(rng.normals(H * s * d, 0.3));
  let z = roundF32(rng.normals(H * r * d, 0.3));
  if (s) {
    z = new Float64Array(H * r * d);
    for (let h = 0; h < H; h++) for (let i = 0; i < r; i++) for (let j = 0; j < d; j++) {
      let a = 0;
      for (let u = 0; u < s; u++) a += za[(h * r + i) * s + u] * zb[(h * s + u) * d + j];
      z[(h * r + i) * d + j] = a;
    }
  }
  // κ of both signs (|κ| ≥ 0.2) so every k parametrisation differs.
  const kappa = roundF32(Array.from({ length: H * r }, () => (rng.next() < 0.5 ? -1 : 1) * (0.2 + rng.next())));
  const ref = attentionDecodeNtkRef({ q, kCache, vCache, z, kappa }, c);
  const adapter = s ? { za: up(gpu, [H, r, s], za, 'za'), zb: up(gpu, [H, s, d], zb, 'zb') } : { z: up(gpu, [H, r, d], z, 'z') };
  const t = { q: up(gpu, [H, n, d], q, 'q'), kCache: up(gpu, [H, Tmax, d], kCache, 'kc'), vCache: up(gpu, [H, Tmax, d], vCache, 'vc'), kappa: up(gpu, [H, r], kappa, 'kappa'), o: poisoned(gpu, [H, n, d], 'o') };
  // The per-sequence terms, built into poisoned buffers, then the step that reads them.
  const into = { z: s ? poisoned(gpu, [H, r, d], 'z (formed)') : null, kTilde: poisoned(gpu, [H, r], 'k~') };
  const terms = ntkDecodeTerms(gpu, { kappa: t.kappa, ...adapter }, into, { H, d, featureMap: c.featureMap, kParam: c.kParam, rank: s || undefined });
  attentionDecodeNtk(gpu, { ...t, ...terms }, c);
  const tag = `${c.featureMap}/${c.kParam}${s ? ` s=${s}` : ''} H=${H} n=${n} t=${c.t} Tmax=${Tmax} d=${d}`;
  const out = [{ what: `o ${tag}`, err: scaledErr(await gpu.read(t.o), ref.o, ref.oScale), bound: SCALED }];
  gpu.release(...Object.values(t), ...Object.values(adapter), ...Object.values(into));
  return out;
}

const DECODE_CASES: Case[] = [
  { H: 3, n: 1, t: 70, Tmax: 75, d: 24, m: 0 }, // one token, t not a multiple of any workgroup
  { H: 2, n: 5, t: 0, Tmax: 9, d: 7, m: 1 }, // a prefill: the rows see each other causally
  { H: 2, n: 3, t: 129, Tmax: 140, d: 100, m: 17, qStd: 2 }, // sharp rows, d past 64, odd m
];

const NTK_CASES: NtkCase[] = [
  { featureMap: 'elu1', kParam: 'exp', rank: 0, H: 2, n: 2, t: 9, Tmax: 12, d: 5 },
  { featureMap: 'taylor2', kParam: 'softplus', rank: 2, H: 3, n: 1, t: 33, Tmax: 34, d: 6 }, // low rank Z
  { featureMap: 'taylor2', kParam: 'identity', rank: 0, H: 2, n: 3, t: 0, Tmax: 5, d: 4 }, // signed denominators, prefill
  { featureMap: 'elu1', kParam: 'abs', rank: 0, H: 1, n: 1, t: 65, Tmax: 70, d: 64 }, // the largest NTK head dim
];

export const checks: KernelCheck[] = [
  {
    kernel: 'attention_decode',
    name: 'append: the new rows\' q, k, v copied into q and the caches at pos; other cache rows kept',
    gpu: true,
    async run(gpu, rng) {
      return [
        ...(await appendCase(gpu!, rng, { H: 3, n: 4, d: 7, Tmax: 13, pos: 6 })),
        ...(await appendCase(gpu!, rng, { H: 2, n: 5, d: 3, Tmax: 5, pos: 0 })),
      ];
    },
  },
  ...(['software', 'gpu'] as const).map((path): KernelCheck => ({
    kernel: 'attention_decode',
    name: `new rows against prefix + cache = rows t… of causal prefix attention (m 0, 1, 17; n 1, 3, 5; path ${path})`,
    gpu: true,
    async run(gpu, rng) {
      const out: Metric[] = [];
      for (const c of DECODE_CASES) out.push(...(await decodeCase(gpu!, rng, { ...c, path })));
      return out;
    },
  })),
  {
    kernel: 'attention_decode',
    name: 'NTK-Attention decode = rows t… of NTK-Attention (elu1, taylor2, low rank, identity k̃)',
    gpu: true,
    async run(gpu, rng) {
      const out: Metric[] = [];
      for (const c of NTK_CASES) out.push(...(await ntkCase(gpu!, rng, c)));
      return out;
    },
  },
];
