// Layout changes around attention (pure permutations: exact copies, no arithmetic).
//
// permuteQkvForward:  qkv [B, T, 3, H, d] (= [B·T, 3C], C = H·d) → q, k, v [B, H, T, d]
// permuteQkvBackward: dq, dk, dv [B, H, T, d] → dqkv [B, T, 3, H, d]   (written)
// unpermuteForward:   o [B, H, T, d] → out [B, T, H, d] (= [B·T, C])
// unpermuteBackward:  dout [B, T, H, d] → do [B, H, T, d]              (written)
import { shapeCheck } from '../gpu/errors';
import { params } from '../gpu/params';
import type { Gpu, Tensor } from '../gpu/runtime';
import { gridStride } from './grid';

export interface PermuteDims {
  B: number;
  T: number;
  H: number;
  d: number;
  /** Cap on workgroups per dispatch (the shaders grid-stride beyond it); tests lower it. */
  maxGroups?: number;
}

function headElems(kernel: string, { B, T, H, d }: PermuteDims): number {
  const ok = [B, T, H, d].every((v) => Number.isInteger(v) && v >= 1);
  shapeCheck(ok, kernel, `B, T, H, d must be positive integers, got B=${B} T=${T} H=${H} d=${d}`);
  const n = B * T * H * d;
  shapeCheck(3 * n <= 0xffffffff, kernel, `B·T·3·H·d = ${3 * n} overflows u32 indexing`);
  return n;
}

const dimParams = (n: number, { T, H, d }: PermuteDims) => params().u32(n).u32(T).u32(H).u32(d);

/** qkv [B, T, 3, H, d] → q, k, v [B, H, T, d]. */
export function permuteQkvForward(gpu: Gpu, qkv: Tensor, q: Tensor, k: Tensor, v: Tensor, dims: PermuteDims) {
  const K = 'permute_qkv';
  const n = headElems(K, dims);
  shapeCheck(qkv.numel === 3 * n, K, `qkv must be [B, T, 3, H, d] = ${3 * n} elements, got ${qkv.numel}`);
  shapeCheck(q.numel === n && k.numel === n && v.numel === n, K, `q, k, v must be [B, H, T, d] = ${n} elements, got ${q.numel}, ${k.numel}, ${v.numel}`);
  shapeCheck(new Set([qkv, q, k, v]).size === 4, K, 'qkv, q, k, v must be distinct tensors');
  const kern = gpu.kernel({ shader: 'permute_qkv_forward', bindings: ['uniform', 'read', 'rw', 'rw', 'rw'] });
  gpu.dispatch(kern, [qkv, q, k, v], gridStride(n, 256, dims.maxGroups), dimParams(n, dims));
}

/** dq, dk, dv [B, H, T, d] → dqkv [B, T, 3, H, d] (written). */
export function permuteQkvBackward(gpu: Gpu, dq: Tensor, dk: Tensor, dv: Tensor, dqkv: Tensor, dims: PermuteDims) {
  const K = 'permute_qkv_backward';
  const n = headElems(K, dims);
  shapeCheck(dqkv.numel === 3 * n, K, `dqkv must be [B, T, 3, H, d] = ${3 * n} elements, got ${dqkv.numel}`);
  shapeCheck(dq.numel === n && dk.numel === n && dv.numel === n, K, `dq, dk, dv must be [B, H, T, d] = ${n} elements, got ${dq.numel}, ${dk.numel}, ${dv.numel}`);
  shapeCheck(![dq, dk, dv].includes(dqkv), K, 'dqkv must not alias dq, dk or dv');
  const kern = gpu.kernel({ shader: 'permute_qkv_backward', bindings: ['uniform', 'read', 'read', 'read', 'rw'] });
  gpu.dispatch(kern, [dq, dk, dv, dqkv], gridStride(3 * n, 256, dims.maxGroups), dimParams(3 * n, dims));
}

/** o [B, H, T, d] → out [B, T, H, d]. */
export function unpermuteForward(gpu: Gpu, o: Tensor, out: Tensor, dims: PermuteDims) {
  const K = 'unpermute';
  const n = headElems(K, dims);
  shapeCheck(o.numel === n && out.numel === n, K, `o and out must have B·H·T·d = ${n} elements, got ${o.numel}, ${out.numel}`);
  shapeCheck(o !== out, K, 'o and out must be different tensors');
  const kern = gpu.kernel({ shader: 'permute_unpermute_forward', bindings: ['uniform', 'read', 'rw'] });
  gpu.dispatch(kern, [o, out], gridStride(n, 256, dims.maxGroups), dimParams(n, dims));
}

/** dout [B, T, H, d] → do [B, H, T, d] (written). */
export function unpermuteBackward(gpu: Gpu, dout: Tensor, dO: Tensor, dims: PermuteDims) {
  const K = 'unpermute_backward';
  const n = headElems(K, dims);
  shapeCheck(dout.numel === n && dO.numel === n, K, `dout and do must have B·H·T·d = ${n} elements, got ${dout.numel}, ${dO.numel}`);
  shapeCheck(dout !== dO, K, 'dout and do must be different tensors');
  const kern = gpu.kernel({ shader: 'permute_unpermute_backward', bindings: ['uniform', 'read', 'rw'] });
  gpu.dispatch(kern, [dout, dO], gridStride(n, 256, dims.maxGroups), dimParams(n, dims));
}
