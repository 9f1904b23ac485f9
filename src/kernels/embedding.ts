// Token + learned position embedding (GPT-2's wte/wpe), forward and backward.
//
// embeddingForward:  tokens [B, T] u32 (a Tensor written from a Uint32Array), wte [V, C],
//   wpe [P, C] with P ≥ T → out [B, T, C],  out[b, t] = wte[tokens[b, t]] + wpe[t].
//   A token ≥ V writes a NaN row.
// embeddingBackward: dout [B, T, C] → dwte [V, C] (Σ over the positions holding each
//   token) and dwpe [P, C] (Σ over the batch; rows ≥ T get 0), each written or, with
//   accumulateWte / accumulateWpe, added. Deterministic: every output element is summed by
//   one thread in a fixed order (no atomics). Either gradient may be null (frozen).
// wte / dwte larger than the device's maxStorageBufferBindingSize (gpt2-medium's is 206 MB)
// are bound one vocabulary chunk at a time, each range aligned to
// minStorageBufferOffsetAlignment; with one chunk the dispatches are exactly as before.
import { shapeCheck } from '../gpu/errors';
import { params } from '../gpu/params';
import { cdiv, type Gpu, type Tensor } from '../gpu/runtime';
import { gridStride, MAX_GROUPS } from './grid';

export interface EmbeddingDims {
  B: number;
  T: number;
  C: number;
  /** Cap on workgroups per dispatch (the shaders stride beyond it); tests lower it. */
  maxGroups?: number;
  /** Largest wte / dwte range bound at once, in bytes (default and upper bound: the device's
   *  maxStorageBufferBindingSize); tests lower it to exercise the chunked path. */
  maxBindingBytes?: number;
}

/** [start, count) vocabulary row ranges whose [rows, C] slices fit one binding, aligned. */
export function vocabChunks(gpu: Gpu, V: number, C: number, maxBindingBytes?: number): { start: number; count: number }[] {
  const limit = Math.min(gpu.device.limits.maxStorageBufferBindingSize, maxBindingBytes ?? Infinity);
  const align = gpu.device.limits.minStorageBufferOffsetAlignment;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const granule = align / gcd(align, C * 4); // rows per aligned step
  const rows = Math.floor(Math.floor(limit / (C * 4)) / granule) * granule;
  shapeCheck(rows >= 1, 'embedding', `${granule} rows of C = ${C} floats (the offset alignment) exceed the binding limit of ${limit} bytes`);
  const out = [];
  for (let s = 0; s < V; s += rows) out.push({ start: s, count: Math.min(rows, V - s) });
  return out;
}

const rowsOf = (gpu: Gpu, t: Tensor, ch: { start: number; count: number }, C: number, whole: boolean) =>
  whole ? t : gpu.view(t, ch.start * C, ch.count * C, [ch.count, C]);

export interface EmbeddingBackwardOpts extends EmbeddingDims {
  /** Vocabulary size; defaults to dwte's rows (checked against them when both are known). */
  V?: number;
  /** dwte += … (the tied LM head has already written its part of the gradient). */
  accumulateWte?: boolean;
  /** dwpe += … */
  accumulateWpe?: boolean;
}

function checkDims(kernel: string, { B, T, C }: EmbeddingDims) {
  const ok = [B, T, C].every((v) => Number.isInteger(v) && v >= 1);
  shapeCheck(ok, kernel, `B, T, C must be positive integers, got B=${B} T=${T} C=${C}`);
}

export function embeddingForward(gpu: Gpu, tokens: Tensor, wte: Tensor, wpe: Tensor, out: Tensor, dims: EmbeddingDims) {
  const K = 'embedding';
  checkDims(K, dims);
  const { B, T, C } = dims;
  shapeCheck(tokens.numel === B * T, K, `tokens must be [B=${B}, T=${T}], got ${tokens.numel} elements`);
  shapeCheck(wte.numel % C === 0 && wte.numel > 0, K, `wte must be [V, C=${C}], got ${wte.numel} elements`);
  shapeCheck(wpe.numel % C === 0 && wpe.numel / C >= T, K, `wpe must be [P ≥ T=${T}, C=${C}], got ${wpe.numel} elements`);
  shapeCheck(out.numel === B * T * C, K, `out must be [B=${B}, T=${T}, C=${C}], got ${out.numel} elements`);
  shapeCheck(![tokens, wte, wpe].includes(out), K, 'out must not alias an input');
  const n = B * T * C;
  const V = wte.numel / C;
  const k = gpu.kernel({ shader: 'embedding_forward', bindings: ['uniform', 'read', 'read', 'read', 'rw'] });
  const chunks = vocabChunks(gpu, V, C, dims.maxBindingBytes);
  for (const ch of chunks) {
    const w = rowsOf(gpu, wte, ch, C, chunks.length === 1);
    gpu.dispatch(k, [tokens, w, wpe, out], gridStride(n, 256, dims.maxGroups), params().u32(n).u32(T).u32(C).u32(V).u32(ch.start).u32(ch.count));
  }
}

export function embeddingBackward(gpu: Gpu, tokens: Tensor, dout: Tensor, dwte: Tensor | null, dwpe: Tensor | null, opts: EmbeddingBackwardOpts) {
  const K = 'embedding_backward';
  checkDims(K, opts);
  const { B, T, C, accumulateWte = false, accumulateWpe = false } = opts;
  const maxGroups = opts.maxGroups ?? MAX_GROUPS;
  shapeCheck(tokens.numel === B * T, K, `tokens must be [B=${B}, T=${T}], got ${tokens.numel} elements`);
  shapeCheck(dout.numel === B * T * C, K, `dout must be [B=${B}, T=${T}, C=${C}], got ${dout.numel} elements`);
  shapeCheck(dwte === null || dwte !== dwpe, K, 'dwte and dwpe must be different tensors');
  if (dwte) {
    const V = opts.V ?? dwte.numel / C;
    shapeCheck(Number.isInteger(V) && V >= 1 && dwte.numel === V * C, K, `dwte must be [V=${V}, C=${C}], got ${dwte.numel} elements`);
    shapeCheck(dwte !== dout && dwte !== tokens, K, 'dwte must not alias an input');
    shapeCheck(cdiv(C, 64) <= MAX_GROUPS, K, `C=${C} too large`);
    const k = gpu.kernel({ shader: 'embedding_backward_wte', bindings: ['uniform', 'read', 'read', 'rw'] });
    const chunks = vocabChunks(gpu, V, C, opts.maxBindingBytes);
    for (const ch of chunks) {
      const d = rowsOf(gpu, dwte, ch, C, chunks.length === 1);
      gpu.dispatch(k, [tokens, dout, d], [cdiv(C, 64), Math.min(ch.count, maxGroups, MAX_GROUPS)], params().u32(B * T).u32(C).u32(ch.count).u32(accumulateWte ? 1 : 0).u32(ch.start));
    }
  }
  if (dwpe) {
    shapeCheck(dwpe.numel % C === 0 && dwpe.numel / C >= T, K, `dwpe must be [P ≥ T=${T}, C=${C}], got ${dwpe.numel} elements`);
    shapeCheck(dwpe !== dout && dwpe !== tokens, K, 'dwpe must not alias an input');
    const n = dwpe.numel;
    const k = gpu.kernel({ shader: 'embedding_backward_wpe', bindings: ['uniform', 'read', 'rw'] });
    gpu.dispatch(k, [dout, dwpe], gridStride(n, 256, opts.maxGroups), params().u32(n).u32(B).u32(T).u32(C).u32(accumulateWpe ? 1 : 0));
  }
}
