import type { Gpu, Tensor } from '../gpu/runtime';
import type { Rng } from '../util/rng';
import { compare, dot, fdCheck, type KernelCheck, type Metric, poisoned, roundF32 } from './check';
import { matmul, matmulLayout, TRANSPOSE_B_MIN_M, type MatmulPath, type MatmulShape } from './matmul';
import { matmulRef } from './matmul.ref';

// Each output is a float32 dot product of length K (sequential fma, inputs ~N(0,1)): the
// rounding error of a running sum grows like a random walk, ~ sqrt(K)·u relative to the
// result (u = 2^-24 ≈ 6e-8), i.e. ~2e-6 at K = 1000 and ~5e-7 at the K ≤ 130 used in most
// cases here; alpha, bias and accumulate add one or two roundings. Inputs are rounded to
// float32 before the reference sees them, so 1e-5 leaves ≥ 5x margin up to K ≈ 1000 (the
// largest K below is 600).
const BOUND = 1e-5;
const PATHS: MatmulPath[] = ['direct', 'tiled'];
const TRANS: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

interface Case extends MatmulShape {
  bias?: boolean;
  path?: MatmulPath;
}

const label = (c: Case) => {
  const { batch, strideA, strideB, strideC } = matmulLayout(c);
  const t = `${c.transA ? 'T' : 'N'}${c.transB ? 'T' : 'N'}`;
  // on software adapters ('auto' there too) A·Bᵀ with many rows goes through a copy of Bᵀ
  const copied = c.transB && c.path !== 'tiled' && c.M >= TRANSPOSE_B_MIN_M;
  const extra = [
    batch > 1 ? `batch ${batch} strides ${strideA}/${strideB}/${strideC}` : '',
    c.bias ? 'bias' : '',
    c.accumulate ? 'accumulate' : '',
    c.alpha !== undefined ? `alpha ${c.alpha.toFixed(2)}` : '',
    copied ? 'Bᵀ copied' : '',
  ].filter(Boolean);
  return `${c.path ?? 'auto'} ${t} ${c.M}x${c.N}x${c.K}${extra.length ? ` (${extra.join(', ')})` : ''}`;
};

/**
 * Runs one matmul on fresh random inputs and compares all of C with the reference. C is
 * poisoned with NaN, unless the call accumulates or the strides leave gaps between batch
 * entries: then C starts with known random values, which must come out summed into
 * (accumulate) or untouched (gaps).
 */
async function runCase(gpu: Gpu, rng: Rng, c: Case): Promise<Metric> {
  const { batch, strideA, strideB, strideC } = matmulLayout(c);
  const lenA = (batch - 1) * strideA + c.M * c.K;
  const lenB = (batch - 1) * strideB + c.K * c.N;
  const lenC = (batch - 1) * strideC + c.M * c.N;
  const a = roundF32(rng.normals(lenA));
  const b = roundF32(rng.normals(lenB));
  const bias = c.bias ? roundF32(rng.normals(c.N)) : undefined;
  const gaps = batch > 1 && strideC > c.M * c.N;
  const c0 = c.accumulate || gaps ? roundF32(rng.normals(lenC)) : undefined;
  const ta = gpu.tensor([lenA], Float32Array.from(a), 'A');
  const tb = gpu.tensor([lenB], Float32Array.from(b), 'B');
  const tbias = bias ? gpu.tensor([c.N], Float32Array.from(bias), 'bias') : undefined;
  const tc = c0 ? gpu.tensor([lenC], Float32Array.from(c0), 'C') : poisoned(gpu, [lenC], 'C');
  matmul(gpu, ta, tb, tc, { ...c, bias: tbias });
  const got = await gpu.read(tc);
  gpu.release(ta, tb, tbias, tc);
  return compare(label(c), got, matmulRef(a, b, { ...c, bias, c: c0 }), BOUND);
}

const odd = (rng: Rng, lo: number, hi: number) => rng.int(lo, hi) | 1;

export const checks: KernelCheck[] = [
  // One check per path: on a cold shader cache each pipeline variant costs lavapipe about
  // a second of LLVM time (4 for the direct path: vec4 reads of A and/or B; 1 tiled).
  ...PATHS.map(
    (path): KernelCheck => ({
      kernel: 'matmul',
      name: `${path} path: all transposes, 1x1x1 and random odd / aligned / multi-tile shapes`,
      gpu: true,
      async run(gpu, rng) {
        const out: Metric[] = [];
        for (const [transA, transB] of TRANS) {
          const few = TRANSPOSE_B_MIN_M - 1;
          const many = TRANSPOSE_B_MIN_M + 1;
          const shapes: [number, number, number][] = [
            [1, 1, 1],
            // one partial tile; with transB, direct reads of Bᵀ (M < TRANSPOSE_B_MIN_M)
            [odd(rng, 3, few), odd(rng, 3, 63), odd(rng, 3, 63)],
            // multiples of 4: the direct path's vec4 reads (VEC_A / VEC_B)
            [4 * rng.int(5, 20), 4 * rng.int(5, 20), rng.int(2, 40)],
            // several 64-wide tiles with ragged edges in every dimension; with transB, the
            // copy of Bᵀ (M ≥ TRANSPOSE_B_MIN_M)
            [odd(rng, many, 130), odd(rng, 65, 130), odd(rng, 17, 67)],
          ];
          for (const [M, N, K] of shapes) out.push(await runCase(gpu!, rng, { M, N, K, transA, transB, path }));
        }
        return out;
      },
    }),
  ),
  {
    kernel: 'matmul',
    name: 'batched: shared operand (stride 0), padded strides, vec4 alignment',
    gpu: true,
    async run(gpu, rng) {
      const out: Metric[] = [];
      for (const path of PATHS) {
        const batch = rng.int(2, 4);
        let M = odd(rng, 3, 70);
        let N = odd(rng, 3, 70);
        let K = odd(rng, 3, 40);
        // one weight matrix for every batch entry, plus a bias (the forward linear layer)
        out.push(await runCase(gpu!, rng, { M, N, K, batch, strideB: 0, bias: true, path }));
        // shared A, B transposed
        out.push(await runCase(gpu!, rng, { M, N, K, batch, strideA: 0, transB: true, path }));
        // Bᵀ copied per batch entry, and once when shared (direct path, M ≥ TRANSPOSE_B_MIN_M)
        const Mt = odd(rng, TRANSPOSE_B_MIN_M, 100);
        out.push(await runCase(gpu!, rng, { M: Mt, N, K, batch, transB: true, strideB: K * N + 3, path }));
        out.push(await runCase(gpu!, rng, { M: Mt, N, K, batch, transA: true, transB: true, strideB: 0, bias: true, path }));
        // padded strides: gaps in A, B and C (C's gaps must stay untouched)
        out.push(
          await runCase(gpu!, rng, {
            M, N, K, batch, transA: rng.next() < 0.5, transB: rng.next() < 0.5, path,
            strideA: M * K + rng.int(1, 7), strideB: K * N + rng.int(1, 7), strideC: M * N + rng.int(1, 7),
          }),
        );
        M = 4 * rng.int(2, 20);
        N = 4 * rng.int(2, 20);
        K = rng.int(3, 40);
        // aligned batches (vec4 reads of A stored [K,M] and of B [K,N] across entries) …
        out.push(await runCase(gpu!, rng, { M, N, K, batch, transA: true, strideA: M * K + 4, strideB: K * N + 8, path }));
        // … and a stride that breaks the alignment, so the scalar reads must be chosen
        out.push(await runCase(gpu!, rng, { M, N, K, batch, transA: true, strideA: M * K + 1, strideB: K * N + 3, path }));
      }
      return out;
    },
  },
  {
    kernel: 'matmul',
    name: 'bias, alpha, accumulate (C pre-filled with random values)',
    gpu: true,
    async run(gpu, rng) {
      const out: Metric[] = [];
      for (const path of [...PATHS, 'auto' as const]) {
        const [transA, transB] = TRANS[rng.int(0, 3)];
        const M = odd(rng, 3, 90);
        const N = odd(rng, 3, 90);
        const K = odd(rng, 3, 50);
        const alpha = rng.uniform(-2, 2);
        out.push(await runCase(gpu!, rng, { M, N, K, transA, transB, bias: true, alpha, path }));
        out.push(await runCase(gpu!, rng, { M, N, K, transA, transB, accumulate: true, alpha, path }));
        out.push(await runCase(gpu!, rng, { M, N, K, transA, transB, accumulate: true, bias: true, path }));
        out.push(await runCase(gpu!, rng, { M, N, K, batch: 2, strideB: 0, accumulate: true, bias: true, alpha, path }));
      }
      return out;
    },
  },
  {
    kernel: 'matmul',
    name: 'edges: M = 1, N = 1, K = 1, long K',
    gpu: true,
    async run(gpu, rng) {
      const out: Metric[] = [];
      for (const path of PATHS) {
        const [transA, transB] = TRANS[rng.int(0, 3)];
        const shapes: [number, number, number][] = [
          [1, odd(rng, 3, 140), odd(rng, 3, 140)],
          [odd(rng, 3, 140), 1, odd(rng, 3, 140)],
          [odd(rng, 3, 140), odd(rng, 3, 140), 1],
          [rng.int(1, 9), rng.int(1, 9), rng.int(300, 600)],
        ];
        for (const [M, N, K] of shapes) out.push(await runCase(gpu!, rng, { M, N, K, transA, transB, path }));
      }
      return out;
    },
  },
  {
    kernel: 'matmul',
    name: 'wrapper rejects inconsistent shapes',
    gpu: true,
    async run(gpu) {
      const made: Tensor[] = [];
      const t = (n: number) => {
        made.push(gpu!.tensor([n]));
        return made[made.length - 1];
      };
      const a = t(12);
      const b = t(20);
      const c = t(15);
      const bad: [string, () => void][] = [
        ['A too small', () => matmul(gpu!, a, b, c, { M: 3, N: 5, K: 5 })],
        ['C too small', () => matmul(gpu!, a, b, t(14), { M: 3, N: 5, K: 4 })],
        ['batch overruns B', () => matmul(gpu!, a, b, t(30), { M: 3, N: 5, K: 4, batch: 2, strideA: 0 })],
        ['overlapping C entries', () => matmul(gpu!, a, b, t(30), { M: 3, N: 5, K: 4, batch: 2, strideA: 0, strideB: 0, strideC: 5 })],
        ['K = 0', () => matmul(gpu!, a, b, c, { M: 3, N: 5, K: 0 })],
        ['C aliases A', () => matmul(gpu!, a, b, a, { M: 3, N: 4, K: 4 })],
        ['short bias', () => matmul(gpu!, a, b, c, { M: 3, N: 5, K: 4, bias: t(4) })],
      ];
      const missed = bad.filter(([, f]) => {
        try {
          f();
          return true;
        } catch (e) {
          return (e as { kind?: string }).kind !== 'shape';
        }
      });
      // the valid call must still go through
      matmul(gpu!, a, b, c, { M: 3, N: 5, K: 4 });
      await gpu!.sync();
      gpu!.release(...made);
      return [{ what: `${missed.length} of ${bad.length} bad calls accepted${missed.length ? `: ${missed.map((m) => m[0]).join(', ')}` : ''}`, err: missed.length, bound: 0 }];
    },
  },
  {
    kernel: 'matmul',
    name: 'reference gradients (dA = dC·Bᵀ, dB = Aᵀ·dC via transposes) vs finite differences',
    gpu: false,
    async run(_gpu, rng) {
      // L = Σ R ⊙ (A·B) is how the model's backward uses matmul: checking the transposed
      // reference products against central differences pins down transA/transB semantics.
      const M = rng.int(2, 7);
      const N = rng.int(2, 7);
      const K = rng.int(2, 7);
      const a = rng.normals(M * K);
      const b = rng.normals(K * N);
      const r = rng.normals(M * N);
      const dA = matmulRef(r, b, { M, N: K, K: N, transB: true });
      const dB = matmulRef(a, r, { M: K, N, K: M, transA: true });
      const lossA = (x: Float64Array) => dot(matmulRef(x, b, { M, N, K }), r);
      const lossB = (x: Float64Array) => dot(matmulRef(a, x, { M, N, K }), r);
      // L is linear in each operand, so central differences are exact up to rounding
      // (~1e-16·|L|/h ≈ 1e-10).
      return [
        { what: 'dA', err: fdCheck(lossA, a, dA, rng), bound: 1e-6 },
        { what: 'dB', err: fdCheck(lossB, b, dB, rng), bound: 1e-6 },
      ];
    },
  },
];
