import type { Gpu } from '../gpu/runtime';
import type { Rng } from '../util/rng';
import { poisoned, roundF32, type KernelCheck, type Metric } from './check';
import { errorMetrics, metricGroups, reduceMetrics } from './metrics';
import { metricsRef } from './metrics.ref';

// Bounds (relative error of each scalar vs the float64 reference on the same float32 inputs):
// - sumSq, refSumSq: sums of non-negative terms, so no cancellation: each term carries
//   ≤ 3 roundings (a − b, square, add) and a partial sum passes through ≤ ⌈n/65536⌉ ≤ 31
//   sequential adds plus two 8-level trees: ≤ ~40·2⁻²⁴ ≈ 2.4e-6 worst case → 1e-5.
// - maxAbs: max is exact; only a − b is rounded once: ≤ 2⁻²⁴ → 1e-6.
// - rel = √(sumSq/refSumSq): half the sums' relative errors, plus one → 1e-5.
// - repeat runs: same n, same group count, same order → bitwise equal (bound 0).
// - b = a: every difference is exactly 0 → sumSq = maxAbs = 0 exactly (bound 0).
const SUM = 1e-5;
const MAX = 1e-6;

const rel = (got: number, ref: number) => (Number.isFinite(got) ? (ref === 0 ? Math.abs(got) : Math.abs(got - ref) / Math.abs(ref)) : Infinity);

async function runCase(gpu: Gpu, rng: Rng, n: number, withB: boolean, maxGroups?: number): Promise<Metric[]> {
  const bv = roundF32(rng.normals(n));
  // a = b + small error, as when comparing a result with its reference.
  const av = roundF32(bv.map((v) => v + 1e-3 * rng.normal()));
  const ref = metricsRef(av, withB ? bv : null);
  const ta = gpu.tensor([n], Float32Array.from(av), 'a');
  const tb = withB ? gpu.tensor([n], Float32Array.from(bv), 'b') : null;
  const out = poisoned(gpu, [3]);
  reduceMetrics(gpu, ta, tb, out, { maxGroups });
  const got = await gpu.read(out);
  const tag = `n=${n}${withB ? '' : ' no b'} (${metricGroups(n, maxGroups)} groups)`;
  const m: Metric[] = [
    { what: `sumSq ${tag}`, err: rel(got[0], ref.sumSq), bound: SUM },
    { what: `refSumSq ${tag}`, err: rel(got[1], ref.refSumSq), bound: SUM },
    { what: `maxAbs ${tag}`, err: rel(got[2], ref.maxAbs), bound: MAX },
  ];
  // The convenience wrapper, twice: bitwise-equal repeats, and the derived rel.
  const e1 = await errorMetrics(gpu, ta, tb);
  const e2 = await errorMetrics(gpu, ta, tb);
  m.push({ what: `rel ${tag}`, err: rel(e1.rel, ref.rel), bound: SUM });
  const same = e1.sumSq === e2.sumSq && e1.refSumSq === e2.refSumSq && e1.maxAbs === e2.maxAbs;
  m.push({ what: `repeat differs ${tag}`, err: same ? 0 : 1, bound: 0 });
  gpu.release(ta, tb, out);
  return m;
}

export const checks: KernelCheck[] = [
  {
    kernel: 'metrics',
    name: 'sum of squares, reference sum of squares, max |a − b|, random sizes',
    gpu: true,
    async run(gpu, rng) {
      const out: Metric[] = [];
      out.push(...(await runCase(gpu!, rng, 1, true)));
      out.push(...(await runCase(gpu!, rng, 1, false)));
      out.push(...(await runCase(gpu!, rng, rng.int(1, 500) * 2 + 1, true)));
      out.push(...(await runCase(gpu!, rng, rng.int(5000, 70000), rng.next() < 0.5)));
      // Millions of elements: all 256 groups, each thread looping over several elements.
      out.push(...(await runCase(gpu!, rng, rng.int(1_050_000, 1_300_000), rng.next() < 0.5)));
      // One group only: a single workgroup strides over everything.
      out.push(...(await runCase(gpu!, rng, rng.int(3000, 9000), true, 1)));
      return out;
    },
  },
  {
    kernel: 'metrics',
    name: 'b = a gives exactly zero error',
    gpu: true,
    async run(gpu, rng) {
      const n = rng.int(100, 5000);
      const a = roundF32(rng.normals(n));
      const ta = gpu!.tensor([n], Float32Array.from(a));
      const tb = gpu!.tensor([n], Float32Array.from(a));
      const e = await errorMetrics(gpu!, ta, tb);
      gpu!.release(ta, tb);
      return [
        { what: `sumSq n=${n}`, err: Number.isFinite(e.sumSq) ? e.sumSq : Infinity, bound: 0 },
        { what: `maxAbs n=${n}`, err: Number.isFinite(e.maxAbs) ? e.maxAbs : Infinity, bound: 0 },
        { what: `refSumSq n=${n}`, err: rel(e.refSumSq, metricsRef(a, a).refSumSq), bound: SUM },
      ];
    },
  },
];
