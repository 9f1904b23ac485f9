import type { Gpu } from '../gpu/runtime';
import type { Rng } from '../util/rng';
import { compare, fdCheck, poisoned, roundF32, type KernelCheck, type Metric } from './check';
import { crossEntropy } from './crossentropy';
import { crossEntropyRef } from './crossentropy.ref';
import { scaledErr, U32 } from './scaled';

// Bounds (‖gpu − ref‖/‖ref‖, float32 kernel vs float64 reference on the same float32 inputs):
// - losses: max and Σe^{x−max} over ≤ 1500 terms by ≤ 256-way strided sums + a tree, so the
//   sum's relative error is ~(V/WG + log2 WG)·2^-24 ≲ 1e-6; loss = (max − x_t) + log Σ adds a
//   few ulps. 1e-5 leaves room for other drivers' exp/log (a few ulps each).
// - dlogits: exp(x−max)/Σ per element, a few ulps plus the sum's error above → 1e-5.
// - mean: ≤ ~70k positive terms, ≤ 275 per thread then a 256-way tree: ≲ 300·2^-24 ≈ 2e-5
//   worst case, ~1e-6 typical (random rounding); 5e-5 for the 70k-row case, 1e-5 otherwise.
// - count: an integer, must be exact (bound 0).
// losses, mean and dlogits are measured against rounding scales (roundingScales below), not
// relative to their own size: a loss near 0 (the target's logit ahead by ≳ 6, so log Σ ≈ 0
// carries Σ's absolute error ~2⁻²⁴) and the target's softmax − 1 cancel; a correct kernel
// failed by 2.3e-5 at a lead of 8 (V = 2) and by 1 at 17 (loss 0 against 4e-8).
const BOUND = 1e-5;
/** For the scaled errors: 64·2⁻²⁴ ≈ 3.8e-6 (exp/log a few ulps each, Σ's tree ≤ ~14). */
const SCALED = 64 * U32;

/**
 * Per element, the size of what float32 rounding can do, row by row with p = softmax,
 * m = max and S = Σ_j p_j·|x_j − m|: e^{x_j − m} is off relatively by ~|x_j − m| ulps, so
 * log Σ absolutely by ~(1 + S) ulps: lossScale = 1 + S + (m − x_t); a gradient element
 * p_j − [j = t] is off by ~p_j·(1 + |x_j − m| + S) ulps, plus 1 − p_t's own rounding.
 */
function roundingScales(logits: ArrayLike<number>, targets: ArrayLike<number>, n: number, v: number, ignoreIndex: number, k: number) {
  const loss = new Float64Array(n);
  const dlogits = new Float64Array(n * v);
  for (let i = 0; i < n; i++) {
    const t = targets[i];
    if (t === ignoreIndex || !(t >= 0 && t < v)) continue;
    const row = Array.from({ length: v }, (_, j) => logits[i * v + j]);
    const m = Math.max(...row);
    const e = row.map((x) => Math.exp(x - m));
    const sum = e.reduce((a, b) => a + b, 0);
    const p = e.map((x) => x / sum);
    const spread = row.reduce((a, x, j) => a + p[j] * (m - x), 0);
    loss[i] = 1 + spread + (m - row[t]);
    for (let j = 0; j < v; j++) dlogits[i * v + j] = Math.abs(k) * (p[j] * (1 + (m - row[j]) + spread) + (j === t ? 1 - p[t] : 0));
  }
  return { loss, dlogits };
}

interface Case {
  n: number;
  v: number;
  /** Probability that a row's target is the ignore index. */
  ignoreP: number;
  /** Random per-row offset magnitude: large values test the max-subtraction. */
  offset: number;
  grad: 'separate' | 'inplace' | 'none';
  scale?: number;
  ignoreIndex?: number;
  meanBound?: number;
  /** The target's logit set this far above the row's max: loss ≈ e^{−lead}, softmax_t ≈ 1. */
  lead?: number;
}

async function runCase(gpu: Gpu, rng: Rng, c: Case): Promise<Metric[]> {
  const { n, v } = c;
  const ignoreIndex = c.ignoreIndex ?? -1;
  const x = new Float64Array(n * v);
  for (let i = 0; i < n; i++) {
    const off = c.offset * (2 * rng.next() - 1);
    for (let j = 0; j < v; j++) x[i * v + j] = off + 3 * rng.normal();
  }
  const logits = roundF32(x);
  const targets = new Int32Array(n);
  for (let i = 0; i < n; i++) targets[i] = rng.next() < c.ignoreP ? ignoreIndex : rng.int(0, v - 1);
  if (c.lead !== undefined) {
    for (let i = 0; i < n; i++) {
      const row = logits.subarray(i * v, (i + 1) * v);
      if (targets[i] >= 0) row[targets[i]] = Math.fround(Math.max(...row) + c.lead);
    }
  }
  const scale = c.scale ?? 1;
  const ref = crossEntropyRef(logits, targets, n, v, ignoreIndex, scale);

  const tl = gpu.tensor([n, v], Float32Array.from(logits), 'logits');
  const tt = gpu.tensor([n], targets, 'targets');
  const losses = poisoned(gpu, [n], 'losses');
  const stats = poisoned(gpu, [2], 'stats');
  const dl = c.grad === 'separate' ? poisoned(gpu, [n, v], 'dlogits') : c.grad === 'inplace' ? tl : null;
  crossEntropy(gpu, tl, tt, losses, dl, stats, { ignoreIndex, scale });
  const tag = `N=${n} V=${v} ${c.grad}${c.ignoreP >= 1 ? ' all-ignored' : ''}`;
  const st = await gpu.read(stats);
  const sc = roundingScales(logits, targets, n, v, ignoreIndex, scale / Math.max(ref.count, 1));
  const meanScale = ref.count > 0 ? sc.loss.reduce((a, b) => a + b, 0) / ref.count : 0;
  const out: Metric[] = [
    { what: `losses ${tag}`, err: scaledErr(await gpu.read(losses), ref.losses, sc.loss), bound: SCALED },
    { what: `mean ${tag}`, err: scaledErr([st[0]], [ref.mean], [meanScale]), bound: c.meanBound ?? BOUND },
    { what: `count ${tag} (${ref.count})`, err: Math.abs(st[1] - ref.count), bound: 0 },
  ];
  if (dl) out.push({ what: `dlogits ${tag}`, err: scaledErr(await gpu.read(dl), ref.dlogits, sc.dlogits), bound: SCALED });
  gpu.release(tl, tt, losses, stats, c.grad === 'separate' ? dl : null);
  return out;
}

export const checks: KernelCheck[] = [
  {
    kernel: 'crossentropy',
    name: 'loss, dlogits, mean vs reference, random shapes',
    gpu: true,
    async run(gpu, rng) {
      const cases: Case[] = [
        // V=1: softmax is 1, loss and gradient exactly 0; N=1.
        { n: 1, v: 1, ignoreP: 0, offset: 0, grad: 'separate' },
        { n: rng.int(2, 40), v: 3, ignoreP: 0.3, offset: 5, grad: 'separate', scale: rng.uniform(0.2, 2) },
        // Row offsets up to ±100: e^{x} alone would overflow float32 (> e^88.7).
        { n: rng.int(20, 130), v: 65, ignoreP: 0.2, offset: 100, grad: 'separate' },
        // V > 256 and odd: each thread strides over several logits; in place.
        { n: rng.int(3, 12), v: rng.int(350, 750) * 2 + 1, ignoreP: 0.25, offset: 20, grad: 'inplace' },
        { n: 1, v: rng.int(2, 300), ignoreP: 0, offset: 10, grad: 'inplace' },
        // A confident row: loss ~e^{−lead} (0 in float32 at 17), softmax_t − 1 cancels.
        { n: 3, v: 2, ignoreP: 0, offset: 10, grad: 'separate', lead: rng.uniform(6, 20) },
        { n: 2, v: rng.int(3, 40), ignoreP: 0, offset: 10, grad: 'inplace', lead: rng.uniform(6, 20) },
        // Loss only (evaluation), a non-default ignore index.
        { n: rng.int(5, 60), v: rng.int(2, 100), ignoreP: 0.3, offset: 10, grad: 'none', ignoreIndex: rng.int(1, 5) * -100 },
        // All rows ignored: loss 0, mean 0 (not 0/0), gradient 0.
        { n: rng.int(1, 9), v: rng.int(2, 50), ignoreP: 1, offset: 1, grad: 'separate' },
        { n: rng.int(1, 9), v: rng.int(2, 50), ignoreP: 1, offset: 1, grad: 'inplace' },
      ];
      const out: Metric[] = [];
      for (const c of cases) out.push(...(await runCase(gpu!, rng, c)));
      return out;
    },
  },
  {
    kernel: 'crossentropy',
    name: 'more than 65535 rows (rows folded into y)',
    gpu: true,
    async run(gpu, rng) {
      return runCase(gpu!, rng, { n: 65535 + rng.int(1, 3000), v: 2, ignoreP: 0.1, offset: 4, grad: 'separate', meanBound: 5e-5 });
    },
  },
  {
    kernel: 'crossentropy',
    name: 'target outside [0, V) gives NaN',
    gpu: true,
    async run(gpu, rng) {
      const n = rng.int(3, 20);
      const v = rng.int(2, 40);
      const targets = new Int32Array(n);
      for (let i = 0; i < n; i++) targets[i] = rng.int(0, v - 1);
      const bad = rng.int(0, n - 1);
      targets[bad] = rng.next() < 0.5 ? v : -2;
      const logits = roundF32(rng.normals(n * v, 2));
      const ref = crossEntropyRef(logits, targets, n, v);
      const tl = gpu!.tensor([n, v], Float32Array.from(logits));
      const tt = gpu!.tensor([n], targets);
      const losses = poisoned(gpu!, [n]);
      const stats = poisoned(gpu!, [2]);
      const dl = poisoned(gpu!, [n, v]);
      crossEntropy(gpu!, tl, tt, losses, dl, stats);
      const got = await gpu!.read(losses);
      const g = await gpu!.read(dl);
      const st = await gpu!.read(stats);
      const okRows = [...got].filter((_, i) => i !== bad);
      const refRows = [...ref.losses].filter((_, i) => i !== bad);
      const badGrad = g.slice(bad * v, (bad + 1) * v);
      gpu!.release(tl, tt, losses, stats, dl);
      return [
        { what: `loss[${bad}] (target ${targets[bad]}) is NaN`, err: Number.isNaN(got[bad]) ? 0 : 1, bound: 0 },
        { what: 'its dlogits row is NaN', err: badGrad.every((a) => Number.isNaN(a)) ? 0 : 1, bound: 0 },
        { what: 'mean is NaN', err: Number.isNaN(st[0]) ? 0 : 1, bound: 0 },
        compare('other rows', okRows, refRows, BOUND),
      ];
    },
  },
  {
    kernel: 'crossentropy',
    name: 'reference dlogits vs finite differences of the mean loss',
    gpu: false,
    async run(_gpu, rng) {
      // Central differences in float64: truncation O(h²·f''') ≈ 1e-10, rounding ≈ 1e-16/h ≈ 1e-11,
      // so 1e-6 is far above noise yet far below any formula error (a wrong count or a missing
      // softmax term is O(1) relative).
      const out: Metric[] = [];
      for (const [n, v] of [
        [rng.int(3, 8), rng.int(2, 9)],
        [1, rng.int(2, 30)],
        [rng.int(4, 10), 1],
      ]) {
        const x = rng.normals(n * v, 2);
        const targets = Int32Array.from({ length: n }, () => (rng.next() < 0.3 ? -1 : rng.int(0, v - 1)));
        if (n > 1) targets[0] = -1; // at least one ignored row (its FD gradient is 0 too)
        targets[n - 1] = rng.int(0, v - 1); // at least one counted row
        const ref = crossEntropyRef(x, targets, n, v);
        const f = (xx: Float64Array) => crossEntropyRef(xx, targets, n, v).mean;
        out.push({ what: `dlogits N=${n} V=${v}`, err: fdCheck(f, x, ref.dlogits, rng, 40), bound: 1e-6 });
      }
      return out;
    },
  },
];
