// The language-model head fused with cross-entropy: loss, gradient and (for a few rows)
// logits of z = x·wteᵀ without ever holding the [N, V] logits (GPT-2's V = 50257 makes
// them the largest tensor of a step by far).
//
// Layouts: x [N, C] (ln_f's output), wte [V, C] (the tied embedding), targets [N] int32
// (`ignoreIndex`, default −1, marks rows that do not count), losses [N], lse [N] (the row
// log-sum-exp, kept from the forward for the backward), stats [2] = {mean loss, count}.
//
// Both passes walk (vocabulary block × row block) tiles of the logits, one block of at
// most `scratchFloats` at a time, computed by the matmul kernels (the fastest product we
// have on every adapter) into one reused scratch buffer:
// - forward: per block, lm_head_forward reduces each row to (max, Σe^{z−max}) and picks
//   the target's logit; lm_head_combine folds a row's blocks into lse and the loss
//   (an online log-sum-exp over blocks). Scratch: the block + O(N × vocabulary blocks).
// - backward: per block, the logits again, lm_head_grad turns them in place into
//   g = (softmax − onehot)·scale/count, then matmuls add g·wte into dx and gᵀ·x into dwte.
// Dispatch order is fixed and nothing uses atomics, so results are the same bits per run.
//
// wte (and dwte) are bound one vocabulary block at a time, as a range no larger than the
// device's maxStorageBufferBindingSize (gpt2-medium's wte is 206 MB, over the 128 MiB
// default), starting at a multiple of minStorageBufferOffsetAlignment.
import { shapeCheck } from '../gpu/errors';
import { params } from '../gpu/params';
import { cdiv, type Gpu, type Tensor } from '../gpu/runtime';
import { crossEntropyCount, crossEntropyMean } from './crossentropy';
import { MAX_GROUPS } from './grid';
import { matmul, TRANSPOSE_B_MIN_M } from './matmul';

export interface LmHeadShape {
  N: number;
  C: number;
  V: number;
  /** Targets equal to this are ignored (loss 0, gradient 0, not counted). Default −1. */
  ignoreIndex?: number;
  /**
   * Largest binding of a wte range, in bytes (default and upper bound: the device's
   * maxStorageBufferBindingSize). Checks set it small to exercise the multi-range path.
   */
  maxBindingBytes?: number;
  /** Floats of one logits block (rows × vocabulary columns). Default 2^22 (16 MiB). */
  scratchFloats?: number;
}

export interface LmHeadBackwardShape extends LmHeadShape {
  /** Multiplies the gradient (e.g. 1/accumulation steps). Default 1. */
  scale?: number;
}

export interface LmHeadForwardTensors {
  x: Tensor;
  wte: Tensor;
  targets: Tensor;
  losses: Tensor;
  lse: Tensor;
  stats: Tensor;
}

export interface LmHeadBackwardTensors {
  x: Tensor;
  wte: Tensor;
  targets: Tensor;
  /** From lmHeadForward on the same x, wte, targets. */
  lse: Tensor;
  /** stats[1] (the count) from lmHeadForward. */
  stats: Tensor;
  /** [N, C], written. */
  dx: Tensor;
  /** [V, C] or null (frozen embedding); written, not accumulated. */
  dwte: Tensor | null;
}

const NAME = 'lm_head';
const ROWS = 8; // lm_head_logits: rows per workgroup
const COLS = 256; // lm_head_logits: columns per workgroup (64 invocations x 4)
const DEFAULT_SCRATCH = 1 << 22;
const MAX_BLOCK_COLS = 8192;
/** stats[1] (the count) is an exact float32 while N < 2^24. */
const MAX_ROWS = 1 << 24;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const isCount = (v: number, min: number) => Number.isInteger(v) && v >= min;

/** The device limits the head's blocks depend on. */
export interface LmHeadLimits {
  /** minStorageBufferOffsetAlignment (bytes). */
  align: number;
  /** maxStorageBufferBindingSize (bytes). */
  maxBinding: number;
}

/** WebGPU's default limits: what an estimate from the config alone assumes. */
export const DEFAULT_LM_HEAD_LIMITS: LmHeadLimits = { align: 256, maxBinding: 128 * 1024 * 1024 };

function limitsOf(gpu: Gpu): LmHeadLimits {
  return { align: gpu.device.limits.minStorageBufferOffsetAlignment, maxBinding: gpu.device.limits.maxStorageBufferBindingSize };
}

/** Smallest step in rows of C floats that keeps a view's start aligned. */
function granule(lim: LmHeadLimits, C: number): number {
  return lim.align / gcd(lim.align, C * 4);
}

/** Vocabulary columns per bound wte range: within the binding limit, aligned, ≤ cap. */
function chunkCols(lim: LmHeadLimits, C: number, V: number, maxBindingBytes: number | undefined, cap = Infinity): number {
  const limit = Math.min(lim.maxBinding, maxBindingBytes ?? Infinity);
  const gran = granule(lim, C);
  const cols = Math.floor(Math.min(Math.floor(limit / (C * 4)), cap) / gran) * gran;
  shapeCheck(cols >= 1, NAME, `a wte range of ${gran} rows of C = ${C} floats (the offset alignment) exceeds the binding limit of ${limit} bytes`);
  return Math.min(cols, V);
}

/** [v0, vc) ranges covering the vocabulary. */
function ranges(total: number, size: number): { start: number; count: number }[] {
  const out = [];
  for (let s = 0; s < total; s += size) out.push({ start: s, count: Math.min(size, total - s) });
  return out;
}

/** A view of rows [start, start + count) of a [rows, C] tensor (the tensor itself when whole). */
function rowsView(gpu: Gpu, t: Tensor, start: number, count: number, C: number): Tensor {
  if (start === 0 && count * C === t.numel) return t;
  return gpu.view(t, start * C, count * C, [count, C]);
}

function checkCommon(gpu: Gpu, x: Tensor, wte: Tensor, o: LmHeadShape) {
  const { N, C, V } = o;
  shapeCheck(isCount(N, 1) && isCount(C, 1) && isCount(V, 1), NAME, `N, C, V must be integers ≥ 1 (got N=${N}, C=${C}, V=${V})`);
  shapeCheck(N < MAX_ROWS, NAME, `N = ${N} rows must be < 2^24 (the count is kept as float32)`);
  shapeCheck(x.numel === N * C, NAME, `x (${x.label}) has ${x.numel} elements, expected [N=${N}, C=${C}]`);
  shapeCheck(wte.numel === V * C, NAME, `wte (${wte.label}) has ${wte.numel} elements, expected [V=${V}, C=${C}]`);
  shapeCheck(x.bytes <= gpu.device.limits.maxStorageBufferBindingSize, NAME, `x [${N}, ${C}] is larger than the device's storage binding limit; use fewer rows per call`);
}

function tileDefines(C: number) {
  return { VEC: C % 4 === 0 };
}

/** Rows and vocabulary columns per logits block, and the blocks covering [N, V]. */
function blocks(lim: LmHeadLimits, o: LmHeadShape) {
  const { N, C, V } = o;
  const budget = o.scratchFloats ?? DEFAULT_SCRATCH;
  const rgran = granule(lim, C);
  // All rows while that leaves ≥ 2048 columns per block, else a multiple of the alignment
  // granule (x and dx are then bound by row range).
  const rc = N * 2048 <= budget ? N : Math.min(N, Math.max(rgran, Math.floor(budget / 2048 / rgran) * rgran));
  // ≤ MAX_BLOCK_COLS columns: on software adapters matmul copies the wte block transposed
  // (vc·C floats, 100 MB at 32768 x 768), and more, smaller blocks cost next to nothing.
  const vc = chunkCols(lim, C, V, o.maxBindingBytes, Math.max(1, Math.min(MAX_BLOCK_COLS, Math.floor(budget / rc))));
  shapeCheck(rc <= MAX_GROUPS * MAX_GROUPS, NAME, `a block of ${rc} rows needs too many workgroups`);
  return { rc, vc, rows: ranges(N, rc), vocab: ranges(V, vc) };
}

/**
 * Floats the head allocates beyond its inputs and outputs, at the forward's peak (the
 * backward needs less: the block and the copy): the logits block, the per-row partials
 * and target logits, and on software adapters the transposed copy of the wte block that
 * matmul makes for A·Bᵀ when a block has ≥ TRANSPOSE_B_MIN_M rows (gpt2 at 128 rows: 8192
 * columns × 768 = 25 MB). For memory estimates; lmHeadForward allocates exactly these.
 */
export function lmHeadScratchFloats(o: LmHeadShape, software: boolean, lim: LmHeadLimits = DEFAULT_LM_HEAD_LIMITS): { block: number; partials: number; transposed: number } {
  const b = blocks(lim, o);
  const copied = software && b.rc >= TRANSPOSE_B_MIN_M;
  return { block: b.rc * b.vc, partials: o.N * b.vocab.length * 2 + o.N, transposed: copied ? b.vc * o.C : 0 };
}

/** One workgroup per block row: [x, y] with rows past 65535 folded into y. */
function perRow(rows: number): [number, number] {
  const gx = Math.min(rows, MAX_GROUPS);
  return [gx, cdiv(rows, gx)];
}

/** Threads per row: the largest power of two ≤ vc within [8, 256] (as crossentropy). */
function rowThreads(vc: number): number {
  let wg = 8;
  while (wg * 2 <= vc && wg < 256) wg *= 2;
  return wg;
}

/** The logits of one block, [rb rows, vb columns] packed, into `L` (matmul, A·Bᵀ). */
function blockLogits(gpu: Gpu, x: Tensor, w: Tensor, L: Tensor, rb: { start: number; count: number }, vc: number, C: number) {
  matmul(gpu, rowsView(gpu, x, rb.start, rb.count, C), w, L, { M: rb.count, K: C, N: vc, transB: true });
}

/** wte (or dwte) rows of vocabulary block vb: the tensor itself when there is one block. */
function vocabView(gpu: Gpu, t: Tensor, vb: { start: number; count: number }, C: number, V: number): Tensor {
  return vb.count === V ? t : gpu.view(t, vb.start * C, vb.count * C, [vb.count, C]);
}

/**
 * losses[n], lse[n] and stats = {mean loss over counted rows, count}. No readback; the
 * logits are not kept.
 */
export function lmHeadForward(gpu: Gpu, t: LmHeadForwardTensors, o: LmHeadShape) {
  const { x, wte, targets, losses, lse, stats } = t;
  const { N, C, V } = o;
  const ignoreIndex = o.ignoreIndex ?? -1;
  checkCommon(gpu, x, wte, o);
  shapeCheck(targets.numel === N, NAME, `targets has ${targets.numel} elements, expected N = ${N}`);
  shapeCheck(losses.numel === N && lse.numel === N, NAME, `losses and lse must have N = ${N} elements (got ${losses.numel}, ${lse.numel})`);
  shapeCheck(stats.numel >= 2, NAME, `stats must hold 2 floats {mean, count}, has ${stats.numel}`);

  crossEntropyCount(gpu, targets, stats, ignoreIndex);
  const b = blocks(limitsOf(gpu), o);
  const nblk = b.vocab.length;
  const L = gpu.tensor([b.rc * b.vc], undefined, 'lm_head.block');
  const partial = gpu.tensor([N, nblk, 2], undefined, 'lm_head.partial');
  const zt = gpu.tensor([N], undefined, 'lm_head.zt');
  b.vocab.forEach((vb, blk) => {
    const w = vocabView(gpu, wte, vb, C, V);
    const k = gpu.kernel({ shader: 'lm_head_forward', constants: { WG: rowThreads(vb.count) }, bindings: ['uniform', 'read', 'read', 'rw', 'rw'] });
    for (const rb of b.rows) {
      blockLogits(gpu, x, w, L, rb, vb.count, C);
      gpu.dispatch(k, [L, targets, partial, zt], perRow(rb.count), params().u32(rb.count).u32(vb.count).u32(rb.start).u32(vb.start).u32(blk).u32(nblk));
    }
  });
  const comb = gpu.kernel({ shader: 'lm_head_combine', bindings: ['uniform', 'read', 'read', 'read', 'rw', 'rw'] });
  const groups = cdiv(N, 64);
  const gx = Math.min(groups, MAX_GROUPS);
  gpu.dispatch(comb, [partial, zt, targets, lse, losses], [gx, cdiv(groups, gx)], params().u32(N).u32(nblk).u32(V).i32(ignoreIndex));
  crossEntropyMean(gpu, losses, stats);
  // Later users of these pooled buffers are queue-ordered after the dispatches above.
  gpu.release(L, partial, zt);
}

/**
 * dx = ∂(scale·mean loss)/∂x = g·wte and (unless null) dwte = gᵀ·x, where
 * g = (softmax(x·wteᵀ) − onehot(targets))·scale/count on counted rows and 0 on ignored
 * ones, rebuilt block by block from the forward's lse. Both are written, not accumulated.
 * The logits are recomputed here on purpose: keeping them from the forward would hold
 * N·V floats between the passes (gpt2 at B 8 × T 1024: 1.6 GB), the very tensor this head
 * exists to avoid; recomputing costs one more 2·N·V·C product (a third of the backward).
 */
export function lmHeadBackward(gpu: Gpu, t: LmHeadBackwardTensors, o: LmHeadBackwardShape) {
  const { x, wte, targets, lse, stats, dx, dwte } = t;
  const { N, C, V } = o;
  checkCommon(gpu, x, wte, o);
  shapeCheck(targets.numel === N && lse.numel === N, NAME, `targets and lse must have N = ${N} elements (got ${targets.numel}, ${lse.numel})`);
  shapeCheck(stats.numel >= 2, NAME, `stats must hold 2 floats {mean, count}, has ${stats.numel}`);
  shapeCheck(dx.numel === N * C && dx.buffer !== x.buffer && dx.buffer !== wte.buffer, NAME, `dx must be a separate [N=${N}, C=${C}] tensor (got ${dx.numel} elements)`);
  shapeCheck(!dwte || (dwte.numel === V * C && dwte.buffer !== wte.buffer && dwte.buffer !== x.buffer && dwte.buffer !== dx.buffer), NAME, `dwte must be a separate [V=${V}, C=${C}] tensor (got ${dwte?.numel} elements)`);
  const b = blocks(limitsOf(gpu), o);
  const L = gpu.tensor([b.rc * b.vc], undefined, 'lm_head.block');
  const k = gpu.kernel({ shader: 'lm_head_grad', bindings: ['uniform', 'rw', 'read', 'read', 'read'] });
  const ignoreIndex = o.ignoreIndex ?? -1;
  b.vocab.forEach((vb, vi) => {
    const w = vocabView(gpu, wte, vb, C, V);
    const dw = dwte ? vocabView(gpu, dwte, vb, C, V) : null;
    b.rows.forEach((rb, ri) => {
      blockLogits(gpu, x, w, L, rb, vb.count, C);
      const p = params().u32(rb.count).u32(vb.count).u32(rb.start).u32(vb.start).u32(V).i32(ignoreIndex).f32(o.scale ?? 1);
      gpu.dispatch(k, [L, targets, lse, stats], perRow(rb.count), p);
      // dx[rows] (+)= g·wte[cols]: summed over vocabulary blocks in order.
      matmul(gpu, L, w, rowsView(gpu, dx, rb.start, rb.count, C), { M: rb.count, K: vb.count, N: C, accumulate: vi > 0 });
      // dwte[cols] (+)= gᵀ·x[rows]: summed over row blocks in order.
      if (dw) matmul(gpu, L, rowsView(gpu, x, rb.start, rb.count, C), dw, { M: vb.count, K: rb.count, N: C, transA: true, accumulate: ri > 0 });
    });
  });
  gpu.release(L);
}

export interface LmHeadLogitsShape {
  /** Rows of x to compute logits for (out is [rows, V]). */
  rows: number;
  C: number;
  V: number;
  /** First row of x (default 0). */
  rowOffset?: number;
  maxBindingBytes?: number;
}

/** out[i, :] = x[rowOffset + i]·wteᵀ for i < rows: logits only where they are asked for. */
export function lmHeadLogits(gpu: Gpu, x: Tensor, wte: Tensor, out: Tensor, o: LmHeadLogitsShape) {
  const { rows, C, V } = o;
  const r0 = o.rowOffset ?? 0;
  shapeCheck(isCount(rows, 1) && isCount(C, 1) && isCount(V, 1) && isCount(r0, 0), NAME, `rows, C, V must be integers ≥ 1 and rowOffset ≥ 0 (got rows=${rows}, C=${C}, V=${V}, rowOffset=${r0})`);
  shapeCheck(x.numel % C === 0 && (r0 + rows) * C <= x.numel, NAME, `x (${x.label}, ${x.numel} elements) has no rows [${r0}, ${r0 + rows}) of C = ${C}`);
  shapeCheck(wte.numel === V * C, NAME, `wte (${wte.label}) has ${wte.numel} elements, expected [V=${V}, C=${C}]`);
  shapeCheck(out.numel >= rows * V && out.buffer !== x.buffer && out.buffer !== wte.buffer, NAME, `out must be a separate tensor of ≥ ${rows}·${V} elements (got ${out.numel})`);
  shapeCheck(cdiv(rows, ROWS) <= MAX_GROUPS, NAME, `rows = ${rows} exceeds ${MAX_GROUPS * ROWS}`);
  const chunks = ranges(V, chunkCols(limitsOf(gpu), C, V, o.maxBindingBytes));
  const oneRow = rows === 1; // generation: a one-row tile instead of 8 rows' work
  const k = gpu.kernel({ shader: 'lm_head_logits', defines: { ...tileDefines(C), ONE_ROW: oneRow }, bindings: ['uniform', 'read', 'read', 'rw'] });
  for (const c of chunks) {
    const w = chunks.length === 1 ? wte : gpu.view(wte, c.start * C, c.count * C, [c.count, C]);
    gpu.dispatch(k, [x, w, out], [cdiv(c.count, COLS), oneRow ? 1 : cdiv(rows, ROWS)], params().u32(r0).u32(rows).u32(C).u32(c.count).u32(c.start).u32(V));
  }
}

/** Floating-point operations: forward 2·N·V·C; backward 4·N·V·C more (6 with dwte). */
export function lmHeadFlops(o: { N: number; C: number; V: number }, backward = false, dwte = false): number {
  return 2 * o.N * o.V * o.C * (backward ? (dwte ? 3 : 2) : 1);
}
