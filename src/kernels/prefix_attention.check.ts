import type { Gpu, Tensor } from '../gpu/runtime';
import type { Rng } from '../util/rng';
import { compare, dot, fdCheck, maxAbsErr, poisoned, roundF32, type KernelCheck, type Metric } from './check';
import { prefixAttentionBackward, prefixAttentionForward, type PrefixAttentionOptions } from './prefix_attention';
import { prefixAttentionBackwardRef, prefixAttentionRef, type PrefixAttentionDims, type PrefixAttentionInputs } from './prefix_attention.ref';

// Bounds (‖gpu − ref‖/‖ref‖; float32 kernels vs the float64 reference on the same float32
// inputs):
// - o, lse, β: each row is a float32 sum over n ≤ m + L ≤ 300 keys of terms e^{s−max}·v
//   (d-term dot products for s), rescaled once per 16-key tile. Rounding is ~2⁻²⁴ per
//   operation and accumulates like √n for random signs (~1e-6 typical at n = 300); exp
//   and log add a few ulps (scores up to |s| ≈ 15 in the "sharp" cases turn an absolute
//   ulp error in s into a relative error ~15·2⁻²⁴ ≈ 1e-6 in e^s). Measured ~1e-7…1e-6;
//   1e-5 leaves room for other drivers' exp/log while catching any wrong term (a single
//   dropped key or a wrong mask gives ≥ 1e-3).
// - dq, dk, dv, dpk, dpv: the same per-pair terms, then sums over ≤ B·L ≤ 90 rows (prefix
//   keys) or ≤ m + L keys (dq) of random-sign terms, plus the cancellation in
//   dO·v − Δ (Δ is an average of the dO·v): relative errors ~1e-6 measured; bound 2e-5.
// - Determinism: the backward runs twice and must agree bit for bit (bound 0): the
//   reductions have a fixed order (no atomics).
// - FD checks (float64 reference vs central differences, h = 1e-5): truncation h²·f‴ and
//   rounding ~1e-16/h are ~1e-10, so 1e-6 is loose yet catches any wrong term.
const FWD_BOUND = 1e-5;
const BWD_BOUND = 2e-5;

interface Case extends PrefixAttentionOptions {
  /** Std of Q (larger: sharper softmax rows, more online-softmax rescaling). */
  qStd?: number;
  /** Also write β (else the variant without it). */
  beta?: boolean;
  /** Pass dpk = dpv = null (a frozen prefix): the prefix pass is skipped. */
  frozenPrefix?: boolean;
}

type Inputs = Record<keyof PrefixAttentionInputs | 'dO', Float64Array>;

function inputs(rng: Rng, c: Case): Inputs {
  const { B, H, L, d, m } = c;
  const n = B * H * L * d;
  return {
    q: roundF32(rng.normals(n, c.qStd ?? 1)),
    k: roundF32(rng.normals(n)),
    v: roundF32(rng.normals(n)),
    pk: roundF32(rng.normals(H * m * d)),
    pv: roundF32(rng.normals(H * m * d)),
    dO: roundF32(rng.normals(n)),
  };
}

const tagOf = (c: Case) =>
  `B=${c.B} H=${c.H} L=${c.L} d=${c.d} m=${c.m}${c.causal === false ? ' noncausal' : ''}${c.scale !== undefined ? ` c=${c.scale.toFixed(3)}` : ''}${c.path ? ` path=${c.path}` : ''}`;

async function runCase(gpu: Gpu, rng: Rng, c: Case): Promise<Metric[]> {
  const { B, H, L, d, m } = c;
  const x = inputs(rng, c);
  const f = prefixAttentionRef(x, c);
  const g = prefixAttentionBackwardRef(x, x.dO, c);
  const tag = tagOf(c);
  const seq = [B, H, L, d];
  const pre = [H, m, d];
  const up = (shape: number[], a: Float64Array, label: string) => gpu.tensor(shape, Float32Array.from(a), label);
  const t = {
    q: up(seq, x.q, 'q'),
    k: up(seq, x.k, 'k'),
    v: up(seq, x.v, 'v'),
    pk: up(pre, x.pk, 'pk'),
    pv: up(pre, x.pv, 'pv'),
    dO: up(seq, x.dO, 'dO'),
    o: poisoned(gpu, seq, 'o'),
    lse: poisoned(gpu, [B, H, L], 'lse'),
    beta: c.beta ? poisoned(gpu, [B, H, L], 'beta') : null,
    dq: poisoned(gpu, seq, 'dq'),
    dk: poisoned(gpu, seq, 'dk'),
    dv: poisoned(gpu, seq, 'dv'),
    dpk: c.frozenPrefix ? null : poisoned(gpu, pre, 'dpk'),
    dpv: c.frozenPrefix ? null : poisoned(gpu, pre, 'dpv'),
  };
  prefixAttentionForward(gpu, t, c);
  prefixAttentionBackward(gpu, t, c);
  const out: Metric[] = [compare(`o ${tag}`, await gpu.read(t.o), f.o, FWD_BOUND), lseMetric(`lse ${tag}`, await gpu.read(t.lse), f.lse, lseScale(x, c), FWD_BOUND)];
  if (t.beta) out.push(compare(`beta ${tag}`, await gpu.read(t.beta), f.beta, FWD_BOUND));
  // With m = 0 (or a frozen prefix) there are no prefix gradients to compare.
  const grads = (['dq', 'dk', 'dv', 'dpk', 'dpv'] as const).filter((n) => (n !== 'dpk' && n !== 'dpv') || (m > 0 && !c.frozenPrefix));
  const tg = (n: (typeof grads)[number]) => t[n] as Tensor;
  for (const n of grads) out.push(compare(`${n} ${tag}`, await gpu.read(tg(n)), g[n], BWD_BOUND));

  // Accumulate onto random existing gradients; the sums must come out in the same order
  // as before, so re-running from the same start is bitwise reproducible.
  const base: Record<string, Float64Array> = {};
  for (const n of grads) {
    base[n] = roundF32(rng.normals(g[n].length));
    gpu.write(tg(n), Float32Array.from(base[n]));
  }
  prefixAttentionBackward(gpu, t, c, true);
  const acc: Record<string, Float32Array> = {};
  for (const n of grads) {
    acc[n] = await gpu.read(tg(n));
    out.push(compare(`${n} accumulate ${tag}`, acc[n], base[n].map((v, i) => v + g[n][i]), BWD_BOUND));
  }
  for (const n of grads) gpu.write(tg(n), Float32Array.from(base[n]));
  prefixAttentionBackward(gpu, t, c, true);
  let rerun = 0;
  for (const n of grads) rerun = Math.max(rerun, maxAbsErr(await gpu.read(tg(n)), acc[n]));
  out.push({ what: `backward rerun bitwise ${tag}`, err: rerun, bound: 0 });

  gpu.release(...(Object.values(t) as (Tensor | null)[]));
  return out;
}

/**
 * Row by row, the size of what rounding can do to lse = max + log Σ e^{s − max}: the scores'
 * terms c·Σ_e |q_e·key_e| (the largest over the row's keys) plus 1 for exp and log. A plain
 * relative error fails by chance where lse ≈ 0 (L = 1, m = 0: lse is one score, a dot
 * product that can cancel; seen at 7.5e-5, seed 2761088733).
 */
export function lseScale(x: Pick<PrefixAttentionInputs, 'q' | 'k' | 'pk'>, c: PrefixAttentionDims): Float64Array {
  const { B, H, L, d, m } = c;
  const sc = c.scale ?? 1 / Math.sqrt(d);
  const out = new Float64Array(B * H * L);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < L; i++) {
    const qo = ((b * H + h) * L + i) * d;
    let worst = 0;
    const visit = (keys: ArrayLike<number>, off: number) => {
      let a = 0;
      for (let e = 0; e < d; e++) a += Math.abs(x.q[qo + e] * keys[off + e]);
      worst = Math.max(worst, sc * a);
    };
    for (let p = 0; p < m; p++) visit(x.pk, (h * m + p) * d);
    for (let j = 0; j < L; j++) if (c.causal === false || j <= i) visit(x.k, ((b * H + h) * L + j) * d);
    out[(b * H + h) * L + i] = 1 + worst;
  }
  return out;
}

/** ‖got − ref‖ / ‖scale‖ (Infinity on a non-finite value). */
export function lseMetric(what: string, got: ArrayLike<number>, ref: ArrayLike<number>, scale: ArrayLike<number>, bound: number): Metric {
  let num = 0, den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += Number.isFinite(got[i]) ? (got[i] - ref[i]) ** 2 : Infinity;
    den += scale[i] ** 2;
  }
  return { what, err: Math.sqrt(num / den), bound };
}

/** FD check of all five gradients of Σ r ⊙ O in the float64 reference. */
function fdCase(rng: Rng, c: Case): Metric[] {
  const x = inputs(rng, c);
  const r = rng.normals(c.B * c.H * c.L * c.d);
  const g = prefixAttentionBackwardRef(x, r, c);
  const out: Metric[] = [];
  for (const [n, key] of [
    ['q', 'dq'],
    ['k', 'dk'],
    ['v', 'dv'],
    ['pk', 'dpk'],
    ['pv', 'dpv'],
  ] as const) {
    const arr = Float64Array.from(x[n]);
    const f = (a: Float64Array) => dot(prefixAttentionRef({ ...x, [n]: a }, c).o, r);
    out.push({ what: `${key} FD ${tagOf(c)}`, err: fdCheck(f, arr, g[key], rng, 24), bound: 1e-6 });
  }
  return out;
}

export const checks: KernelCheck[] = [
  {
    kernel: 'prefix_attention',
    name: 'reference backward vs finite differences (dq, dk, dv, dpk, dpv)',
    gpu: false,
    async run(_gpu, rng) {
      return [
        ...fdCase(rng, { B: 2, H: 2, L: 4, d: 3, m: 3, causal: true }),
        ...fdCase(rng, { B: 1, H: 2, L: 3, d: 4, m: 2, causal: false, scale: 0.7, qStd: 2 }),
      ];
    },
  },
  {
    kernel: 'prefix_attention',
    name: 'fixed edge shapes: odd d, L=1 m=0, m=1, m=200 with L=9',
    gpu: true,
    async run(gpu, rng) {
      const cases: Case[] = [
        { B: 2, H: 3, L: 7, d: 5, m: 3, causal: true, beta: true },
        { B: 1, H: 1, L: 1, d: 16, m: 0, causal: true, beta: true },
        { B: 2, H: 1, L: 1, d: 16, m: 0, causal: false, frozenPrefix: true },
        { B: 2, H: 2, L: rng.int(2, 6), d: rng.int(1, 8), m: 1, causal: true, beta: true },
        { B: 2, H: 1, L: 5, d: 3, m: 4, causal: true, frozenPrefix: true },
        { B: 1, H: 2, L: 9, d: 24, m: 200, causal: false, beta: true, qStd: 3 },
      ];
      const out: Metric[] = [];
      for (const c of cases) out.push(...(await runCase(gpu!, rng, c)));
      return out;
    },
  },
  {
    kernel: 'prefix_attention',
    name: 'random shapes (tile boundaries, scale, causal or not)',
    gpu: true,
    async run(gpu, rng) {
      const out: Metric[] = [];
      // Crosses the 64-row/64-key workgroup boundaries and a partial 16-key tile.
      out.push(...(await runCase(gpu!, rng, { B: 1, H: 1, L: rng.int(65, 80), d: rng.int(3, 9), m: rng.int(60, 75), causal: true, beta: true, qStd: 2 })));
      // The GPU register-blocking configuration (auto picks 'software' on lavapipe/SwiftShader).
      out.push(...(await runCase(gpu!, rng, { B: 2, H: 1, L: rng.int(65, 75), d: rng.int(3, 9), m: rng.int(10, 40), causal: true, beta: true, path: 'gpu' })));
      for (let n = 0; n < 2; n++) {
        const c: Case = {
          B: rng.int(1, 3),
          H: rng.int(1, 3),
          L: rng.int(1, 20),
          d: [4, 7, 12][rng.int(0, 2)],
          m: rng.int(0, 40),
          causal: rng.next() < 0.5,
          beta: rng.next() < 0.5,
          scale: rng.next() < 0.5 ? rng.uniform(0.1, 1) : undefined,
        };
        out.push(...(await runCase(gpu!, rng, c)));
      }
      return out;
    },
  },
];
