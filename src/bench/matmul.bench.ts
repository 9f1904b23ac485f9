// Square float32 matmul, this project's kernel against TensorFlow.js's WebGPU backend
// (4.22) running in the same Node process on the same kind of Dawn adapter, and against
// native BLAS on the same CPU cores (./native_blas.ts), for A·B and the two transposed
// variants the backward uses (Aᵀ·B for weight gradients, A·Bᵀ for input gradients).
//
// The WebGPU sides are timed the same way: wall clock around "record the product, then
// await its full result on the CPU" (TF.js: tf.matMul + await data()), best of a few reps.
// One round measures every (n, variant) for ours, TF.js and native back to back, so load
// from other processes hits all alike; the ratios are formed within each round and the
// table gives their median over the rounds with the spread [min–max]. Ours is also timed
// with GPU timestamps (timeGpu), which leave out submission and readback.
import { loadavg } from 'node:os';
import { nodeGPU } from '../gpu/node';
import type { Gpu } from '../gpu/runtime';
import { matmul, matmulFlops } from '../kernels/matmul';
import { Rng } from '../util/rng';
import { fmtSpread, median, spread, table, timeGpu, type Bench, type Spread } from './bench';
import { nativeBlas } from './native_blas';

type Tf = typeof import('@tensorflow/tfjs-core');

/**
 * TF.js's WebGPU backend reads `navigator.gpu` when it is imported, so the Dawn GPU object
 * (same factory as ours: same adapter) is installed as `navigator` first and the previous
 * value put back afterwards.
 */
async function loadTf(): Promise<{ tf: Tf; restore: () => void }> {
  const before = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', {
    value: { gpu: await nodeGPU(), userAgent: 'node' },
    configurable: true,
    writable: true,
  });
  const restore = () => {
    if (before) Object.defineProperty(globalThis, 'navigator', before);
    else delete (globalThis as { navigator?: unknown }).navigator;
  };
  try {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') failed");
    await tf.ready();
    return { tf, restore };
  } catch (e) {
    restore();
    throw e;
  }
}

/** Best wall-clock milliseconds of `step` over `reps` repetitions. */
async function bestMs(step: () => Promise<void>, reps: number): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await step();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

type Variant = 'A·B' | 'Aᵀ·B' | 'A·Bᵀ';
const VARIANTS: { name: Variant; transA: boolean; transB: boolean }[] = [
  { name: 'A·B', transA: false, transB: false },
  { name: 'Aᵀ·B', transA: true, transB: false },
  { name: 'A·Bᵀ', transA: false, transB: true },
];

interface Row {
  n: number;
  variant: Variant;
  oursGpuGflops: number;
  /** Medians over rounds of the best wall time per round, as GFLOP/s. */
  oursWallGflops: number;
  tfWallGflops: number;
  nativeGflops: number | null;
  /** Per-round ours / TF.js (wall both): the headline, with its spread. */
  vsTfjs: Spread;
  /** Per-round ours / native BLAS (wall both). */
  vsNative: Spread | null;
  /** max |ours − TF.js| / max |TF.js|: both computed the same product. */
  agreement: number;
  timing: string;
}

interface Case {
  n: number;
  variant: (typeof VARIANTS)[number];
  run: () => Promise<{ ours: number; tf: number; native: number | null }>;
  finish: () => Promise<Omit<Row, 'vsTfjs' | 'vsNative' | 'oursWallGflops' | 'tfWallGflops' | 'nativeGflops'>>;
}

function makeCase(gpu: Gpu, tf: Tf, native: ReturnType<typeof nativeBlas>, n: number, v: (typeof VARIANTS)[number], reps: number, rng: Rng): Case {
  const flops = matmulFlops({ M: n, N: n, K: n });
  const a = Float32Array.from(rng.normals(n * n));
  const b = Float32Array.from(rng.normals(n * n));
  const ta = gpu.tensor([n, n], a, 'A');
  const tb = gpu.tensor([n, n], b, 'B');
  const tc = gpu.tensor([n, n], undefined, 'C');
  const ours = () => matmul(gpu, ta, tb, tc, { M: n, N: n, K: n, transA: v.transA, transB: v.transB });
  const fa = tf.tensor2d(a, [n, n]);
  const fb = tf.tensor2d(b, [n, n]);
  const tfProduct = () => tf.matMul(fa, fb, v.transA, v.transB);
  return {
    n,
    variant: v,
    async run() {
      const o = await bestMs(async () => {
        ours();
        await gpu.read(tc);
      }, reps);
      const t = await bestMs(async () => {
        const c = tfProduct();
        await c.data();
        c.dispose();
      }, reps);
      const nat = 'unavailable' in native ? null : native.time(n, reps, v.transA, v.transB);
      return { ours: o, tf: t, native: nat };
    },
    async finish() {
      // Warm-up happened in the rounds; cross-check the two results, then GPU timestamps.
      ours();
      const got = await gpu.read(tc);
      const fc = tfProduct();
      const want = (await fc.data()) as Float32Array;
      fc.dispose();
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < got.length; i++) {
        diff = Math.max(diff, Math.abs(got[i] - want[i]));
        scale = Math.max(scale, Math.abs(want[i]));
      }
      const g = await timeGpu(gpu, ours, Math.min(reps, 3), 1);
      gpu.release(ta, tb, tc);
      fa.dispose();
      fb.dispose();
      return { n, variant: v.name, oursGpuGflops: flops / g.ms / 1e6, agreement: diff / scale, timing: g.source };
    },
  };
}

export const bench: Bench = {
  name: 'matmul',
  async run(gpu, opts) {
    const sizes = opts.quick ? [256] : [256, 512, 1024];
    const rounds = opts.quick ? 2 : 5;
    const rng = new Rng(1234);
    const native = nativeBlas();
    const load0 = loadavg()[0];
    const { tf, restore } = await loadTf();
    const rows: Row[] = [];
    try {
      const cases = sizes.flatMap((n) => VARIANTS.map((v) => makeCase(gpu, tf, native, n, v, n <= 256 ? 5 : 3, rng)));
      // Round 0 warms up every pipeline (not counted); then `rounds` timed rounds.
      for (const c of cases) await c.run();
      const per = cases.map(() => [] as { ours: number; tf: number; native: number | null }[]);
      for (let r = 0; r < rounds; r++) for (let i = 0; i < cases.length; i++) per[i].push(await cases[i].run());
      for (let i = 0; i < cases.length; i++) {
        const base = await cases[i].finish();
        const flops = matmulFlops({ M: cases[i].n, N: cases[i].n, K: cases[i].n });
        const gf = (ms: number) => flops / ms / 1e6;
        const nat = per[i].every((x) => x.native !== null) ? per[i].map((x) => x.native!) : null;
        rows.push({
          ...base,
          oursWallGflops: gf(median(per[i].map((x) => x.ours))),
          tfWallGflops: gf(median(per[i].map((x) => x.tf))),
          nativeGflops: nat ? gf(median(nat)) : null,
          vsTfjs: spread(per[i].map((x) => x.tf / x.ours)),
          vsNative: nat ? spread(per[i].map((x) => x.native! / x.ours)) : null,
        });
      }
    } finally {
      tf.disposeVariables();
      tf.engine().reset();
      restore();
    }
    const load1 = loadavg()[0];
    const nativeKind = 'unavailable' in native ? `unavailable (${native.unavailable})` : native.kind;
    const goal = (n: number) => rows.filter((r) => r.n === n);
    const markdown = [
      'C = op(A)·op(B), float32, square n×n×n; A·B is the forward, Aᵀ·B the weight gradient, A·Bᵀ the input gradient. GFLOP/s = 2n³ / time.',
      `**Wall**: record the product and await the whole result on the CPU (TF.js: \`tf.matMul\` + \`await data()\`), best of a few reps per round; ${rounds} rounds, each measuring ours, TF.js and native back to back for every row. GFLOP/s columns: the median over rounds; **ratios**: formed within each round, median [min–max] over the ${rounds} rounds.`,
      `**GPU**: ours from ${rows[0]?.timing === 'gpu-timestamps' ? 'GPU timestamps' : 'wall clock around gpu.sync()'} (no submission or readback). TF.js: @tensorflow/tfjs-backend-webgpu 4.22 in this process on the same Dawn adapter (its own transposed matMul). "agree": max |ours − TF.js| / max |TF.js|.`,
      `**Native**: ${nativeKind}, scripts/native_sgemm.c on the same cores (every core; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for that run only), wall clock of the product alone. Goals (issue 11): ours / TF.js ≥ 3 at n = 512 and 1024; ours / native ≥ 0.25.`,
      `1-min load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end (2 cores).`,
      '',
      table(
        ['n', 'variant', 'ours GPU GFLOP/s', 'ours wall GFLOP/s', 'TF.js wall GFLOP/s', 'native GFLOP/s', 'ours / TF.js (wall)', 'ours / native', 'agree'],
        rows.map((r) => [r.n, r.variant, r.oursGpuGflops, r.oursWallGflops, r.tfWallGflops, r.nativeGflops ?? '–', fmtSpread(r.vsTfjs, 2, 'x'), r.vsNative ? fmtSpread(r.vsNative, 3) : '–', r.agreement.toExponential(1)]),
      ),
      '',
      ...[512, 1024].filter((n) => goal(n).length).map((n) => `- n = ${n}: ours / TF.js ${goal(n).map((r) => `${r.variant} ${r.vsTfjs.median.toFixed(2)}x`).join(', ')} (goal ≥ 3x); ours / native ${goal(n).map((r) => `${r.variant} ${r.vsNative ? r.vsNative.median.toFixed(3) : '–'}`).join(', ')} (goal ≥ 0.25).`),
    ].join('\n');
    return { title: 'Matmul vs TensorFlow.js (WebGPU backend) and native BLAS', markdown, data: { native: nativeKind, rounds, loadAverage: { start: load0, end: load1 }, rows } };
  },
};
