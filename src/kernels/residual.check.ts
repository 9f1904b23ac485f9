import { compare, dot, fdCheck, poisoned, roundF32, type KernelCheck, type Metric } from './check';
import { add, addInPlace } from './residual';
import { addBackwardRef, addRef } from './residual.ref';

// One float32 add per element of float32 inputs: each result is the exact sum rounded
// once (≤ 2⁻²⁴ relative), so ‖gpu − ref‖/‖ref‖ ≤ 6e-8; 1e-6 is a safe bound.
const BOUND = 1e-6;

export const checks: KernelCheck[] = [
  {
    kernel: 'residual',
    name: 'add and addInPlace vs reference, random sizes',
    gpu: true,
    async run(gpu, rng) {
      const out: Metric[] = [];
      // 1, odd, not a multiple of 256, and more than one grid stride (4096·256 = 2^20).
      for (const n of [1, rng.int(2, 300) * 2 + 1, rng.int(1000, 5000), (1 << 20) + rng.int(1, 5000)]) {
        const a = roundF32(rng.normals(n, 2));
        const b = roundF32(rng.normals(n));
        const ta = gpu!.tensor([n], Float32Array.from(a), 'a');
        const tb = gpu!.tensor([n], Float32Array.from(b), 'b');
        const to = poisoned(gpu!, [n]);
        add(gpu!, ta, tb, to);
        out.push(compare(`add n=${n}`, await gpu!.read(to), addRef(a, b), BOUND));
        // Twice: a + 2b, so it really reads y each time.
        addInPlace(gpu!, ta, tb);
        addInPlace(gpu!, ta, tb);
        out.push(compare(`y += x twice n=${n}`, await gpu!.read(ta), addRef(addRef(a, b), b), 2 * BOUND));
        gpu!.release(ta, tb, to);
      }
      return out;
    },
  },
  {
    kernel: 'residual',
    name: 'reference backward vs finite differences',
    gpu: false,
    async run(_gpu, rng) {
      const n = 17;
      const a = rng.normals(n);
      const b = rng.normals(n);
      const r = rng.normals(n);
      const g = addBackwardRef(r);
      return [
        { what: 'da', err: fdCheck((aa) => dot(addRef(aa, b), r), a, g.da, rng), bound: 1e-8 },
        { what: 'db', err: fdCheck((bb) => dot(addRef(a, bb), r), b, g.db, rng), bound: 1e-8 },
      ];
    },
  },
];
