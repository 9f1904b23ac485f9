// NTK-Attention as the prefix would grow: the fused prefix attention's forward time grows
// with m, NTK-Attention's does not (its (Z, k) have no m). Per m, side by side on the same
// queries, keys and values: prefix attention forward; NTK-Attention forward and
// forward + backward (elu1, r = d, and taylor2, r = 1 + d + d²) on (Z, k) computed from
// that prefix in closed form; and the one-off cost of that closed form (a reduction over
// m, paid once per conversion, not per step).
import type { Tensor } from '../gpu/runtime';
import { featureDim } from '../kernels/ntk_attention.ref';
import { ntkAttentionBackward, ntkAttentionForward, ntkFromPrefix } from '../kernels/ntk_attention';
import { prefixAttentionForward } from '../kernels/prefix_attention';
import type { FeatureMapName } from '../train/config';
import { Rng } from '../util/rng';
import { table, timeGpu, type Bench } from './bench';

interface Row {
  m: number;
  prefixFwdMs: number;
  ntk: Record<FeatureMapName, { fwdMs: number; fwdBwdMs: number; closedFormMs: number }>;
}

const MAPS: FeatureMapName[] = ['elu1', 'taylor2'];

export const bench: Bench = {
  name: 'ntk_attention',
  async run(gpu, opts) {
    const dims = opts.quick ? { B: 1, H: 2, L: 64, d: 16 } : { B: 1, H: 4, L: 128, d: 16 };
    const ms = opts.quick ? [1, 64, 1024] : [1, 64, 1024, 16384];
    const reps = opts.quick ? 3 : 5;
    const { B, H, L, d } = dims;
    const rng = new Rng(2406);
    const up = (shape: number[], std = 1) => gpu.tensor(shape, Float32Array.from(rng.normals(shape.reduce((a, b) => a * b, 1), std)));
    const live: Tensor[] = [];
    const keep = <T extends Tensor>(t: T) => (live.push(t), t);
    const q = keep(up([B, H, L, d]));
    const k = keep(up([B, H, L, d]));
    const v = keep(up([B, H, L, d]));
    const dO = keep(up([B, H, L, d]));
    const o = keep(gpu.tensor([B, H, L, d]));
    const lse = keep(gpu.tensor([B, H, L]));
    const stats = keep(gpu.tensor([B, H, L, 2]));
    const grads = { dq: keep(gpu.tensor([B, H, L, d])), dk: keep(gpu.tensor([B, H, L, d])), dv: keep(gpu.tensor([B, H, L, d])) };
    // Every cell is the minimum over `rounds` passes that interleave all m (the least
    // disturbed measurement: these software adapters share the CPU with everything else).
    const rounds = opts.quick ? 2 : 3;
    const rows: Row[] = ms.map((m) => ({ m, prefixFwdMs: Infinity, ntk: Object.fromEntries(MAPS.map((f) => [f, { fwdMs: Infinity, fwdBwdMs: Infinity, closedFormMs: Infinity }])) as Row['ntk'] }));
    for (let round = 0; round < rounds; round++) {
      for (const row of rows) {
        const m = row.m;
        // Small prefix keys keep e^{c·q·p} in the Taylor map's useful range; timing does not care.
        const pk = up([H, m, d], 0.3);
        const pv = up([H, m, d]);
        const prefixFwd = await timeGpu(gpu, () => prefixAttentionForward(gpu, { q, k, v, pk, pv, o, lse }, { ...dims, m, causal: true }), reps);
        row.prefixFwdMs = Math.min(row.prefixFwdMs, prefixFwd.ms);
        for (const map of MAPS) {
          const r = featureDim(map, d);
          const z = gpu.tensor([H, r, d]);
          const kappa = gpu.tensor([H, r]);
          const dz = gpu.tensor([H, r, d]);
          const dkappa = gpu.tensor([H, r]);
          const closed = await timeGpu(gpu, () => ntkFromPrefix(gpu, pk, pv, z, kappa, { H, m, d, featureMap: map }), reps);
          const opt = { ...dims, featureMap: map, kParam: 'identity' as const, causal: true };
          const fwd = await timeGpu(gpu, () => ntkAttentionForward(gpu, { q, k, v, z, kappa, o, stats }, opt), reps);
          const both = await timeGpu(
            gpu,
            () => {
              ntkAttentionForward(gpu, { q, k, v, z, kappa, o, stats }, opt);
              ntkAttentionBackward(gpu, { q, k, v, z, kappa, o, stats, dO, ...grads, dz, dkappa }, opt);
            },
            reps,
          );
          const cell = row.ntk[map];
          cell.fwdMs = Math.min(cell.fwdMs, fwd.ms);
          cell.fwdBwdMs = Math.min(cell.fwdBwdMs, both.ms);
          cell.closedFormMs = Math.min(cell.closedFormMs, closed.ms);
          gpu.release(z, kappa, dz, dkappa);
        }
        gpu.release(pk, pv);
      }
      console.log(`  round ${round + 1}/${rounds} done`);
    }
    gpu.release(...live);
    const [first, last] = [rows[0], rows[rows.length - 1]];
    const growth = (f: (r: Row) => number) => (f(last) / f(first)).toFixed(2);
    const markdown = [
      `B=${B}, H=${H}, L=${L}, d=${d}, causal, float32; ms per call (GPU timestamps where the adapter has them; the minimum over ${rounds} interleaved rounds). NTK-Attention's (Z, k)`,
      'come from the prefix in closed form (k = Σφ(p_j), Z = Σφ(p_j)w_jᵀ, k̃ = k); "closed form" is that one-off reduction over m.',
      `Growth from m=${first.m} to m=${last.m}: prefix forward ${growth((r) => r.prefixFwdMs)}x, NTK elu1 forward ${growth((r) => r.ntk.elu1.fwdMs)}x,`,
      `NTK taylor2 forward ${growth((r) => r.ntk.taylor2.fwdMs)}x (flat = 1; differences of a few percent are timing noise).`,
      '',
      table(
        ['m', 'prefix fwd ms', 'NTK elu1 fwd ms', 'NTK elu1 fwd+bwd ms', 'NTK taylor2 fwd ms', 'NTK taylor2 fwd+bwd ms', 'closed form ms elu1 / taylor2'],
        rows.map((r) => [r.m, r.prefixFwdMs, r.ntk.elu1.fwdMs, r.ntk.elu1.fwdBwdMs, r.ntk.taylor2.fwdMs, r.ntk.taylor2.fwdBwdMs, `${r.ntk.elu1.closedFormMs.toPrecision(3)} / ${r.ntk.taylor2.closedFormMs.toPrecision(3)}`]),
      ),
    ].join('\n');
    return { title: 'NTK-Attention as the prefix grows', markdown, data: { dims, rows } };
  },
};
