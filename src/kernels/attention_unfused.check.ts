import type { Gpu } from '../gpu/runtime';
import type { Rng } from '../util/rng';
import { compare, poisoned, roundF32, type KernelCheck, type Metric } from './check';
import { attentionUnfusedForward } from './attention_unfused';
import { lseMetric, lseScale } from './prefix_attention.check';
import { prefixAttentionRef, type PrefixAttentionDims } from './prefix_attention.ref';

// The benchmark's baseline must compute the same thing as the fused kernel. Bound 1e-5 for
// o and lse, as for the fused forward (prefix_attention.check.ts): float32 sums over
// ≤ m + L ≤ 150 terms, ~1e-7…1e-6 measured. lse is measured against its scores' sizes,
// as there (at L = 1, m = 0 it is one dot product, which can cancel: a plain relative
// error failed a correct kernel by 3.3e-5, seed 2334167597).
const BOUND = 1e-5;

async function runCase(gpu: Gpu, rng: Rng, c: PrefixAttentionDims): Promise<Metric[]> {
  const { B, H, L, d, m } = c;
  const n = B * H * L * d;
  const x = { q: roundF32(rng.normals(n, 2)), k: roundF32(rng.normals(n)), v: roundF32(rng.normals(n)), pk: roundF32(rng.normals(H * m * d)), pv: roundF32(rng.normals(H * m * d)) };
  const f = prefixAttentionRef(x, c);
  const up = (shape: number[], a: Float64Array) => gpu.tensor(shape, Float32Array.from(a));
  const t = {
    q: up([B, H, L, d], x.q),
    k: up([B, H, L, d], x.k),
    v: up([B, H, L, d], x.v),
    pk: up([H, m, d], x.pk),
    pv: up([H, m, d], x.pv),
    o: poisoned(gpu, [B, H, L, d], 'o'),
    lse: poisoned(gpu, [B, H, L], 'lse'),
  };
  attentionUnfusedForward(gpu, t, c);
  const tag = `B=${B} H=${H} L=${L} d=${d} m=${m}${c.causal === false ? ' noncausal' : ''}`;
  const out = [compare(`o ${tag}`, await gpu.read(t.o), f.o, BOUND), lseMetric(`lse ${tag}`, await gpu.read(t.lse), f.lse, lseScale(x, c), BOUND)];
  gpu.release(...Object.values(t));
  return out;
}

export const checks: KernelCheck[] = [
  {
    kernel: 'attention_unfused',
    name: 'forward vs the prefix-attention reference, random shapes',
    gpu: true,
    async run(gpu, rng) {
      const out: Metric[] = [];
      out.push(...(await runCase(gpu!, rng, { B: 2, H: 3, L: 7, d: 5, m: 3, causal: true })));
      out.push(...(await runCase(gpu!, rng, { B: 1, H: 1, L: 1, d: rng.int(1, 20), m: 0, causal: true })));
      // Crosses the 64-row and 64-column workgroup boundaries, the prefix/sequence seam mid-tile.
      out.push(...(await runCase(gpu!, rng, { B: 1, H: 2, L: rng.int(65, 75), d: rng.int(2, 9), m: rng.int(20, 70), causal: rng.next() < 0.5 })));
      return out;
    },
  },
];
