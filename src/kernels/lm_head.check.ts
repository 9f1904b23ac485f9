import type { Gpu, Tensor } from '../gpu/runtime';
import type { Rng } from '../util/rng';
import { compare, fdCheck, poisoned, roundF32, type KernelCheck, type Metric } from './check';
import { lmHeadBackward, lmHeadForward, lmHeadLogits } from './lm_head';
import { lmHeadRef } from './lm_head.ref';

// Bounds (‖gpu − ref‖/‖ref‖, float32 kernels vs the float64 reference on the same float32
// inputs):
// - logits (matmul's C-long fma chain; lm_head_logits' 4 interleaved chains): worst case
//   ≲ C·2^-24 relative to Σ|x·w|, ~√C·2^-24 typical; C ≤ 64 here, so ≤ 4e-6. Bound 1e-5.
// - lse, losses: the logits' error, then per block a max and a Σe^{z−max} of strided
//   per-thread sums (≤ V/256 ≈ 200 terms) and a 256-way tree, then a sequential fold over
//   ≤ 4 blocks: the sum's relative error ≲ (200 + 8 + 4)·2^-24 ≈ 1.3e-5 worst case (random
//   rounding: ~1e-6), entering lse as an absolute error against lse ≈ log V. Bound 1e-5.
// - mean: the losses' error, then crossentropy_mean's strided sum (≤ 100 rows here). 1e-5.
// - dx = g·wte: a sum over V products (matmul's sequential k loop over each vocabulary
//   block, blocks added in order) dominated by −w_target: the running sum's rounding is a
//   random walk of ~√V·2^-24 ≈ 1.3e-5 at V = 50257 (the worst case V·2^-24 is not reached
//   by random rounding), plus g's error (≲ 1e-6: e^{z−lse} with z, lse accurate to ~1e-7
//   absolute). Bound 1e-4 at V = 50257, 2e-5 for V ≤ 1100 (√1100·2^-24 ≈ 2e-6).
// - dwte = gᵀ·x: a sum over ≤ 100 rows of g·x: ≲ 1e-6. Bound 1e-5.
// - count: an integer, exact (bound 0).
const BOUND = 1e-5;

interface Case {
  N: number;
  C: number;
  V: number;
  /** Probability that a row's target is the ignore index (1: every row ignored). */
  ignoreP: number;
  dwte: boolean;
  scale?: number;
  ignoreIndex?: number;
  /** Forces small wte ranges and gradient blocks (the multi-range, multi-block path). */
  maxBindingBytes?: number;
  scratchFloats?: number;
  dxBound?: number;
  /** Also run forward + backward a second time and require the same bits. */
  repeat?: boolean;
}

/** x ~ N(0, 1), wte ~ N(0, (2/√C)²): logits ~ N(0, 4), a peaked but not one-hot softmax. */
function inputs(rng: Rng, N: number, C: number, V: number) {
  return { x: roundF32(rng.normals(N * C)), wte: roundF32(rng.normals(V * C, 2 / Math.sqrt(C))) };
}

async function readAll(gpu: Gpu, ts: (Tensor | null)[]) {
  const out: (Float32Array | null)[] = [];
  for (const t of ts) out.push(t ? await gpu.read(t) : null);
  return out;
}

async function runCase(gpu: Gpu, rng: Rng, c: Case): Promise<Metric[]> {
  const { N, C, V } = c;
  const ignoreIndex = c.ignoreIndex ?? -1;
  const { x, wte } = inputs(rng, N, C, V);
  const targets = new Int32Array(N);
  for (let i = 0; i < N; i++) targets[i] = rng.next() < c.ignoreP ? ignoreIndex : rng.int(0, V - 1);
  const scale = c.scale ?? 1;
  const ref = lmHeadRef(x, wte, targets, N, C, V, ignoreIndex, scale);

  const tx = gpu.tensor([N, C], Float32Array.from(x), 'x');
  const tw = gpu.tensor([V, C], Float32Array.from(wte), 'wte');
  const tt = gpu.tensor([N], targets, 'targets');
  const losses = poisoned(gpu, [N], 'losses');
  const lse = poisoned(gpu, [N], 'lse');
  const stats = poisoned(gpu, [2], 'stats');
  const dx = poisoned(gpu, [N, C], 'dx');
  const dwte = c.dwte ? poisoned(gpu, [V, C], 'dwte') : null;
  const shape = { N, C, V, ignoreIndex, maxBindingBytes: c.maxBindingBytes };
  const run = () => {
    lmHeadForward(gpu, { x: tx, wte: tw, targets: tt, losses, lse, stats }, shape);
    lmHeadBackward(gpu, { x: tx, wte: tw, targets: tt, lse, stats, dx, dwte }, { ...shape, scale, scratchFloats: c.scratchFloats });
  };
  run();
  const [gl, glse, gst, gdx, gdw] = await readAll(gpu, [losses, lse, stats, dx, dwte]);
  const tag = `N=${N} C=${C} V=${V}${c.ignoreP >= 1 ? ' all-ignored' : ''}${c.maxBindingBytes ? ' ranges' : ''}`;
  const out: Metric[] = [
    compare(`losses ${tag}`, gl!, ref.losses, BOUND),
    compare(`lse ${tag}`, glse!, ref.lse, BOUND),
    compare(`mean ${tag}`, [gst![0]], [ref.mean], BOUND),
    { what: `count ${tag} (${ref.count})`, err: Math.abs(gst![1] - ref.count), bound: 0 },
    compare(`dx ${tag}`, gdx!, ref.dx, c.dxBound ?? 2e-5),
  ];
  if (gdw) out.push(compare(`dwte ${tag}`, gdw, ref.dwte, BOUND));
  if (c.repeat) {
    for (const t of [losses, lse, stats, dx, dwte]) if (t) gpu.fill(t);
    run();
    const again = await readAll(gpu, [losses, lse, stats, dx, dwte]);
    const first = [gl, glse, gst, gdx, gdw];
    let diff = 0;
    again.forEach((a, i) => {
      if (!a) return;
      const b = first[i]!;
      for (let j = 0; j < a.length; j++) if (!Object.is(a[j], b[j])) diff++;
    });
    out.push({ what: `second run, elements whose bits differ ${tag}`, err: diff, bound: 0 });
  }
  gpu.release(tx, tw, tt, losses, lse, stats, dx, dwte);
  return out;
}

async function logitsCase(gpu: Gpu, rng: Rng, N: number, C: number, V: number, rows: number, rowOffset: number, maxBindingBytes?: number): Promise<Metric> {
  const { x, wte } = inputs(rng, N, C, V);
  const tx = gpu.tensor([N, C], Float32Array.from(x), 'x');
  const tw = gpu.tensor([V, C], Float32Array.from(wte), 'wte');
  const out = poisoned(gpu, [rows, V], 'logits');
  lmHeadLogits(gpu, tx, tw, out, { rows, C, V, rowOffset, maxBindingBytes });
  const got = await gpu.read(out);
  // Only the asked-for rows of the reference (plain dot products).
  const ref = new Float64Array(rows * V);
  for (let i = 0; i < rows; i++) {
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let k = 0; k < C; k++) s += x[(rowOffset + i) * C + k] * wte[v * C + k];
      ref[i * V + v] = s;
    }
  }
  gpu.release(tx, tw, out);
  return compare(`logits rows ${rowOffset}..${rowOffset + rows} of N=${N} C=${C} V=${V}${maxBindingBytes ? ' ranges' : ''}`, got, ref, BOUND);
}

export const checks: KernelCheck[] = [
  {
    kernel: 'lm_head',
    name: 'GPT-2 vocabulary (V = 50257): loss, lse, dx, dwte vs reference',
    gpu: true,
    async run(gpu, rng) {
      // C % 4 == 0: the vec4 path; a few rows ignored.
      return runCase(gpu!, rng, { N: rng.int(3, 6), C: 4 * rng.int(4, 8), V: 50257, ignoreP: 0.3, dwte: true, dxBound: 1e-4 });
    },
  },
  {
    kernel: 'lm_head',
    name: 'odd shapes: V = 1, 7, 513, N = 1, odd C, ignored rows',
    gpu: true,
    async run(gpu, rng) {
      const cases: Case[] = [
        // V = 1: softmax is 1, loss and gradient exactly 0.
        { N: rng.int(1, 9), C: rng.int(1, 9), V: 1, ignoreP: 0, dwte: true },
        { N: 1, C: rng.int(5, 30), V: 7, ignoreP: 0, dwte: true, scale: rng.uniform(0.2, 2) },
        // V = 513 (two 256-column steps and one column), odd C (scalar path), > 8 rows.
        { N: 2 * rng.int(5, 20) + 1, C: 2 * rng.int(3, 15) + 1, V: 513, ignoreP: 0.25, dwte: true },
        // Loss-only gradient (frozen wte) with a non-default ignore index.
        { N: rng.int(2, 20), C: rng.int(2, 40), V: rng.int(2, 300), ignoreP: 0.3, dwte: false, ignoreIndex: rng.int(1, 5) * -100 },
        // Every row ignored: loss 0, mean 0 (not 0/0), gradients 0.
        { N: rng.int(1, 9), C: rng.int(1, 20), V: rng.int(2, 50), ignoreP: 1, dwte: true },
      ];
      const out: Metric[] = [];
      for (const c of cases) out.push(...(await runCase(gpu!, rng, c)));
      return out;
    },
  },
  {
    kernel: 'lm_head',
    name: 'wte bound in ranges (small binding limit), blocked backward, same bits twice',
    gpu: true,
    async run(gpu, rng) {
      const C = rng.int(8, 24);
      const align = gpu!.device.limits.minStorageBufferOffsetAlignment;
      // About 300 columns per wte range: V ≈ 1000 takes 3-4 ranges, each starting at a
      // multiple of the offset alignment; 32-row gradient blocks (N > 64: 3 row blocks).
      return runCase(gpu!, rng, {
        N: rng.int(65, 96), C, V: rng.int(800, 1100), ignoreP: 0.2, dwte: true,
        maxBindingBytes: 300 * C * 4 + align, scratchFloats: 2048 * 32, repeat: true,
      });
    },
  },
  {
    kernel: 'lm_head',
    name: 'logits for a few rows vs reference (whole and in ranges)',
    gpu: true,
    async run(gpu, rng) {
      const C = rng.int(8, 24);
      return [
        await logitsCase(gpu!, rng, rng.int(5, 12), 4 * rng.int(2, 6), 50257, 1, rng.int(0, 4)),
        await logitsCase(gpu!, rng, 40, C, rng.int(700, 1000), rng.int(9, 20), rng.int(0, 20), 256 * C * 4),
        await logitsCase(gpu!, rng, 7, 2 * rng.int(2, 6) + 1, rng.int(300, 600), 1, rng.int(0, 6), 64 * 48 * 4), // one row, scalar C, in ranges
      ];
    },
  },
  {
    kernel: 'lm_head',
    name: 'target outside [0, V) gives NaN',
    gpu: true,
    async run(gpu, rng) {
      const N = rng.int(3, 12);
      const C = rng.int(4, 16);
      const V = rng.int(2, 40);
      const { x, wte } = inputs(rng, N, C, V);
      const targets = Int32Array.from({ length: N }, () => rng.int(0, V - 1));
      const bad = rng.int(0, N - 1);
      targets[bad] = rng.next() < 0.5 ? V : -2;
      const ref = lmHeadRef(x, wte, targets, N, C, V);
      const tx = gpu!.tensor([N, C], Float32Array.from(x));
      const tw = gpu!.tensor([V, C], Float32Array.from(wte));
      const tt = gpu!.tensor([N], targets);
      const losses = poisoned(gpu!, [N]);
      const lse = poisoned(gpu!, [N]);
      const stats = poisoned(gpu!, [2]);
      const dx = poisoned(gpu!, [N, C]);
      lmHeadForward(gpu!, { x: tx, wte: tw, targets: tt, losses, lse, stats }, { N, C, V });
      lmHeadBackward(gpu!, { x: tx, wte: tw, targets: tt, lse, stats, dx, dwte: null }, { N, C, V });
      const got = await gpu!.read(losses);
      const st = await gpu!.read(stats);
      const g = await gpu!.read(dx);
      gpu!.release(tx, tw, tt, losses, lse, stats, dx);
      const keep = (_: number, i: number) => i !== bad;
      return [
        { what: `loss[${bad}] (target ${targets[bad]}) is NaN`, err: Number.isNaN(got[bad]) ? 0 : 1, bound: 0 },
        { what: 'its dx row is NaN', err: g.slice(bad * C, (bad + 1) * C).every((a) => Number.isNaN(a)) ? 0 : 1, bound: 0 },
        { what: 'mean is NaN', err: Number.isNaN(st[0]) ? 0 : 1, bound: 0 },
        compare('other rows', [...got].filter(keep), [...ref.losses].filter(keep), BOUND),
      ];
    },
  },
  {
    kernel: 'lm_head',
    name: 'reference dx, dwte vs finite differences of the mean loss',
    gpu: false,
    async run(_gpu, rng) {
      // Central differences in float64: truncation O(h²·f''') ≈ 1e-10 and rounding
      // ≈ 1e-16/h ≈ 1e-11 at h = 1e-5, so 1e-6 is far above noise and far below any formula
      // error (a missing softmax term, a wrong count or transpose is O(1) relative).
      const out: Metric[] = [];
      for (const [N, C, V] of [
        [rng.int(3, 8), rng.int(2, 6), rng.int(2, 9)],
        [1, rng.int(2, 6), rng.int(2, 30)],
      ]) {
        const { x, wte } = inputs(rng, N, C, V);
        const targets = Int32Array.from({ length: N }, () => (rng.next() < 0.3 ? -1 : rng.int(0, V - 1)));
        if (N > 1) targets[0] = -1; // an ignored row (its FD gradient is 0 too)
        targets[N - 1] = rng.int(0, V - 1); // a counted row
        const scale = rng.uniform(0.5, 2);
        const ref = lmHeadRef(x, wte, targets, N, C, V, -1, scale);
        const fx = (xx: Float64Array) => scale * lmHeadRef(xx, wte, targets, N, C, V).mean;
        const fw = (ww: Float64Array) => scale * lmHeadRef(x, ww, targets, N, C, V).mean;
        out.push({ what: `dx N=${N} C=${C} V=${V}`, err: fdCheck(fx, Float64Array.from(x), ref.dx, rng, 30), bound: 1e-6 });
        out.push({ what: `dwte N=${N} C=${C} V=${V}`, err: fdCheck(fw, Float64Array.from(wte), ref.dwte, rng, 30), bound: 1e-6 });
      }
      return out;
    },
  },
];
