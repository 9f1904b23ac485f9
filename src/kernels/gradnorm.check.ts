import type { Gpu } from '../gpu/runtime';
import type { Rng } from '../util/rng';
import { compare, poisoned, roundF32, type KernelCheck, type Metric } from './check';
import { adamw } from './adamw';
import { adamwRef, type AdamWHyper } from './adamw.ref';
import { gradNormScale, groupsFor, scaleByScalar } from './gradnorm';
import { gradNormScaleRef, scaleRef } from './gradnorm.ref';

// Bounds.
// - norm: a sum of non-negative squares (no cancellation) through ≤ 5 sequential adds per
//   thread, an 8-level tree per workgroup, ≤ a few hundred partials summed by 256 threads and
//   another 8-level tree: relative error ≲ 25·2^-24 ≈ 1.5e-6 worst case, halved by sqrt.
//   1e-5 leaves room for other drivers.
// - scale = maxNorm/(norm + 1e-6): the norm's error plus one division; 1e-5. Exactly 1 when
//   the norm is below maxNorm or clipping is off.
// - scaleByScalar: one multiply per element, ≤ 1 ulp; 1e-6.
// - clipped AdamW: same bounds as adamw.check.ts (a few float32 ulps per step), 1e-5.
const BOUND = 1e-5;

/**
 * Random gradient list in random order: sizes 0, 1, odd sizes, one spanning many workgroups
 * (64 slots), plus `extra` more random small ones.
 */
function randomGrads(rng: Rng, extra: number): Float64Array[] {
  const sizes = [1, 0, rng.int(2, 300), rng.int(1000, 5000), rng.int(60000, 80000), rng.int(301, 999)];
  for (let i = 0; i < extra; i++) sizes.push(rng.int(1, 3000));
  for (let i = sizes.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [sizes[i], sizes[j]] = [sizes[j], sizes[i]];
  }
  // Magnitudes spread over four decades: small tensors must still count.
  return sizes.map((n) => roundF32(rng.normals(n, 10 ** rng.uniform(-3, 1))));
}

async function normCase(gpu: Gpu, rng: Rng, grads: Float64Array[], factor: number, tag: string, maxBindingBytes?: number): Promise<Metric[]> {
  const ts = grads.map((g) => gpu.tensor([g.length], Float32Array.from(g), 'grad'));
  const ref0 = gradNormScaleRef(grads, 1);
  // maxNorm relative to the true norm: factor < 1 clips, > 1 does not, 0 turns clipping off.
  const maxNorm = Math.fround(factor * ref0.norm);
  const ref = gradNormScaleRef(grads, maxNorm);
  const out = poisoned(gpu, [2], 'norm-scale');
  gradNormScale(gpu, ts, maxNorm, out, maxBindingBytes);
  const got = await gpu.read(out);
  // Same inputs again: the reduction order is fixed, so the bits must match exactly.
  const again = poisoned(gpu, [2], 'norm-scale-2');
  gradNormScale(gpu, ts, maxNorm, again, maxBindingBytes);
  const got2 = await gpu.read(again);
  gpu.release(out, again, ...ts);
  const slots = grads.reduce((a, g) => a + groupsFor(g.length), 0);
  const what = `${tag} (${grads.length} tensors, ${slots} slots, maxNorm = ${factor.toPrecision(3)}·norm, scale ${ref.scale.toPrecision(3)})`;
  return [
    compare(`norm ${what}`, [got[0]], [ref.norm], BOUND),
    compare(`scale ${what}`, [got[1]], [ref.scale], BOUND),
    { what: `run-to-run bit difference ${tag}`, err: got[0] === got2[0] && got[1] === got2[1] ? 0 : 1, bound: 0 },
  ];
}

export const checks: KernelCheck[] = [
  {
    kernel: 'gradnorm',
    name: 'global norm and clip scale over many tensors',
    gpu: true,
    async run(gpu, rng) {
      const out: Metric[] = [];
      out.push(...(await normCase(gpu!, rng, [roundF32(rng.normals(1))], 0.5, 'n=1 clipped')));
      out.push(...(await normCase(gpu!, rng, [roundF32(rng.normals(1))], 2, 'n=1 not clipped')));
      out.push(...(await normCase(gpu!, rng, randomGrads(rng, rng.int(0, 4)), rng.uniform(0.05, 0.9), 'clipped')));
      out.push(...(await normCase(gpu!, rng, randomGrads(rng, rng.int(0, 4)), rng.uniform(1.1, 10), 'not clipped')));
      out.push(...(await normCase(gpu!, rng, randomGrads(rng, rng.int(0, 4)), 0, 'clipping off')));
      // Norm ≈ 1e-6: the +1e-6 in the denominator halves the scale here.
      out.push(...(await normCase(gpu!, rng, [roundF32(rng.normals(rng.int(2, 50), 1e-7)), roundF32(rng.normals(rng.int(2, 50), 1e-7))], 0.5, 'tiny norm')));
      // All-zero gradients: norm 0 and scale 1 (not maxNorm/1e-6 > 1).
      out.push(...(await normCase(gpu!, rng, [new Float64Array(rng.int(1, 500)), new Float64Array(3)], 1, 'all zero')));
      // Tensors bound in 4 KiB ranges (as a gradient over the device's binding limit).
      out.push(...(await normCase(gpu!, rng, randomGrads(rng, rng.int(0, 2)), rng.uniform(0.05, 0.9), 'bound in 4 KiB ranges', 4096)));
      // No tensors at all: norm 0, scale 1.
      out.push(...(await normCase(gpu!, rng, [], 1, 'empty list')));
      return out;
    },
  },
  {
    kernel: 'gradnorm',
    name: 'scaleByScalar (x *= s[index])',
    gpu: true,
    async run(gpu, rng) {
      const out: Metric[] = [];
      for (const n of [1, rng.int(2, 300), rng.int(2000, 20000)]) {
        const x = roundF32(rng.normals(n));
        const s = [Math.fround(rng.uniform(-2, 2)), Math.fround(rng.uniform(0.1, 1))];
        const tx = gpu!.tensor([n], Float32Array.from(x));
        const ts = gpu!.tensor([2], s);
        scaleByScalar(gpu!, tx, ts); // default: last element (the clip scale)
        out.push(compare(`x·s[1] n=${n}`, await gpu!.read(tx), scaleRef(x, s[1]), 1e-6));
        scaleByScalar(gpu!, tx, ts, 0);
        out.push(compare(`x·s[1]·s[0] n=${n}`, await gpu!.read(tx), scaleRef(scaleRef(x, s[1]), s[0]), 1e-6));
        gpu!.release(tx, ts);
      }
      return out;
    },
  },
  {
    kernel: 'gradnorm',
    name: 'clipped AdamW: gradNormScale feeding adamw, two steps',
    gpu: true,
    async run(gpu, rng) {
      // At t = 1 from zero moments Adam is invariant to the gradient's scale (m̂/√v̂ = ±1), so
      // the clip factor shows in m, v and, from the second step on, in p.
      const hp: AdamWHyper = { lr: Math.fround(0.05), beta1: Math.fround(0.9), beta2: Math.fround(0.99), eps: Math.fround(1e-8), weightDecay: Math.fround(0.1) };
      // ≥ 5 elements each, so no tensor's norm is near 0 by chance (n = 1 is covered above).
      const sizes = [rng.int(5, 40), rng.int(41, 300), rng.int(1000, 5000)];
      const p = sizes.map((n) => roundF32(rng.normals(n, 0.5)));
      const m = sizes.map((n) => new Float64Array(n));
      const v = sizes.map((n) => new Float64Array(n));
      const tp = p.map((a) => gpu!.tensor([a.length], Float32Array.from(a)));
      const tm = sizes.map((n) => gpu!.tensor([n], new Float32Array(n)));
      const tv = sizes.map((n) => gpu!.tensor([n], new Float32Array(n)));
      const tg = sizes.map((n) => gpu!.tensor([n]));
      const clip = poisoned(gpu!, [2], 'clip');
      const out: Metric[] = [];
      const scales: number[] = [];
      for (let t = 1; t <= 2; t++) {
        const g = sizes.map((n) => roundF32(rng.normals(n, 2)));
        g.forEach((a, i) => gpu!.write(tg[i], Float32Array.from(a)));
        // Clip on step 1 (maxNorm below the norm); step 2 clips harder.
        const maxNorm = Math.fround(gradNormScaleRef(g, 1).norm * (t === 1 ? 0.5 : 0.1));
        const ref = gradNormScaleRef(g, maxNorm);
        scales.push(ref.scale);
        gradNormScale(gpu!, tg, maxNorm, clip);
        sizes.forEach((_, i) => adamw(gpu!, tp[i], tg[i], tm[i], tv[i], hp, t, { decay: i !== 0, gradScale: clip }));
        sizes.forEach((_, i) => adamwRef(p[i], g[i], m[i], v[i], hp, t, i !== 0, ref.scale));
      }
      for (let i = 0; i < sizes.length; i++) {
        const tag = `n=${sizes[i]} scales ${scales.map((s) => s.toPrecision(2)).join(', ')}`;
        out.push(compare(`p ${tag}`, await gpu!.read(tp[i]), p[i], BOUND));
        out.push(compare(`m ${tag}`, await gpu!.read(tm[i]), m[i], BOUND));
        out.push(compare(`v ${tag}`, await gpu!.read(tv[i]), v[i], BOUND));
      }
      gpu!.release(clip, ...tp, ...tm, ...tv, ...tg);
      return out;
    },
  },
];
