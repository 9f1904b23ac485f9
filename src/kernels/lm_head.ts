// The language-model head fused with cross-entropy: loss, gradient and (for a few rows)
// logits of z = x·wteᵀ without ever holding the [N, V] logits (GPT-2's V = 50257 makes
// them the largest tensor of a step by far).
//
// Layouts: x [N, C] (ln_f's output), wte [V, C] (the tied embedding), targets [N] int32
// (`ignoreIndex`, default −1, marks rows that do not count), losses [N], lse [N] (the row
// log-sum-exp, kept from the forward for the backward), stats [2] = {mean loss, count}.
//
// Forward: lm_head_forward computes, per row and vocabulary sub-chunk, a running
// (max, Σe^{z−max}) and the target's logit; lm_head_combine folds the partials per row in
// a fixed order. Scratch: O(N × sub-chunks). Backward: per (vocabulary chunk, row chunk)
// lm_head_grad writes g = (softmax − onehot)·scale/count for that block only (scratch
// ≤ `scratchFloats`), then the matmul kernels add g·wte into dx and write gᵀ·x into dwte.
// Dispatch order is fixed and there are no atomics, so results are the same bits per run.
//
// wte is bound one vocabulary chunk at a time, as a range no larger than the device's
// maxStorageBufferBindingSize (gpt2-medium's wte is 206 MB, over the 128 MiB default),
// starting at a multiple of minStorageBufferOffsetAlignment.
import { shapeCheck } from '../gpu/errors';
import { params } from '../gpu/params';
import { cdiv, type Gpu, type Tensor } from '../gpu/runtime';
import { crossEntropyCount, crossEntropyMean } from './crossentropy';
import { MAX_GROUPS } from './grid';
import { matmul } from './matmul';

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
}

export interface LmHeadBackwardShape extends LmHeadShape {
  /** Multiplies the gradient (e.g. 1/accumulation steps). Default 1. */
  scale?: number;
  /** Floats of the backward's gradient block (rows × vocabulary columns). Default 2^22 (16 MiB). */
  scratchFloats?: number;
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
const ROWS = 8; // rows per workgroup (lm_head_tile)
const COLS = 256; // columns per workgroup step (64 invocations x 4)
const MAX_STEPS = 8; // steps per forward sub-chunk: 2048 columns, 25 sub-chunks for GPT-2
const DEFAULT_SCRATCH = 1 << 22;
/** stats[1] (the count) is an exact float32 while N < 2^24. */
const MAX_ROWS = 1 << 24;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const isCount = (v: number, min: number) => Number.isInteger(v) && v >= min;

/** Smallest step in rows of C floats that keeps a view's start aligned. */
function granule(gpu: Gpu, C: number): number {
  const align = gpu.device.limits.minStorageBufferOffsetAlignment;
  return align / gcd(align, C * 4);
}

/** Vocabulary columns per bound wte range: within the binding limit, aligned, ≤ cap. */
function chunkCols(gpu: Gpu, C: number, V: number, maxBindingBytes: number | undefined, cap = Infinity): number {
  const limit = Math.min(gpu.device.limits.maxStorageBufferBindingSize, maxBindingBytes ?? Infinity);
  const gran = granule(gpu, C);
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
  shapeCheck(N < MAX_ROWS && cdiv(N, ROWS) <= MAX_GROUPS, NAME, `N = ${N} rows must be < 2^24 and ≤ ${MAX_GROUPS * ROWS}`);
  shapeCheck(x.numel === N * C, NAME, `x (${x.label}) has ${x.numel} elements, expected [N=${N}, C=${C}]`);
  shapeCheck(wte.numel === V * C, NAME, `wte (${wte.label}) has ${wte.numel} elements, expected [V=${V}, C=${C}]`);
  shapeCheck(x.bytes <= gpu.device.limits.maxStorageBufferBindingSize, NAME, `x [${N}, ${C}] is larger than the device's storage binding limit; use fewer rows per call`);
}

function tileDefines(C: number) {
  return { VEC: C % 4 === 0 };
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
  const chunks = ranges(V, chunkCols(gpu, C, V, o.maxBindingBytes));
  const plan = chunks.map((c) => {
    const steps = Math.min(MAX_STEPS, cdiv(c.count, COLS));
    return { ...c, steps, subs: cdiv(c.count, steps * COLS) };
  });
  const nsub = plan.reduce((a, c) => a + c.subs, 0);
  shapeCheck(plan.every((c) => c.subs <= MAX_GROUPS), NAME, `a vocabulary chunk needs more than ${MAX_GROUPS} workgroups`);
  const partial = gpu.tensor([N, nsub, 2], undefined, 'lm_head.partial');
  const zt = gpu.tensor([N], undefined, 'lm_head.zt');
  const fwd = gpu.kernel({ shader: 'lm_head_forward', defines: tileDefines(C), bindings: ['uniform', 'read', 'read', 'read', 'rw', 'rw'] });
  let sub0 = 0;
  for (const c of plan) {
    const w = chunks.length === 1 ? wte : gpu.view(wte, c.start * C, c.count * C, [c.count, C]);
    const p = params().u32(N).u32(C).u32(c.count).u32(c.start).u32(c.steps).u32(sub0).u32(nsub).i32(ignoreIndex);
    gpu.dispatch(fwd, [x, w, targets, partial, zt], [c.subs, cdiv(N, ROWS)], p);
    sub0 += c.subs;
  }
  const comb = gpu.kernel({ shader: 'lm_head_combine', bindings: ['uniform', 'read', 'read', 'read', 'rw', 'rw'] });
  const groups = cdiv(N, 64);
  const gx = Math.min(groups, MAX_GROUPS);
  gpu.dispatch(comb, [partial, zt, targets, lse, losses], [gx, cdiv(groups, gx)], params().u32(N).u32(nsub).u32(V).i32(ignoreIndex));
  crossEntropyMean(gpu, losses, stats);
  // Later users of these pooled buffers are queue-ordered after the dispatches above.
  gpu.release(partial, zt);
}

/**
 * dx = ∂(scale·mean loss)/∂x = g·wte and (unless null) dwte = gᵀ·x, where
 * g = (softmax(x·wteᵀ) − onehot(targets))·scale/count on counted rows and 0 on ignored
 * ones, built block by block from the forward's lse. Both are written, not accumulated.
 */
export function lmHeadBackward(gpu: Gpu, t: LmHeadBackwardTensors, o: LmHeadBackwardShape) {
  const { x, wte, targets, lse, stats, dx, dwte } = t;
  const { N, C, V } = o;
  checkCommon(gpu, x, wte, o);
  shapeCheck(targets.numel === N && lse.numel === N, NAME, `targets and lse must have N = ${N} elements (got ${targets.numel}, ${lse.numel})`);
  shapeCheck(stats.numel >= 2, NAME, `stats must hold 2 floats {mean, count}, has ${stats.numel}`);
  shapeCheck(dx.numel === N * C && dx.buffer !== x.buffer && dx.buffer !== wte.buffer, NAME, `dx must be a separate [N=${N}, C=${C}] tensor (got ${dx.numel} elements)`);
  shapeCheck(!dwte || (dwte.numel === V * C && dwte.buffer !== wte.buffer && dwte.buffer !== x.buffer && dwte.buffer !== dx.buffer), NAME, `dwte must be a separate [V=${V}, C=${C}] tensor (got ${dwte?.numel} elements)`);
  const budget = o.scratchFloats ?? DEFAULT_SCRATCH;
  const rgran = Math.max(ROWS, granule(gpu, C));
  // Rows per block: all of them while that still leaves ≥ 2048 columns per block, else a
  // multiple of the alignment granule (dx and x are bound by row range then).
  const rc = N * 2048 <= budget ? N : Math.max(rgran, Math.floor(budget / 2048 / rgran) * rgran);
  const vcMax = chunkCols(gpu, C, V, o.maxBindingBytes, Math.max(1, Math.floor(budget / Math.min(rc, N))));
  const rowBlocks = ranges(N, rc);
  const vocabBlocks = ranges(V, vcMax);
  const g = gpu.tensor([Math.min(rc, N) * vcMax], undefined, 'lm_head.g');
  const k = gpu.kernel({ shader: 'lm_head_grad', defines: tileDefines(C), bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'rw'] });
  const ignoreIndex = o.ignoreIndex ?? -1;
  vocabBlocks.forEach((vb, vi) => {
    const whole = vocabBlocks.length === 1;
    const w = whole ? wte : gpu.view(wte, vb.start * C, vb.count * C, [vb.count, C]);
    const dw = !dwte ? null : whole ? dwte : gpu.view(dwte, vb.start * C, vb.count * C, [vb.count, C]);
    rowBlocks.forEach((rb, ri) => {
      const p = params().u32(N).u32(rb.start).u32(rb.count).u32(C).u32(vb.count).u32(vb.start).u32(V).i32(ignoreIndex).f32(o.scale ?? 1);
      gpu.dispatch(k, [x, w, targets, lse, stats, g], [cdiv(vb.count, COLS), cdiv(rb.count, ROWS)], p);
      // dx[rows] (+)= g·wte[cols]: summed over vocabulary blocks in order.
      matmul(gpu, g, w, rowsView(gpu, dx, rb.start, rb.count, C), { M: rb.count, K: vb.count, N: C, accumulate: vi > 0 });
      // dwte[cols] (+)= gᵀ·x[rows]: summed over row blocks in order.
      if (dw) matmul(gpu, g, rowsView(gpu, x, rb.start, rb.count, C), dw, { M: vb.count, K: rb.count, N: C, transA: true, accumulate: ri > 0 });
    });
  });
  gpu.release(g);
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
  const chunks = ranges(V, chunkCols(gpu, C, V, o.maxBindingBytes));
  const k = gpu.kernel({ shader: 'lm_head_logits', defines: tileDefines(C), bindings: ['uniform', 'read', 'read', 'rw'] });
  for (const c of chunks) {
    const w = chunks.length === 1 ? wte : gpu.view(wte, c.start * C, c.count * C, [c.count, C]);
    gpu.dispatch(k, [x, w, out], [cdiv(c.count, COLS), cdiv(rows, ROWS)], params().u32(r0).u32(rows).u32(C).u32(c.count).u32(c.start).u32(V));
  }
}

/** Floating-point operations: forward 2·N·V·C; backward 4·N·V·C more (6 with dwte). */
export function lmHeadFlops(o: { N: number; C: number; V: number }, backward = false, dwte = false): number {
  return 2 * o.N * o.V * o.C * (backward ? (dwte ? 3 : 2) : 1);
}
