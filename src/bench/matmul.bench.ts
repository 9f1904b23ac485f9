// Square float32 matmul, this project's kernel against TensorFlow.js's WebGPU backend
// (4.22) running in the same Node process on the same kind of Dawn adapter.
//
// Both sides are timed the same way for the headline ratio: wall clock around
// "record the product, then await its full result on the CPU" (TF.js: tf.matMul + await
// data()), best of a few rounds after warm-up, the two alternating so that load from other
// processes hits both alike. Ours is also timed with GPU timestamps (timeGpu), which leave
// out submission and readback.
import { nodeGPU } from '../gpu/node';
import type { Gpu } from '../gpu/runtime';
import { matmul, matmulFlops } from '../kernels/matmul';
import { Rng } from '../util/rng';
import { table, timeGpu, type Bench } from './bench';

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

/** Wall-clock milliseconds per repetition of `step`, over `reps` repetitions. */
async function wallMs(step: () => Promise<void>, reps: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await step();
  return (performance.now() - t0) / reps;
}

interface Row {
  n: number;
  oursGpuGflops: number;
  oursWallGflops: number;
  tfWallGflops: number;
  /** ours / TF.js, wall clock both (the headline). */
  ratio: number;
  /** max |ours − TF.js| / max |TF.js|: both computed the same product. */
  agreement: number;
  timing: string;
}

async function measure(gpu: Gpu, tf: Tf, n: number, quick: boolean, rng: Rng): Promise<Row> {
  const flops = matmulFlops({ M: n, N: n, K: n });
  const reps = n <= 256 ? (quick ? 5 : 10) : n <= 512 ? 5 : 3;
  const rounds = quick ? 1 : 3;
  const a = Float32Array.from(rng.normals(n * n));
  const b = Float32Array.from(rng.normals(n * n));

  const ta = gpu.tensor([n, n], a, 'A');
  const tb = gpu.tensor([n, n], b, 'B');
  const tc = gpu.tensor([n, n], undefined, 'C');
  const ours = () => matmul(gpu, ta, tb, tc, { M: n, N: n, K: n });
  const fa = tf.tensor2d(a, [n, n]);
  const fb = tf.tensor2d(b, [n, n]);

  // Warm-up (pipeline compilation) and a cross-check of the two results.
  ours();
  const got = await gpu.read(tc);
  const fc = tf.matMul(fa, fb);
  const want = (await fc.data()) as Float32Array;
  fc.dispose();
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < got.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }

  let oursWall = Infinity;
  let tfWall = Infinity;
  for (let r = 0; r < rounds; r++) {
    oursWall = Math.min(
      oursWall,
      await wallMs(async () => {
        ours();
        await gpu.read(tc);
      }, reps),
    );
    tfWall = Math.min(
      tfWall,
      await wallMs(async () => {
        const c = tf.matMul(fa, fb);
        await c.data();
        c.dispose();
      }, reps),
    );
  }
  const g = await timeGpu(gpu, ours, reps, 1);
  gpu.release(ta, tb, tc);
  fa.dispose();
  fb.dispose();
  const gf = (ms: number) => flops / ms / 1e6;
  return {
    n,
    oursGpuGflops: gf(g.ms),
    oursWallGflops: gf(oursWall),
    tfWallGflops: gf(tfWall),
    ratio: tfWall / oursWall,
    agreement: diff / scale,
    timing: g.source,
  };
}

export const bench: Bench = {
  name: 'matmul',
  async run(gpu, opts) {
    const sizes = opts.quick ? [256] : [256, 512, 1024];
    const rng = new Rng(1234);
    const { tf, restore } = await loadTf();
    const rows: Row[] = [];
    try {
      for (const n of sizes) rows.push(await measure(gpu, tf, n, opts.quick, rng));
    } finally {
      tf.disposeVariables();
      tf.engine().reset();
      restore();
    }
    const markdown = [
      'C = A·B, float32, square n×n×n. GFLOP/s = 2n³ / time. **Wall** (the ratio): record the product and await the whole',
      'result on the CPU (TF.js: `tf.matMul` + `await data()`), best of the rounds, ours and TF.js alternating.',
      `**GPU**: ours from ${rows[0]?.timing === 'gpu-timestamps' ? 'GPU timestamps' : 'wall clock around gpu.sync()'} (no submission or readback).`,
      'TF.js: @tensorflow/tfjs-backend-webgpu 4.22 in this process on the same Dawn adapter. "agree": max |ours − TF.js| / max |TF.js|.',
      '',
      table(
        ['n', 'ours GPU GFLOP/s', 'ours wall GFLOP/s', 'TF.js wall GFLOP/s', 'ours / TF.js (wall)', 'agree'],
        rows.map((r) => [r.n, r.oursGpuGflops, r.oursWallGflops, r.tfWallGflops, `${r.ratio.toFixed(2)}x`, r.agreement.toExponential(1)]),
      ),
    ].join('\n');
    return { title: 'Matmul vs TensorFlow.js (WebGPU backend)', markdown, data: rows };
  },
};
