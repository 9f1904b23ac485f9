import { compare, dot, fdCheck, poisoned, roundF32, type KernelCheck } from './check';
import { geluBackward, geluForward } from './gelu';
import { geluBackwardRef, geluRef } from './gelu.ref';

// Element-wise: each output is a few float32 ops on one input, so the relative error is a
// few ulps (~1e-7); 1e-5 leaves room for exp/tanh implementations on other drivers.
const BOUND = 1e-5;

export const checks: KernelCheck[] = [
  {
    kernel: 'gelu',
    name: 'forward + backward, random sizes',
    gpu: true,
    async run(gpu, rng) {
      const out = [];
      for (const n of [1, rng.int(2, 300), rng.int(1000, 70000)]) {
        const x = roundF32(rng.normals(n, 3));
        const dy = roundF32(rng.normals(n));
        const tx = gpu!.tensor([n], Float32Array.from(x));
        const tdy = gpu!.tensor([n], Float32Array.from(dy));
        const ty = poisoned(gpu!, [n]);
        const tdx = poisoned(gpu!, [n]);
        geluForward(gpu!, tx, ty);
        geluBackward(gpu!, tx, tdy, tdx);
        out.push(compare(`y n=${n}`, await gpu!.read(ty), geluRef(x), BOUND));
        out.push(compare(`dx n=${n}`, await gpu!.read(tdx), geluBackwardRef(x, dy), BOUND));
        // accumulate: dx += dy·gelu'(x) again
        geluBackward(gpu!, tx, tdy, tdx, true);
        out.push(compare(`dx accumulate n=${n}`, await gpu!.read(tdx), geluBackwardRef(x, dy).map((v) => 2 * v), BOUND));
        gpu!.release(tx, tdy, ty, tdx);
      }
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
