import type { Gpu } from '../gpu/runtime';
import type { Rng } from '../util/rng';
import { compare, dot, fdCheck, poisoned, roundF32, type KernelCheck, type Metric } from './check';
import { embeddingBackward, embeddingForward } from './embedding';
import { embeddingBackwardRef, embeddingRef } from './embedding.ref';

// Bounds (‖gpu − ref‖/‖ref‖, float32 kernel vs float64 reference on the same inputs):
// - out: one float32 add per element, ≤ 2⁻²⁴ relative → 1e-6.
// - dwte: per element a sequential sum over the ≤ B·T ≤ 120 positions holding the token,
//   ~√k·2⁻²⁴ typical, ≤ 120·2⁻²⁴ ≈ 7e-6 worst case → 1e-5. dwpe: sums over B ≤ 4 → 1e-5.
// - accumulate variants add one more rounding: same bounds.
// - FD (float64 reference vs central differences): the map is linear, so differences are
//   exact up to rounding ~1e-11; 1e-8.
const FWD = 1e-6;
const BWD = 1e-5;

interface Case {
  B: number;
  T: number;
  C: number;
  V: number;
  /** wpe rows (≥ T). */
  P: number;
  maxGroups?: number;
  /** Pass dwte = null (only dwpe). */
  noWte?: boolean;
  /** Bind wte / dwte in vocabulary chunks of at most this many bytes. */
  maxBindingBytes?: number;
}

/** Tokens skewed towards small ids (so tokens repeat, and some ids never occur), with a forced repeat. */
function drawTokens(rng: Rng, n: number, V: number): Uint32Array {
  const t = new Uint32Array(n);
  for (let i = 0; i < n; i++) t[i] = Math.min(V - 1, Math.floor(V * rng.next() ** 2));
  if (n >= 2) t[n - 1] = t[0];
  return t;
}

async function runCase(gpu: Gpu, rng: Rng, c: Case): Promise<Metric[]> {
  const { B, T, C, V, P } = c;
  const tokens = drawTokens(rng, B * T, V);
  const wte = roundF32(rng.normals(V * C));
  const wpe = roundF32(rng.normals(P * C));
  const dout = roundF32(rng.normals(B * T * C));
  const ref = embeddingBackwardRef(tokens, dout, B, T, C, V, P);
  const repeats = B * T - new Set(tokens).size;
  const tag = `B=${B} T=${T} C=${C} V=${V} P=${P}${c.maxGroups ? ` groups≤${c.maxGroups}` : ''}${c.maxBindingBytes ? ` bind≤${c.maxBindingBytes}B` : ''} (${repeats} repeated)`;

  const ttok = gpu.tensor([B, T], tokens, 'tokens');
  const twte = gpu.tensor([V, C], Float32Array.from(wte), 'wte');
  const twpe = gpu.tensor([P, C], Float32Array.from(wpe), 'wpe');
  const tdout = gpu.tensor([B, T, C], Float32Array.from(dout), 'dout');
  const tout = poisoned(gpu, [B, T, C]);
  const tdwte = c.noWte ? null : poisoned(gpu, [V, C], 'dwte');
  const tdwpe = poisoned(gpu, [P, C], 'dwpe');
  const dims = { B, T, C, maxGroups: c.maxGroups, maxBindingBytes: c.maxBindingBytes };
  embeddingForward(gpu, ttok, twte, twpe, tout, dims);
  embeddingBackward(gpu, ttok, tdout, tdwte, tdwpe, { ...dims, V });
  const out: Metric[] = [compare(`out ${tag}`, await gpu.read(tout), embeddingRef(tokens, wte, wpe, B, T, C), FWD)];
  if (tdwte) out.push(compare(`dwte ${tag}`, await gpu.read(tdwte), ref.dwte, BWD));
  out.push(compare(`dwpe ${tag}`, await gpu.read(tdwpe), ref.dwpe, BWD));

  // Accumulate onto existing gradients (dwte: the tied head's share).
  const g0 = roundF32(rng.normals(V * C));
  const p0 = roundF32(rng.normals(P * C));
  if (tdwte) gpu.write(tdwte, Float32Array.from(g0));
  gpu.write(tdwpe, Float32Array.from(p0));
  embeddingBackward(gpu, ttok, tdout, tdwte, tdwpe, { ...dims, V, accumulateWte: true, accumulateWpe: true });
  if (tdwte) out.push(compare(`dwte += ${tag}`, await gpu.read(tdwte), ref.dwte.map((v, i) => v + g0[i]), BWD));
  out.push(compare(`dwpe += ${tag}`, await gpu.read(tdwpe), ref.dwpe.map((v, i) => v + p0[i]), BWD));
  gpu.release(ttok, twte, twpe, tdout, tout, tdwte, tdwpe);
  return out;
}

export const checks: KernelCheck[] = [
  {
    kernel: 'embedding',
    name: 'forward + backward (dwte, dwpe; write and accumulate) vs reference, random shapes',
    gpu: true,
    async run(gpu, rng) {
      const T1 = rng.int(2, 9);
      const T2 = rng.int(10, 30);
      const T3 = rng.int(5, 20);
      const cases: Case[] = [
        { B: 1, T: 1, C: 1, V: 1, P: 1 },
        { B: 1, T: T1, C: 7, V: 3, P: T1 + rng.int(0, 5) },
        { B: rng.int(2, 4), T: 1, C: 33, V: rng.int(2, 6), P: 1 },
        { B: rng.int(2, 4), T: T2, C: rng.int(30, 70) * 2 + 1, V: rng.int(20, 70), P: T2 + rng.int(1, 10) },
        // Few workgroups: vocabulary rows and dwpe elements are grid-strided (as V > 65535).
        { B: 3, T: T3, C: rng.int(65, 100), V: rng.int(5, 20), P: T3 + rng.int(0, 3), maxGroups: rng.int(1, 3) },
        // wte / dwte bound in vocabulary chunks (as gpt2-medium's 206 MB wte on a device whose
        // binding limit is 128 MiB): 2-3 chunks of 64 rows (C = 4: 1 KiB, a multiple of the
        // 256-byte offset alignment), the last one partial; every token id and a bad one.
        { B: 2, T: rng.int(20, 40), C: 4, V: rng.int(130, 190), P: 41, maxBindingBytes: 1024 },
        // Frozen token embedding: only dwpe.
        { B: 2, T: 5, C: 9, V: 4, P: 8, noWte: true },
      ];
      const out: Metric[] = [];
      for (const c of cases) out.push(...(await runCase(gpu!, rng, c)));
      return out;
    },
  },
  {
    kernel: 'embedding',
    name: 'token id ≥ V gives a NaN row',
    gpu: true,
    async run(gpu, rng) {
      const [B, T, C, V] = [2, 3, 5, 4];
      const tokens = drawTokens(rng, B * T, V);
      const bad = rng.int(0, B * T - 1);
      tokens[bad] = V + rng.int(0, 3);
      const wte = roundF32(rng.normals(V * C));
      const wpe = roundF32(rng.normals(T * C));
      const ttok = gpu!.tensor([B, T], tokens, 'tokens');
      const twte = gpu!.tensor([V, C], Float32Array.from(wte));
      const twpe = gpu!.tensor([T, C], Float32Array.from(wpe));
      const tout = gpu!.tensor([B, T, C]);
      gpu!.fill(tout, 0);
      embeddingForward(gpu!, ttok, twte, twpe, tout, { B, T, C });
      const got = await gpu!.read(tout);
      const ref = embeddingRef(tokens, wte, wpe, B, T, C);
      const good = (a: ArrayLike<number>) => Array.from(a).filter((_, i) => Math.floor(i / C) !== bad);
      const notNan = got.slice(bad * C, (bad + 1) * C).filter((v) => !Number.isNaN(v)).length;
      gpu!.release(ttok, twte, twpe, tout);
      return [
        { what: `non-NaN values in the bad token's row (of ${C})`, err: notNan, bound: 0 },
        compare('other rows', good(got), good(ref), FWD),
      ];
    },
  },
  {
    kernel: 'embedding',
    name: 'reference backward vs finite differences (repeated tokens)',
    gpu: false,
    async run(_gpu, rng) {
      const [B, T, C, V] = [3, 4, 5, 3];
      const tokens = drawTokens(rng, B * T, V);
      const wte = rng.normals(V * C);
      const wpe = rng.normals(T * C);
      const r = rng.normals(B * T * C);
      const g = embeddingBackwardRef(tokens, r, B, T, C, V);
      return [
        { what: 'dwte', err: fdCheck((w) => dot(embeddingRef(tokens, w, wpe, B, T, C), r), wte, g.dwte, rng, V * C), bound: 1e-8 },
        { what: 'dwpe', err: fdCheck((w) => dot(embeddingRef(tokens, wte, w, B, T, C), r), wpe, g.dwpe, rng, T * C), bound: 1e-8 },
      ];
    },
  },
];
