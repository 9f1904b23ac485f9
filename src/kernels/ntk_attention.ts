// NTK-Attention wrappers (forward, backward, k̃ parameterisation, closed form from a prefix).
// Layouts: Q, K, V, O, dO [B, H, L, d] (d ≤ 64); Z [H, r, d] or low rank Z_A [H, r, s] ·
// Z_B [H, s, d] (formed with the matmul kernel); κ [H, r]; stats [B, H, L, 2]; β [B, H, L].
// Every reduction (dK, dV over queries; dZ, dκ over the batch) is owned by one invocation
// and summed in a fixed order: deterministic without atomics.
import { shapeCheck } from '../gpu/errors';
import { params } from '../gpu/params';
import type { Gpu, Tensor } from '../gpu/runtime';
import type { FeatureMapName, KParam } from './ntk_types';
import { matmul } from './matmul';
import { prefixAttentionBackward, prefixAttentionForward } from './prefix_attention';
import { featureDim, foldedFeatureDim, type NtkDims } from './ntk_attention.ref';

export { featureDim } from './ntk_attention.ref';
export type { NtkDims } from './ntk_attention.ref';

export const NTK_MAX_HEAD_DIM = 64;
const WG = 64;
const MAP_ID: Record<FeatureMapName, number> = { elu1: 0, taylor2: 1 };
const KPARAM_ID: Record<KParam, number> = { abs: 0, exp: 1, softplus: 2, identity: 3 };

/**
 * The head dimension as a compile-time constant of the per-row NTK kernels: their loops over
 * d then unroll and the row arrays (q's row, the accumulators) become registers; with d a
 * uniform, software adapters keep them in memory and index them lane by lane (most of
 * taylor2's time). One pipeline per d, which a model fixes.
 */
const headDim = (d: number) => ({ HEAD_D: d });

/** Workgroups for `n` invocations of `wg` (64 unless a shader says), folded into y past the 65535 limit. */
function groups(n: number, wg = WG): [number, number] {
  const g = Math.max(1, Math.ceil(n / wg));
  const x = Math.min(g, 65535);
  return [x, Math.ceil(g / x)];
}

/**
 * The fused forward and the query-parallel backward: RB query rows per invocation (their
 * shaders' RB), so each feature's Z row and k̃ is loaded once for that many rows.
 */
const NTK_ROWS = 4;
const rowBlocks = (o: NtkDims) => groups(o.B * o.H * Math.ceil(o.L / NTK_ROWS));

/** ntk_attention_backward_zk: FB features per invocation, workgroups of 16 (see the shader). */
const ZK_FEATURES = 4;
const ZK_WG = 16;

export interface NtkAdapterTensors {
  /** Full-rank Z [H, r, d], or the low-rank pair. */
  z?: Tensor;
  za?: Tensor;
  zb?: Tensor;
  kappa: Tensor;
}

export interface NtkForwardTensors extends NtkAdapterTensors {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  o: Tensor;
  stats: Tensor;
  beta?: Tensor | null;
}

export interface NtkBackwardTensors extends NtkForwardTensors {
  dO: Tensor;
  dq: Tensor;
  dk: Tensor;
  dv: Tensor;
  dz?: Tensor;
  dza?: Tensor;
  dzb?: Tensor;
  dkappa: Tensor;
}

/**
 * 'fused': one kernel per pass does the sequence keys and the φ terms. 'split': the tuned
 * prefix-attention kernels (m = 0) do the sequence part, forward and backward, and small
 * per-row kernels add the φ terms: NTK-Attention is attention with one extra virtual key
 * per row (score log φ(q)ᵀk̃, value φ(q)ᵀZ / φ(q)ᵀk̃), so the prefix-attention backward,
 * given the combined O and log-denominator, returns exactly NTK-Attention's dK, dV and the
 * sequence part of dQ. 'auto' = split where it is exact for every input (see splitSafe),
 * else fused; split measured about 2x faster on lavapipe and SwiftShader.
 */
export type NtkPath = 'auto' | 'fused' | 'split';

export interface NtkOptions extends NtkDims {
  /** Rank s of Z = Z_A·Z_B; 0 or undefined = full rank. */
  rank?: number;
  path?: NtkPath;
}

/**
 * The split path needs a positive denominator D = Σ e^S + φ(q)ᵀk̃ (it hands the attention
 * backward log D). That holds for every row when φ ≥ 0 (elu1) and k̃ ≥ 0 (abs, exp,
 * softplus). taylor2's φ and an identity k̃ are signed, and on some inputs D ≤ 0: those go
 * the fused way, which divides by D as it is.
 */
const splitSafe = (o: NtkOptions) => o.featureMap === 'elu1' && o.kParam !== 'identity';

function splitPath(o: NtkOptions): boolean {
  const path = o.path ?? 'auto';
  if (path === 'split') shapeCheck(splitSafe(o), 'ntk_attention', `the split path needs φ ≥ 0 and k̃ ≥ 0 (elu1 with abs, exp or softplus), not ${o.featureMap}/${o.kParam}`);
  return path === 'split' || (path === 'auto' && splitSafe(o));
}

/** 1-element placeholders for the prefix kernels' pk/pv bindings at m = 0. */
function noPrefix(gpu: Gpu) {
  return { pk: gpu.tensor([1], undefined, 'ntk.no-prefix.k'), pv: gpu.tensor([1], undefined, 'ntk.no-prefix.v') };
}

function check(name: string, t: NtkForwardTensors, o: NtkOptions) {
  const { B, H, L, d } = o;
  const r = featureDim(o.featureMap, d);
  shapeCheck([B, H, L, d].every((x) => Number.isInteger(x) && x >= 1), name, `B, H, L, d must be positive integers (got ${B}, ${H}, ${L}, ${d})`);
  shapeCheck(d <= NTK_MAX_HEAD_DIM, name, `head dimension d = ${d} exceeds ${NTK_MAX_HEAD_DIM}`);
  const seq = B * H * L * d;
  for (const [n, x] of [['q', t.q], ['k', t.k], ['v', t.v], ['o', t.o]] as const) shapeCheck(x.numel === seq, name, `${n} must be [B=${B},H=${H},L=${L},d=${d}] (${seq} values), got ${x.numel}`);
  shapeCheck(t.stats.numel === 2 * B * H * L, name, `stats must be [B,H,L,2] (${2 * B * H * L}), got ${t.stats.numel}`);
  shapeCheck(t.kappa.numel === H * r, name, `kappa must be [H=${H}, r=${r}], got ${t.kappa.numel}`);
  if (o.rank) {
    shapeCheck(!!t.za && !!t.zb, name, 'low rank needs za and zb');
    shapeCheck(t.za!.numel === H * r * o.rank && t.zb!.numel === H * o.rank * d, name, `za must be [H,r,s] = [${H},${r},${o.rank}] and zb [H,s,d] = [${H},${o.rank},${d}]`);
  } else shapeCheck(!!t.z && t.z.numel === H * r * d, name, `z must be [H=${H}, r=${r}, d=${d}] (${H * r * d} values), got ${t.z?.numel}`);
  if (t.beta) shapeCheck(t.beta.numel === B * H * L, name, `beta must be [B,H,L] (${B * H * L}), got ${t.beta.numel}`);
}

/** k̃ = f(κ) into `kt`. */
export function ntkKTilde(gpu: Gpu, kappa: Tensor, kt: Tensor, kParam: KParam) {
  const k = gpu.kernel({ shader: 'ntk_kparam', entry: 'forward', constants: { KPARAM: KPARAM_ID[kParam] }, bindings: ['uniform', 'read', 'read', 'rw'] });
  gpu.dispatch(k, [kappa, kappa, kt], groups(kappa.numel), params().u32(kappa.numel).u32(0));
}

/**
 * taylor2: Z [H, r, d] and k̃ [H, r] folded onto the r' = 1 + d + d(d+1)/2 symmetric features
 * the per-row kernels loop over (ntk_feature_map.wgsl), into zf [H, r', d] and ktf [H, r'].
 */
export function ntkTaylor2Fold(gpu: Gpu, z: Tensor, kt: Tensor, zf: Tensor, ktf: Tensor, o: { H: number; d: number }) {
  const r = featureDim('taylor2', o.d), rf = foldedFeatureDim('taylor2', o.d);
  shapeCheck(z.numel === o.H * r * o.d && kt.numel === o.H * r, 'ntk_taylor2_fold', `z must be [H, r, d] = ${o.H * r * o.d} values and k~ [H, r] = ${o.H * r}`);
  shapeCheck(zf.numel === o.H * rf * o.d && ktf.numel === o.H * rf, 'ntk_taylor2_fold', `zf must be [H, r', d] = ${o.H * rf * o.d} values and k~f [H, r'] = ${o.H * rf}`);
  const k = gpu.kernel({ shader: 'ntk_taylor2_fold', constants: { FEATURE_MAP: MAP_ID.taylor2 }, bindings: ['uniform', 'read', 'read', 'rw', 'rw'] });
  gpu.dispatch(k, [z, kt, zf, ktf], groups(o.H * rf), params().u32(o.H).u32(o.d).u32(r).u32(rf));
}

/**
 * The Z and k̃ the per-row kernels read, r' features each: taylor2's folded (fresh tensors,
 * released by the caller with `temp`), elu1's as they are.
 */
function rowTerms(gpu: Gpu, z: Tensor, kt: Tensor, o: NtkOptions): { z: Tensor; kt: Tensor; rf: number; temp: Tensor[] } {
  if (o.featureMap !== 'taylor2') return { z, kt, rf: featureDim(o.featureMap, o.d), temp: [] };
  const rf = foldedFeatureDim('taylor2', o.d);
  const zf = gpu.tensor([o.H, rf, o.d], undefined, 'ntk.Z (folded)');
  const ktf = gpu.tensor([o.H, rf], undefined, 'ntk.k~ (folded)');
  ntkTaylor2Fold(gpu, z, kt, zf, ktf, o);
  return { z: zf, kt: ktf, rf, temp: [zf, ktf] };
}

/** Z = Z_A·Z_B per head, or Z itself. Returns the tensor and whether it is a temporary. */
function fullZ(gpu: Gpu, t: NtkAdapterTensors, o: NtkOptions, r: number): { z: Tensor; temp: boolean } {
  if (!o.rank) return { z: t.z!, temp: false };
  const z = gpu.tensor([o.H, r, o.d], undefined, 'ntk.Z (low rank)');
  matmul(gpu, t.za!, t.zb!, z, { M: r, K: o.rank, N: o.d, batch: o.H });
  return { z, temp: true };
}

export function ntkAttentionForward(gpu: Gpu, t: NtkForwardTensors, o: NtkOptions) {
  const name = 'ntk_attention';
  check(name, t, o);
  const r = featureDim(o.featureMap, o.d);
  const { z, temp } = fullZ(gpu, t, o, r);
  const kt = gpu.tensor([o.H, r], undefined, 'ntk.k~');
  ntkKTilde(gpu, t.kappa, kt, o.kParam);
  const beta = t.beta ?? gpu.tensor([1], undefined, 'no-beta'); // not written when has_beta = 0
  if (splitPath(o)) {
    const { B, H, L, d } = o;
    const oseq = gpu.tensor([B, H, L, d], undefined, 'ntk.o-seq');
    const lseq = gpu.tensor([B, H, L], undefined, 'ntk.lse-seq');
    const none = noPrefix(gpu);
    prefixAttentionForward(gpu, { q: t.q, k: t.k, v: t.v, ...none, o: oseq, lse: lseq }, { B, H, L, d, m: 0, causal: o.causal ?? true, scale: o.scale });
    const kc = gpu.kernel({ shader: 'ntk_combine', defines: headDim(o.d), constants: { FEATURE_MAP: MAP_ID[o.featureMap] }, bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw', 'rw'] });
    gpu.dispatch(kc, [t.q, oseq, lseq, z, kt, t.o, t.stats, beta], groups(B * H * L), params().u32(B).u32(H).u32(L).u32(d).u32(r).u32(t.beta ? 1 : 0));
    gpu.release(oseq, lseq, none.pk, none.pv);
  } else {
    const rt = rowTerms(gpu, z, kt, o);
    const k = gpu.kernel({ shader: 'ntk_attention_forward', defines: headDim(o.d), constants: { FEATURE_MAP: MAP_ID[o.featureMap] }, bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw', 'rw'] });
    const p = params().u32(o.B).u32(o.H).u32(o.L).u32(o.d).u32(rt.rf).u32(o.causal ?? true ? 1 : 0).f32(o.scale ?? 1 / Math.sqrt(o.d)).u32(t.beta ? 1 : 0);
    gpu.dispatch(k, [t.q, t.k, t.v, rt.z, rt.kt, t.o, t.stats, beta], rowBlocks(o), p);
    gpu.release(...rt.temp);
  }
  gpu.release(kt);
  if (!t.beta) gpu.release(beta);
  if (temp) gpu.release(z);
}

/** dQ, dK, dV (= or += with `accumulate`), and the adapter's gradients (always written). */
export function ntkAttentionBackward(gpu: Gpu, t: NtkBackwardTensors, o: NtkOptions, accumulate = false) {
  const name = 'ntk_attention_backward';
  check(name, t, o);
  const { B, H, L, d } = o;
  const r = featureDim(o.featureMap, d);
  const seq = B * H * L * d;
  for (const [n, x] of [['dO', t.dO], ['dq', t.dq], ['dk', t.dk], ['dv', t.dv]] as const) shapeCheck(x.numel === seq, name, `${n} must have ${seq} values, got ${x.numel}`);
  shapeCheck(t.dkappa.numel === H * r, name, `dkappa must be [H, r] = ${H * r} values, got ${t.dkappa.numel}`);
  if (o.rank) shapeCheck(!!t.dza && !!t.dzb, name, 'low rank needs dza and dzb');
  else shapeCheck(!!t.dz && t.dz.numel === H * r * d, name, `dz must be [H, r, d] = ${H * r * d} values`);
  const map = { FEATURE_MAP: MAP_ID[o.featureMap] };
  const causal = o.causal ?? true ? 1 : 0;
  const scale = o.scale ?? 1 / Math.sqrt(d);
  const { z, temp } = fullZ(gpu, t, o, r);
  const kt = gpu.tensor([H, r], undefined, 'ntk.k~');
  ntkKTilde(gpu, t.kappa, kt, o.kParam);
  const delta = gpu.tensor([B, H, L], undefined, 'ntk.delta');
  const rows = groups(B * H * L);
  const split = splitPath(o);
  const rt = rowTerms(gpu, z, kt, o);
  const seqParams = (acc: boolean) => params().u32(B).u32(H).u32(L).u32(d).u32(rt.rf).u32(causal).f32(scale).u32(acc ? 1 : 0);
  if (split) {
    // The sequence part: attention backward with the combined O and log-denominator.
    const lse = gpu.tensor([B, H, L], undefined, 'ntk.lse-combined');
    const kl = gpu.kernel({ shader: 'ntk_combined_lse', bindings: ['uniform', 'read', 'rw'] });
    gpu.dispatch(kl, [t.stats, lse], rows, params().u32(B * H * L));
    const none = noPrefix(gpu);
    prefixAttentionBackward(gpu, { q: t.q, k: t.k, v: t.v, ...none, o: t.o, lse, dO: t.dO, dq: t.dq, dk: t.dk, dv: t.dv, dpk: null, dpv: null }, { B, H, L, d, m: 0, causal: o.causal ?? true, scale: o.scale }, accumulate);
    gpu.release(lse, none.pk, none.pv);
  }
  // Δ, and dQ's φ part (split: added to the sequence part; fused: the whole dQ).
  const kq = gpu.kernel({ shader: 'ntk_attention_backward_q', defines: headDim(o.d), constants: { ...map, SEQ: split ? 0 : 1 }, bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw'] });
  gpu.dispatch(kq, [t.q, t.k, t.v, rt.z, rt.kt, t.o, t.stats, t.dO, delta, t.dq], rowBlocks(o), seqParams(split || accumulate));
  if (!split) {
    const kkv = gpu.kernel({ shader: 'ntk_attention_backward_kv', defines: headDim(d), bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw'] });
    gpu.dispatch(kkv, [t.q, t.k, t.v, t.stats, t.dO, delta, t.dk, t.dv], rows, seqParams(accumulate));
  }
  const dz = o.rank ? gpu.tensor([H, r, d], undefined, 'ntk.dZ (low rank)') : t.dz!;
  const dkt = gpu.tensor([H, r], undefined, 'ntk.dk~');
  const kzk = gpu.kernel({ shader: 'ntk_attention_backward_zk', defines: headDim(o.d), constants: map, bindings: ['uniform', 'read', 'read', 'read', 'read', 'rw', 'rw'] });
  gpu.dispatch(kzk, [t.q, t.stats, t.dO, delta, dz, dkt], groups(H * Math.ceil(rt.rf / ZK_FEATURES), ZK_WG), params().u32(B).u32(H).u32(L).u32(d).u32(rt.rf).u32(0).u32(r));
  gpu.release(...rt.temp);
  const kb = gpu.kernel({ shader: 'ntk_kparam', entry: 'backward', constants: { KPARAM: KPARAM_ID[o.kParam] }, bindings: ['uniform', 'read', 'read', 'rw'] });
  gpu.dispatch(kb, [dkt, t.kappa, t.dkappa], groups(H * r), params().u32(H * r).u32(0));
  if (o.rank) {
    // dZ_A = dZ·Z_Bᵀ, dZ_B = Z_Aᵀ·dZ (per head).
    matmul(gpu, dz, t.zb!, t.dza!, { M: r, K: d, N: o.rank, transB: true, batch: H });
    matmul(gpu, t.za!, dz, t.dzb!, { M: o.rank, K: r, N: d, transA: true, batch: H });
    gpu.release(dz);
  }
  gpu.release(kt, delta, dkt);
  if (temp) gpu.release(z);
}

/** Closed form (Z, k) from a prefix pk, pv [H, m, d]: k = Σ φ(p), Z = Σ φ(p) wᵀ. m ≥ 1. */
export function ntkFromPrefix(gpu: Gpu, pk: Tensor, pv: Tensor, z: Tensor, k: Tensor, o: { H: number; m: number; d: number; featureMap: FeatureMapName }) {
  const name = 'ntk_from_prefix';
  const r = featureDim(o.featureMap, o.d);
  shapeCheck(o.m >= 1 && pk.numel === o.H * o.m * o.d && pv.numel === o.H * o.m * o.d, name, `pk and pv must be [H=${o.H}, m=${o.m}, d=${o.d}], got ${pk.numel}, ${pv.numel}`);
  shapeCheck(z.numel === o.H * r * o.d && k.numel === o.H * r, name, `z must be [H, r, d] = ${o.H * r * o.d} values and k [H, r] = ${o.H * r}`);
  const kern = gpu.kernel({ shader: 'ntk_from_prefix', constants: { FEATURE_MAP: MAP_ID[o.featureMap] }, bindings: ['uniform', 'read', 'read', 'rw', 'rw'] });
  gpu.dispatch(kern, [pk, pv, z, k], groups(o.H * r * (o.d + 1)), params().u32(o.H).u32(o.m).u32(o.d).u32(r));
}
