// Unfused prefix attention, forward only: the benchmark's baseline for the fused kernel
// (prefix_attention.ts), same inputs and outputs (o, lse), same definition
// (prefix_attention.ref.ts). Three dispatches through a materialised [B, H, L, m + L]
// score matrix S (allocated here, so gpu.memory() counts it):
//   1. S = c·Q·[Pk; K]ᵀ with the causal mask (attention_unfused_scores.wgsl),
//   2. row softmax of S in place and lse (attention_unfused_softmax.wgsl),
//   3. O = S·[Pv; V] (attention_unfused_pv.wgsl).
// Simple by design: step 3 multiplies masked (zero) entries too. Not used in training.
import { shapeCheck } from '../gpu/errors';
import { params } from '../gpu/params';
import { cdiv, type Gpu } from '../gpu/runtime';
import { MAX_GROUPS } from './grid';
import { MAX_HEAD_DIM, type PrefixAttentionForwardTensors } from './prefix_attention';
import { attnScale, type PrefixAttentionDims } from './prefix_attention.ref';

const ROWS = 64; // rows per workgroup (scores, pv)
const COLS = 64; // columns per workgroup (scores)

/** The fused forward's tensors, without β (the baseline does not write it). */
export type AttentionUnfusedTensors = Omit<PrefixAttentionForwardTensors, 'beta'>;

/** Bytes of the score matrix the unfused path allocates (for benchmarks). */
export const unfusedScoreBytes = (dims: PrefixAttentionDims) => 4 * dims.B * dims.H * dims.L * (dims.m + dims.L);

export function attentionUnfusedForward(gpu: Gpu, t: AttentionUnfusedTensors, dims: PrefixAttentionDims) {
  const K = 'attention_unfused';
  const { B, H, L, d, m } = dims;
  const N = m + L;
  shapeCheck([B, H, L, d].every((x) => Number.isInteger(x) && x >= 1) && Number.isInteger(m) && m >= 0, K, `B, H, L, d ≥ 1 and m ≥ 0 must be integers (got B=${B} H=${H} L=${L} d=${d} m=${m})`);
  shapeCheck(d <= MAX_HEAD_DIM, K, `head dim d=${d} exceeds ${MAX_HEAD_DIM}`);
  shapeCheck(B * H <= MAX_GROUPS && cdiv(N, COLS) <= MAX_GROUPS, K, `B·H=${B * H} or m+L=${N} too large for one dispatch`);
  const n = B * H * L * d;
  for (const [name, x] of [['q', t.q], ['k', t.k], ['v', t.v], ['o', t.o]] as const) shapeCheck(x.numel === n, K, `${name} must be [B,H,L,d] = ${n} elements, got ${x.numel}`);
  if (m > 0) shapeCheck(t.pk.numel === H * m * d && t.pv.numel === H * m * d, K, `pk, pv must be [H,m,d] = ${H * m * d} elements`);
  shapeCheck(t.lse.numel === B * H * L, K, `lse must be [B,H,L] = ${B * H * L} elements`);
  const causal = dims.causal ?? true;

  const S = gpu.tensor([B, H, L, N], undefined, 'attention_unfused.S');
  const ks = gpu.kernel({ shader: 'attention_unfused_scores', bindings: ['uniform', 'read', 'read', 'read', 'rw'] });
  gpu.dispatch(ks, [t.q, t.k, t.pk, S], [cdiv(N, COLS), cdiv(L, ROWS), B * H], params().u32(H).u32(L).u32(m).u32(d).u32(causal ? 1 : 0).f32(attnScale(dims)));

  const rows = B * H * L;
  const perY = Math.min(rows, MAX_GROUPS);
  const kx = gpu.kernel({ shader: 'attention_unfused_softmax', bindings: ['uniform', 'rw', 'rw'] });
  gpu.dispatch(kx, [S, t.lse], [perY, cdiv(rows, perY)], params().u32(rows).u32(N).u32(perY));

  const kp = gpu.kernel({ shader: 'attention_unfused_pv', bindings: ['uniform', 'read', 'read', 'read', 'rw'] });
  gpu.dispatch(kp, [S, t.v, t.pv, t.o], [cdiv(L, ROWS), B * H], params().u32(H).u32(L).u32(m).u32(d));
  gpu.release(S);
}
