// The two attention kernels for `npm run cli -- kernel`: prefix attention and NTK-Attention,
// forward, and backward when the file holds dO. Tensor names and layouts: docs/PARITY.md.
import type { Gpu, Tensor } from '../gpu/runtime';
import { ntkAttentionBackward, ntkAttentionForward } from '../kernels/ntk_attention';
import { featureDim, ntkAttentionBackwardRef, ntkAttentionRef } from '../kernels/ntk_attention.ref';
import { prefixAttentionBackward, prefixAttentionForward } from '../kernels/prefix_attention';
import { prefixAttentionBackwardRef, prefixAttentionRef } from '../kernels/prefix_attention.ref';
import type { FeatureMapName, KParam } from '../train/config';
import { Inputs, round32, ShapeError, type KernelRunner } from './kernel_runner';

async function runOnGpu(g: Gpu, inputs: Record<string, [Float64Array, number[]]>, outputs: Record<string, number[]>, record: (t: Record<string, Tensor>) => void) {
  const t: Record<string, Tensor> = {};
  for (const [k, [data, shape]] of Object.entries(inputs)) t[k] = g.tensor(shape, Float32Array.from(data), k);
  for (const [k, shape] of Object.entries(outputs)) t[k] = g.tensor(shape, undefined, k);
  record(t);
  const res: Record<string, Float32Array> = {};
  // An empty output (dPk, dPv at m = 0) still has a minimal buffer: keep exactly its elements.
  for (const [k, shape] of Object.entries(outputs)) res[k] = shape.includes(0) ? new Float32Array(0) : await g.read(t[k]);
  g.release(...Object.values(t));
  return res;
}

export const prefixAttention: KernelRunner = {
  name: 'prefix-attention',
  summary: 'fused prefix attention (every query sees the m prefix keys; causal over the sequence)',
  doc: [
    'inputs: Q, K, V [B,H,L,d]; Pk, Pv [H,m,d] (m ≥ 0); optional dO [B,H,L,d]',
    'outputs: O [B,H,L,d], lse [B,H,L], beta [B,H,L] (prefix mass); with dO: dQ, dK, dV, dPk, dPv (batch-summed)',
  ],
  prepare(file, opts) {
    const inp = new Inputs(file, 'prefix-attention');
    const [B, H, L, d] = inp.shape('Q', 4, 'B,H,L,d');
    inp.expect('K', [B, H, L, d], 'B,H,L,d', 'Q');
    inp.expect('V', [B, H, L, d], 'B,H,L,d', 'Q');
    const pkShape = inp.shape('Pk', 3, 'H,m,d');
    const m = pkShape[1];
    inp.expect('Pk', [H, m, d], 'H from Q, m, d from Q', 'Q and Pk');
    inp.expect('Pv', [H, m, d], 'H,m,d', 'Q and Pk');
    const backward = inp.has('dO');
    if (backward) inp.expect('dO', [B, H, L, d], 'B,H,L,d', 'Q');
    const x = { q: inp.f64('Q'), k: inp.f64('K'), v: inp.f64('V'), pk: inp.f64('Pk'), pv: inp.f64('Pv') };
    const dO = backward ? inp.f64('dO') : null;
    const dims = { B, H, L, d, m, causal: opts.causal, scale: opts.scale ?? undefined };
    const seq = [B, H, L, d];
    const outputs: Record<string, number[]> = { O: seq, lse: [B, H, L], beta: [B, H, L] };
    if (backward) Object.assign(outputs, { dQ: seq, dK: seq, dV: seq, dPk: [H, m, d], dPv: [H, m, d] });
    return {
      summary: `B=${B} H=${H} L=${L} d=${d} m=${m}${opts.causal ? ' causal' : ' bidirectional'}${backward ? ', backward' : ''}`,
      used: { causal: String(opts.causal), scale: String(opts.scale ?? 1 / Math.sqrt(d)), m: String(m) },
      outputs,
      gpu: (g) =>
        runOnGpu(g, { Q: [x.q, seq], K: [x.k, seq], V: [x.v, seq], Pk: [x.pk, [H, Math.max(m, 1), d]], Pv: [x.pv, [H, Math.max(m, 1), d]], ...(dO ? { dO: [dO, seq] } : {}) }, outputs, (t) => {
          prefixAttentionForward(g, { q: t.Q, k: t.K, v: t.V, pk: t.Pk, pv: t.Pv, o: t.O, lse: t.lse, beta: t.beta }, dims);
          if (dO) prefixAttentionBackward(g, { q: t.Q, k: t.K, v: t.V, pk: t.Pk, pv: t.Pv, o: t.O, lse: t.lse, dO: t.dO, dq: t.dQ, dk: t.dK, dv: t.dV, dpk: m > 0 ? t.dPk : null, dpv: m > 0 ? t.dPv : null }, dims);
        }),
      reference(exact) {
        const r = (a: Float64Array) => (exact ? a : round32(a));
        const xx = { q: r(x.q), k: r(x.k), v: r(x.v), pk: r(x.pk), pv: r(x.pv) };
        const f = prefixAttentionRef(xx, dims);
        const res: Record<string, Float64Array> = { O: f.o, lse: f.lse, beta: f.beta };
        if (dO) {
          const gr = prefixAttentionBackwardRef(xx, r(dO), dims);
          Object.assign(res, { dQ: gr.dq, dK: gr.dk, dV: gr.dv, dPk: gr.dpk, dPv: gr.dpv });
        }
        return res;
      },
    };
  },
};

const MAPS: FeatureMapName[] = ['elu1', 'taylor2'];
const KPARAMS: KParam[] = ['abs', 'exp', 'softplus', 'identity'];

export const ntkAttention: KernelRunner = {
  name: 'ntk-attention',
  summary: 'fused NTK-Attention: softmax attention plus φ(q)ᵀZ / φ(q)ᵀk̃ in numerator / denominator',
  doc: [
    'inputs: Q, K, V [B,H,L,d] (d ≤ 64); Z [H,r,d]; kappa [H,r]; optional dO [B,H,L,d]',
    '        (r = d for feature_map elu1, 1+d+d² for taylor2; k̃ = f(kappa) with k_param abs|exp|softplus|identity)',
    'metadata: feature_map (elu1), k_param (identity), causal, scale',
    'outputs: O [B,H,L,d], beta [B,H,L]; with dO: dQ, dK, dV, dZ [H,r,d], dkappa [H,r]',
  ],
  prepare(file, opts) {
    const inp = new Inputs(file, 'ntk-attention');
    const meta = file.metadata;
    const featureMap = (meta.feature_map ?? 'elu1') as FeatureMapName;
    const kParam = (meta.k_param ?? 'identity') as KParam;
    if (!MAPS.includes(featureMap)) throw new ShapeError(`__metadata__ feature_map '${featureMap}' must be one of ${MAPS.join(', ')}`);
    if (!KPARAMS.includes(kParam)) throw new ShapeError(`__metadata__ k_param '${kParam}' must be one of ${KPARAMS.join(', ')}`);
    const [B, H, L, d] = inp.shape('Q', 4, 'B,H,L,d');
    if (d > 64) throw new ShapeError(`Q: head dimension d = ${d} exceeds the NTK kernel's 64`);
    inp.expect('K', [B, H, L, d], 'B,H,L,d', 'Q');
    inp.expect('V', [B, H, L, d], 'B,H,L,d', 'Q');
    const r = featureDim(featureMap, d);
    inp.expect('Z', [H, r, d], `H, r = ${featureMap === 'elu1' ? 'd' : '1+d+d²'}, d`, `Q and feature_map ${featureMap}`);
    inp.expect('kappa', [H, r], 'H, r', `Q and feature_map ${featureMap}`);
    const backward = inp.has('dO');
    if (backward) inp.expect('dO', [B, H, L, d], 'B,H,L,d', 'Q');
    const x = { q: inp.f64('Q'), k: inp.f64('K'), v: inp.f64('V'), z: inp.f64('Z'), kappa: inp.f64('kappa') };
    const dO = backward ? inp.f64('dO') : null;
    const dims = { B, H, L, d, featureMap, kParam, causal: opts.causal, scale: opts.scale ?? undefined };
    const seq = [B, H, L, d];
    const outputs: Record<string, number[]> = { O: seq, beta: [B, H, L] };
    if (backward) Object.assign(outputs, { dQ: seq, dK: seq, dV: seq, dZ: [H, r, d], dkappa: [H, r] });
    return {
      summary: `B=${B} H=${H} L=${L} d=${d} r=${r} ${featureMap}/${kParam}${opts.causal ? ' causal' : ' bidirectional'}${backward ? ', backward' : ''}`,
      used: { causal: String(opts.causal), scale: String(opts.scale ?? 1 / Math.sqrt(d)), feature_map: featureMap, k_param: kParam },
      outputs,
      gpu: (g) =>
        runOnGpu(g, { Q: [x.q, seq], K: [x.k, seq], V: [x.v, seq], Z: [x.z, [H, r, d]], kappa: [x.kappa, [H, r]], ...(dO ? { dO: [dO, seq] } : {}) }, { ...outputs, stats: [B, H, L, 2] }, (t) => {
          const base = { q: t.Q, k: t.K, v: t.V, z: t.Z, kappa: t.kappa, o: t.O, stats: t.stats, beta: t.beta };
          ntkAttentionForward(g, base, dims);
          if (dO) ntkAttentionBackward(g, { ...base, dO: t.dO, dq: t.dQ, dk: t.dK, dv: t.dV, dz: t.dZ, dkappa: t.dkappa }, dims);
        }),
      reference(exact) {
        const rr = (a: Float64Array) => (exact ? a : round32(a));
        const f = ntkAttentionRef(rr(x.q), rr(x.k), rr(x.v), rr(x.z), rr(x.kappa), dims);
        const res: Record<string, Float64Array> = { O: f.o, beta: f.beta };
        if (dO) {
          const gr = ntkAttentionBackwardRef(rr(x.q), rr(x.k), rr(x.v), rr(x.z), rr(x.kappa), rr(dO), dims);
          Object.assign(res, { dQ: gr.dq, dK: gr.dk, dV: gr.dv, dZ: gr.dz, dkappa: gr.dkappa });
        }
        return res;
      },
    };
  },
};
