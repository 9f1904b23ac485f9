import { compare, dot, fdCheck, poisoned, roundF32, type KernelCheck, type Metric } from './check';
import { permuteQkvBackward, permuteQkvForward, unpermuteBackward, unpermuteForward, type PermuteDims } from './permute';
import { permuteQkvBackwardRef, permuteQkvRef, unpermuteBackwardRef, unpermuteRef } from './permute.ref';

// Permutations copy float32 values without arithmetic, so the GPU result must equal the
// reference exactly: bound 0 (any misplaced element or unwritten NaN fails).
const EXACT = 0;

export const checks: KernelCheck[] = [
  {
    kernel: 'permute',
    name: 'qkv split / head merge, forward and backward, exact vs reference',
    gpu: true,
    async run(gpu, rng) {
      const shapes: PermuteDims[] = [
        { B: 1, T: 1, H: 1, d: 1 },
        { B: 1, T: rng.int(2, 9), H: 1, d: 5 },
        { B: rng.int(2, 3), T: 1, H: rng.int(2, 4), d: 16 },
        { B: rng.int(2, 3), T: rng.int(5, 19), H: rng.int(2, 5), d: rng.int(2, 9) * 2 + 1 },
        // Few workgroups: every thread loops over several elements (the grid-stride path
        // that large tensors take beyond 4096 workgroups).
        { B: rng.int(2, 4), T: rng.int(20, 40), H: rng.int(2, 6), d: rng.int(5, 33), maxGroups: rng.int(1, 3) },
      ];
      const out: Metric[] = [];
      for (const s of shapes) {
        const n = s.B * s.T * s.H * s.d;
        const tag = `B=${s.B} T=${s.T} H=${s.H} d=${s.d}`;
        const qkv = roundF32(rng.normals(3 * n));
        const tqkv = gpu!.tensor([s.B, s.T, 3, s.H, s.d], Float32Array.from(qkv), 'qkv');
        const [tq, tk, tv] = [0, 1, 2].map(() => poisoned(gpu!, [s.B, s.H, s.T, s.d]));
        permuteQkvForward(gpu!, tqkv, tq, tk, tv, s);
        const ref = permuteQkvRef(qkv, s);
        out.push(compare(`q ${tag}`, await gpu!.read(tq), ref.q, EXACT));
        out.push(compare(`k ${tag}`, await gpu!.read(tk), ref.k, EXACT));
        out.push(compare(`v ${tag}`, await gpu!.read(tv), ref.v, EXACT));

        // Backward on fresh gradients.
        const [gq, gk, gv] = [0, 1, 2].map(() => roundF32(rng.normals(n)));
        gpu!.write(tq, Float32Array.from(gq));
        gpu!.write(tk, Float32Array.from(gk));
        gpu!.write(tv, Float32Array.from(gv));
        gpu!.fill(tqkv);
        permuteQkvBackward(gpu!, tq, tk, tv, tqkv, s);
        out.push(compare(`dqkv ${tag}`, await gpu!.read(tqkv), permuteQkvBackwardRef(gq, gk, gv, s), EXACT));

        const o = roundF32(rng.normals(n));
        const to = gpu!.tensor([s.B, s.H, s.T, s.d], Float32Array.from(o), 'o');
        const tm = poisoned(gpu!, [s.B, s.T, s.H * s.d]);
        unpermuteForward(gpu!, to, tm, s);
        out.push(compare(`unpermute ${tag}`, await gpu!.read(tm), unpermuteRef(o, s), EXACT));
        const dm = roundF32(rng.normals(n));
        gpu!.write(tm, Float32Array.from(dm));
        gpu!.fill(to);
        unpermuteBackward(gpu!, tm, to, s);
        out.push(compare(`unpermute backward ${tag}`, await gpu!.read(to), unpermuteBackwardRef(dm, s), EXACT));
        gpu!.release(tqkv, tq, tk, tv, to, tm);
      }
      return out;
    },
  },
  {
    kernel: 'permute',
    name: 'reference backward vs finite differences',
    gpu: false,
    async run(_gpu, rng) {
      // Linear maps: central differences are exact up to rounding (~1e-11 relative).
      const s: PermuteDims = { B: 2, T: 3, H: 2, d: 5 };
      const n = s.B * s.T * s.H * s.d;
      const qkv = rng.normals(3 * n);
      const [rq, rk, rv] = [rng.normals(n), rng.normals(n), rng.normals(n)];
      const fq = (x: Float64Array) => {
        const p = permuteQkvRef(x, s);
        return dot(p.q, rq) + dot(p.k, rk) + dot(p.v, rv);
      };
      const o = rng.normals(n);
      const r = rng.normals(n);
      return [
        { what: 'dqkv', err: fdCheck(fq, qkv, permuteQkvBackwardRef(rq, rk, rv, s), rng, 60), bound: 1e-8 },
        { what: 'do', err: fdCheck((x) => dot(unpermuteRef(x, s), r), o, unpermuteBackwardRef(r, s), rng, 40), bound: 1e-8 },
      ];
    },
  },
];
