import type { Gpu } from '../gpu/runtime';
import type { Rng } from '../util/rng';
import { dot, fdCheck, poisoned, roundF32, type KernelCheck, type Metric } from './check';
import { geluBackward, geluForward } from './gelu';
import { geluBackwardRef, geluBackwardRounding, geluRef, geluRounding, type GeluRounding } from './gelu.ref';
import { scaledErr, U32 } from './scaled';

// Each output is judged element by element against the reference's rounding scale
// (gelu.ref.ts), max |gpu − ref| / scale: y and dx are ~10 float32 operations plus an exp
// whose error the scale already weighs by its argument, so a correct kernel stays within a
// few 2⁻²⁴; SCALED = 64·2⁻²⁴ ≈ 3.8e-6 leaves room for other drivers' exp and division
// (WGSL allows 2.5 ulps for f32 division). A plain relative error of the whole output is no
// good here: at n = 1 with x ≲ −10, float32's e^{−2u} overflows and y = −0 against a
// reference near −1e-37. Differences within the reference's underflow floor (float32's
// least normal number carried through each output's multipliers) count as equal.
const SCALED = 64 * U32;

/** max |gpu − ref| / scale, with differences up to the floor counted as none. */
export function flooredScaledErr(got: ArrayLike<number>, ref: ArrayLike<number>, r: GeluRounding): number {
  // (a length mismatch still fails: scaledErr refuses it)
  const kept = Float64Array.from(got, (g, i) => (Math.abs(g - ref[i]) <= r.floor[i] ? ref[i] : g));
  return scaledErr(kept, ref, r.scale);
}

async function runCase(gpu: Gpu, tag: string, x: Float64Array, dy: Float64Array): Promise<Metric[]> {
  const n = x.length;
  const tx = gpu.tensor([n], Float32Array.from(x));
  const tdy = gpu.tensor([n], Float32Array.from(dy));
  const ty = poisoned(gpu, [n]);
  const tdx = poisoned(gpu, [n]);
  geluForward(gpu, tx, ty);
  geluBackward(gpu, tx, tdy, tdx);
  const dx = geluBackwardRef(x, dy);
  const dxRound = geluBackwardRounding(x, dy);
  const out: Metric[] = [
    { what: `y ${tag}`, err: flooredScaledErr(await gpu.read(ty), geluRef(x), geluRounding(x)), bound: SCALED },
    { what: `dx ${tag}`, err: flooredScaledErr(await gpu.read(tdx), dx, dxRound), bound: SCALED },
  ];
  // accumulate: dx += dy·gelu'(x) again
  geluBackward(gpu, tx, tdy, tdx, true);
  const twice = dx.map((v) => 2 * v);
  out.push({ what: `dx accumulate ${tag}`, err: flooredScaledErr(await gpu.read(tdx), twice, geluBackwardRounding(x, dy, dxRound)), bound: SCALED });
  gpu.release(tx, tdy, ty, tdx);
  return out;
}

/**
 * The ends of the range, every run: x in [−20, −8], where y falls from −3e-21 to ~1e-37
 * at x = −10, s = σ(2u) goes subnormal below −10.00 (a driver may flush it) and is 0
 * once e^{−2u} overflows below −10.06 (y = −0); and large positive x, where s rounds to 1
 * and y = x. Fixed points at the thresholds, then draws.
 */
function tails(rng: Rng): Float64Array {
  const fixed = [-20, -10.5, -10.06, -10.03, -10, -9.5, -9, -8, 0, 8, 10, 20, 40, 100, 1000];
  const drawn = Array.from({ length: 50 }, (_, i) => (i % 2 ? rng.uniform(-20, -8) : rng.uniform(8, 40)));
  return roundF32([...fixed, ...drawn]);
}

export const checks: KernelCheck[] = [
  {
    kernel: 'gelu',
    name: 'forward + backward, random sizes, and x in [−20, −8] and [8, 1000]',
    gpu: true,
    async run(gpu, rng) {
      const out: Metric[] = [];
      for (const n of [1, rng.int(2, 300), rng.int(1000, 70000)]) {
        out.push(...(await runCase(gpu!, `n=${n}`, roundF32(rng.normals(n, 3)), roundF32(rng.normals(n)))));
      }
      const x = tails(rng);
      out.push(...(await runCase(gpu!, `tails n=${x.length}`, x, roundF32(rng.normals(x.length)))));
      return out;
    },
  },
  {
    kernel: 'gelu',
    name: 'reference backward vs finite differences',
    gpu: false,
    async run(_gpu, rng) {
      const n = 40;
      const x = rng.normals(n, 2);
      const r = rng.normals(n);
      const f = (xx: Float64Array) => dot(geluRef(xx), r);
      return [{ what: 'dx', err: fdCheck(f, x, geluBackwardRef(x, r), rng), bound: 1e-6 }];
    },
  },
];
