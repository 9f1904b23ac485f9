// Fused softmax + cross-entropy wrappers (loss, gradient, mean) for the language-model head.
//
// Layouts: logits [..., V] row-major float32, N = numel/V rows (N = B·T); targets [N]
// int32 (write them from an Int32Array), the ignore index (default −1) marks rows that do
// not count; losses [N] float32; dlogits [N, V] float32 or the logits tensor itself (in
// place) or null (no gradient, e.g. evaluation); stats [2] float32 = {mean loss, count}.
//
// The count of non-ignored targets is computed on the GPU (crossentropy_count), so the
// loss and gradient need no readback: the training loop reads only stats[0] (one float)
// when it wants to show the loss. Everything is deterministic (no atomics).
import { GpuError, shapeCheck } from '../gpu/errors';
import { params } from '../gpu/params';
import type { Gpu, Tensor } from '../gpu/runtime';
import { MAX_GROUPS } from './grid';

export interface CrossEntropyOptions {
  /** Targets equal to this are ignored (loss 0, gradient 0, not counted). Default −1. */
  ignoreIndex?: number;
  /** Multiplies dlogits (e.g. 1/accumulation steps). Default 1. */
  scale?: number;
}

/** stats[1] (the count is an exact float32 while N < 2^24). */
const MAX_ROWS = 1 << 24;

function rowsOf(logits: Tensor): { n: number; v: number } {
  const v = logits.shape[logits.shape.length - 1] ?? 0;
  shapeCheck(logits.shape.length >= 2 && v >= 1, 'crossentropy', `logits must be [N, V] (or [B, T, V]) with V ≥ 1, got [${logits.shape}]`);
  return { n: logits.numel / v, v };
}

/** stats[1] = number of rows whose target is not `ignoreIndex` (one workgroup). */
export function crossEntropyCount(gpu: Gpu, targets: Tensor, stats: Tensor, ignoreIndex = -1) {
  shapeCheck(stats.numel >= 2, 'crossentropy_count', `stats must hold 2 floats {mean, count}, has ${stats.numel}`);
  shapeCheck(targets.numel < MAX_ROWS, 'crossentropy_count', `N = ${targets.numel} rows must be < 2^24 (count kept as float32)`);
  const k = gpu.kernel({ shader: 'crossentropy_count', bindings: ['uniform', 'read', 'rw'] });
  gpu.dispatch(k, [targets, stats], [1], params().u32(targets.numel).i32(ignoreIndex));
}

/**
 * losses[row] and, unless `dlogits` is null, dlogits = (softmax − onehot)·scale/count with
 * count = stats[1] (run crossEntropyCount first). `dlogits === logits` overwrites the
 * logits in place.
 */
export function crossEntropyRows(
  gpu: Gpu,
  logits: Tensor,
  targets: Tensor,
  stats: Tensor,
  losses: Tensor,
  dlogits: Tensor | null,
  opts: CrossEntropyOptions = {},
) {
  const { n, v } = rowsOf(logits);
  shapeCheck(targets.numel === n, 'crossentropy', `targets has ${targets.numel} elements, logits [${logits.shape}] has ${n} rows`);
  shapeCheck(losses.numel === n, 'crossentropy', `losses has ${losses.numel} elements, expected ${n}`);
  shapeCheck(stats.numel >= 2, 'crossentropy', `stats must hold 2 floats {mean, count}, has ${stats.numel}`);
  shapeCheck(!dlogits || dlogits.numel === n * v, 'crossentropy', `dlogits has ${dlogits?.numel} elements, expected ${n}·${v}`);
  if (n === 0) return;
  const grad = !dlogits ? 'none' : dlogits === logits ? 'inplace' : 'separate';
  if (grad === 'separate' && dlogits!.buffer === logits.buffer) throw new GpuError('validation', 'crossentropy: dlogits aliases logits; pass the same Tensor for in place');
  // Threads per row: the largest power of two ≤ V, within [8, 256] (each thread then owns
  // 1–2 logits for small V instead of idling; 8 keeps tiny vocabularies cheap).
  let wg = 8;
  while (wg * 2 <= v && wg < 256) wg *= 2;
  const bindings = grad === 'inplace' ? ['uniform', 'rw', 'read', 'read', 'rw'] : ['uniform', 'read', 'read', 'read', 'rw'];
  if (grad === 'separate') bindings.push('rw');
  const k = gpu.kernel({
    shader: 'crossentropy_fused',
    defines: { GRAD: grad },
    constants: { WG: wg },
    bindings: bindings as ('uniform' | 'read' | 'rw')[],
  });
  const tensors = [logits, targets, stats, losses];
  if (grad === 'separate') tensors.push(dlogits!);
  const gx = Math.min(n, MAX_GROUPS);
  gpu.dispatch(k, tensors, [gx, Math.ceil(n / gx)], params().u32(n).u32(v).i32(opts.ignoreIndex ?? -1).f32(opts.scale ?? 1));
}

/** stats[0] = Σ losses / max(stats[1], 1): the mean loss over counted rows (one workgroup). */
export function crossEntropyMean(gpu: Gpu, losses: Tensor, stats: Tensor) {
  shapeCheck(stats.numel >= 2, 'crossentropy_mean', `stats must hold 2 floats {mean, count}, has ${stats.numel}`);
  const k = gpu.kernel({ shader: 'crossentropy_mean', bindings: ['uniform', 'read', 'rw'] });
  gpu.dispatch(k, [losses, stats], [1], params().u32(losses.numel));
}

/**
 * The whole loss head: count, per-row losses (+ dlogits unless null; `dlogits === logits`
 * for in place), and stats = {mean loss, count}. Three dispatches, no readback.
 */
export function crossEntropy(
  gpu: Gpu,
  logits: Tensor,
  targets: Tensor,
  losses: Tensor,
  dlogits: Tensor | null,
  stats: Tensor,
  opts: CrossEntropyOptions = {},
) {
  crossEntropyCount(gpu, targets, stats, opts.ignoreIndex ?? -1);
  crossEntropyRows(gpu, logits, targets, stats, losses, dlogits, opts);
  crossEntropyMean(gpu, losses, stats);
}
