import type { Gpu, Tensor } from '../gpu/runtime';
import type { Rng } from '../util/rng';
import { roundF32, type KernelCheck, type Metric } from './check';
import { adamw } from './adamw';
import { adamwRef, type AdamWHyper } from './adamw.ref';

// Bounds. p, m, v are in-out buffers, so they cannot be NaN-poisoned; instead every step is
// checked through quantities that an unwritten element would get wrong by O(1): the update
// Δp = p_after − p_before (≈ ±lr per element, 0 if unwritten) and m, v (which change every
// step; at t = 1 they start from 0).
// Errors are measured as ‖gpu − ref‖ / ‖scale‖ where `scale` is the element-wise size of the
// terms that were summed (|β1·m| + |(1−β1)·g| for m, |p| + Σ|steps| for p, …): float32's
// rounding error is proportional to those, not to a result that may cancel to near 0 (with
// n = 1 a plain relative error would fail by chance). For large n it is ≈ ‖gpu−ref‖/‖ref‖.
// - Δp, one step from the GPU's own state: p_after is rounded to float32, an error of
//   ≤ 2^-24·|p| ≈ 6e-8·|p| against a step of size ≈ lr ≥ 0.02 (plus a few ulps inside the
//   update), so ≲ 3e-6·|p| per element, ≲ 1e-6 in norm for p ~ N(0, 0.5²); bound 1e-5.
// - m, v after one step: two float32 multiply-adds, a few ulps (~1e-7); bound 1e-5.
// - p, m, v after several steps from a float64 reference state that never saw the GPU's
//   values: each step's float32 rounding adds ~1e-7 relative to the scale; bound 1e-5.
const BOUND = 1e-5;

const f32 = Math.fround;

/** ‖got − ref‖ / ‖scale‖ (Infinity on any non-finite value in got). */
function scaledErr(got: ArrayLike<number>, ref: ArrayLike<number>, scale: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    if (!Number.isFinite(got[i])) return Infinity;
    num += (got[i] - ref[i]) ** 2;
    den += scale[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** Element-wise size of one step's terms: mS = |β1·m| + |(1−β1)·g'| and lr·(mS/bc1/(√v̂+eps) + wd·|p|). */
function stepScales(pb: ArrayLike<number>, mb: ArrayLike<number>, g: ArrayLike<number>, m: ArrayLike<number>, v: ArrayLike<number>, hp: AdamWHyper, t: number, decay: boolean, gs: number) {
  const n = pb.length;
  const mS = new Float64Array(n);
  const pS = new Float64Array(n);
  const bc1 = 1 - hp.beta1 ** t;
  const bc2 = 1 - hp.beta2 ** t;
  for (let i = 0; i < n; i++) {
    mS[i] = Math.abs(hp.beta1 * mb[i]) + Math.abs((1 - hp.beta1) * g[i] * gs);
    // m's own term sizes (mS), not |m|: the step's error follows m's error, which is relative
    // to mS even when m cancels to ≈ 0.
    pS[i] = hp.lr * ((mS[i] / bc1) / (Math.sqrt(v[i] / bc2) + hp.eps) + (decay ? hp.weightDecay : 0) * Math.abs(pb[i]));
  }
  return { mS, pS };
}

function randomHyper(rng: Rng): AdamWHyper {
  // float32-representable hyper-parameters: the kernel sees exactly what the reference sees.
  return {
    lr: f32(rng.uniform(0.02, 0.1)),
    beta1: f32(rng.uniform(0.8, 0.95)),
    beta2: f32(rng.uniform(0.95, 0.999)),
    eps: f32(1e-8),
    weightDecay: f32(rng.uniform(0.05, 0.3)),
  };
}

interface Case {
  n: number;
  decay: boolean;
  /** none, a [1] {scale} tensor, or a [2] {norm, scale} tensor read at its last element. */
  scaleKind: 'none' | 'scalar' | 'pair';
  firstStep: number;
  steps: number;
  /** Start from zero moments (a fresh optimiser) or from a random earlier state. */
  fresh: boolean;
  /** Bind p, g, m, v in ranges of at most this many bytes (a tensor over the device's limit). */
  maxBindingBytes?: number;
}

async function runCase(gpu: Gpu, rng: Rng, c: Case): Promise<Metric[]> {
  const { n } = c;
  const hp = randomHyper(rng);
  // Reference state carried in float64 from the initial (float32) values.
  const scale = c.scaleKind === 'none' ? 1 : f32(rng.uniform(0.1, 1));
  // |p| ≲ 1.5, so p_after's float32 rounding (≤ 2^-24·|p| ≈ 1e-7) stays ≲ 5e-6 of a step of
  // size ≥ lr·O(1) ≥ 0.02·O(1) even for a single element (n = 1).
  const p = roundF32(rng.normals(n, 0.5));
  // A resumed state consistent with gradients g' = scale·N(0, 1): v ≈ E[g'²], |m| ≲ |g'|, so
  // steps are ~lr·O(1), as in training (a v far above g'² would shrink the steps below the
  // float32 resolution of p that the Δp measurement relies on).
  const m = c.fresh ? new Float64Array(n) : roundF32(rng.normals(n, 0.5 * scale));
  const v = c.fresh ? new Float64Array(n) : roundF32(rng.uniforms(n, 0.5 * scale * scale, 2 * scale * scale));
  const tp = gpu.tensor([n], Float32Array.from(p), 'p');
  const tm = gpu.tensor([n], Float32Array.from(m), 'm');
  const tv = gpu.tensor([n], Float32Array.from(v), 'v');
  const tg = gpu.tensor([n], undefined, 'g');
  let ts: Tensor | null = null;
  if (c.scaleKind === 'scalar') ts = gpu.tensor([1], [scale]);
  if (c.scaleKind === 'pair') ts = gpu.tensor([2], [f32(rng.uniform(1, 10)), scale]);
  const tag = `n=${n} decay=${c.decay} scale=${c.scaleKind} t=${c.firstStep}..${c.firstStep + c.steps - 1}${c.maxBindingBytes ? ` bind≤${c.maxBindingBytes}B` : ''}`;
  const out: Metric[] = [];
  let worstDp = 0;
  let worstM = 0;
  let worstV = 0;
  // Running scales of the carried float64 state (see the header).
  const pScale = p.map(Math.abs);
  let mScale = m.map(Math.abs);
  for (let s = 0; s < c.steps; s++) {
    const t = c.firstStep + s;
    const g = roundF32(rng.normals(n));
    gpu.write(tg, Float32Array.from(g));
    // The GPU's state before this step, as float64.
    const pb = Float64Array.from(await gpu.read(tp));
    const mb = Float64Array.from(await gpu.read(tm));
    const vb = Float64Array.from(await gpu.read(tv));
    const mPrev = mb.slice();
    adamw(gpu, tp, tg, tm, tv, hp, t, { decay: c.decay, gradScale: ts, maxBindingBytes: c.maxBindingBytes });
    const pa = await gpu.read(tp);
    const ma = await gpu.read(tm);
    const va = await gpu.read(tv);
    // One reference step from the GPU's state: a sharp check of this step alone.
    const p1 = pb.slice();
    adamwRef(p1, g, mb, vb, hp, t, c.decay, scale);
    const one = stepScales(pb, mPrev, g, mb, vb, hp, t, c.decay, scale);
    worstDp = Math.max(worstDp, scaledErr(pa.map((x, i) => x - pb[i]), p1.map((x, i) => x - pb[i]), one.pS));
    worstM = Math.max(worstM, scaledErr(ma, mb, one.mS));
    worstV = Math.max(worstV, scaledErr(va, vb, vb)); // v sums non-negative terms: no cancellation
    // The float64 reference state, carried across steps.
    const pPrev = p.slice();
    const mPrevRef = m.slice();
    adamwRef(p, g, m, v, hp, t, c.decay, scale);
    const carried = stepScales(pPrev, mPrevRef, g, m, v, hp, t, c.decay, scale);
    for (let i = 0; i < n; i++) pScale[i] += carried.pS[i];
    mScale = mScale.map((x, i) => hp.beta1 * x + Math.abs((1 - hp.beta1) * g[i] * scale));
  }
  out.push({ what: `Δp per step (worst) ${tag}`, err: worstDp, bound: BOUND });
  out.push({ what: `m per step (worst) ${tag}`, err: worstM, bound: BOUND });
  out.push({ what: `v per step (worst) ${tag}`, err: worstV, bound: BOUND });
  out.push({ what: `p after ${c.steps} steps ${tag}`, err: scaledErr(await gpu.read(tp), p, pScale), bound: BOUND });
  out.push({ what: `m after ${c.steps} steps ${tag}`, err: scaledErr(await gpu.read(tm), m, mScale), bound: BOUND });
  out.push({ what: `v after ${c.steps} steps ${tag}`, err: scaledErr(await gpu.read(tv), v, v), bound: BOUND });
  gpu.release(tp, tm, tv, tg, ts);
  return out;
}

export const checks: KernelCheck[] = [
  {
    kernel: 'adamw',
    name: 'consecutive steps vs reference (decay on/off, GPU grad scale)',
    gpu: true,
    async run(gpu, rng) {
      const cases: Case[] = [
        { n: 1, decay: true, scaleKind: 'none', firstStep: 1, steps: 4, fresh: true },
        { n: rng.int(2, 300), decay: false, scaleKind: 'scalar', firstStep: 1, steps: 4, fresh: true },
        { n: rng.int(2, 300), decay: true, scaleKind: 'pair', firstStep: 1, steps: 3, fresh: true },
        // More elements than one grid-stride pass covers? gridStride caps at 4096 groups of
        // 256 (~1M), so this size only tests many workgroups; the stride loop is plain.
        { n: rng.int(1000, 20000), decay: rng.next() < 0.5, scaleKind: 'pair', firstStep: 1, steps: 3, fresh: true },
        // A resumed optimiser late in training: bias corrections ≈ 1, non-zero moments.
        { n: rng.int(50, 3000), decay: true, scaleKind: 'none', firstStep: rng.int(500, 5000), steps: 3, fresh: false },
        { n: rng.int(50, 3000), decay: false, scaleKind: 'scalar', firstStep: rng.int(2, 50), steps: 2, fresh: false },
        // Bound in 1 KiB ranges (256 elements), the last one partial: every element updated once.
        { n: rng.int(600, 1000), decay: true, scaleKind: 'pair', firstStep: rng.int(1, 20), steps: 2, fresh: false, maxBindingBytes: 1024 },
      ];
      const out: Metric[] = [];
      for (const c of cases) out.push(...(await runCase(gpu!, rng, c)));
      return out;
    },
  },
];
