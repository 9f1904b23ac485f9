// Workgroup counts for grid-stride kernels: enough groups to cover n, capped so a dispatch
// never exceeds the 65535-per-dimension limit (the shader loops over the rest).
import { cdiv } from '../gpu/runtime';

export const MAX_GROUPS = 65535;

export function gridStride(n: number, workgroupSize = 256, maxGroups = 4096): [number] {
  return [Math.max(1, Math.min(cdiv(n, workgroupSize), maxGroups, MAX_GROUPS))];
}

/**
 * Element ranges [start, start + count) of a tensor of `numel` float32s that each fit one
 * storage binding (the device's maxStorageBufferBindingSize, or `maxBindingBytes` when
 * smaller: tests) and start at a multiple of minStorageBufferOffsetAlignment: how
 * elementwise kernels (AdamW, the gradient norm) bind a tensor larger than one binding
 * (full fine-tuning of gpt2-medium: wte and its moments are 206 MB each). One range, the
 * whole tensor, when it fits.
 */
export function bindingRanges(limits: { maxStorageBufferBindingSize: number; minStorageBufferOffsetAlignment: number }, numel: number, maxBindingBytes?: number): { start: number; count: number }[] {
  const limit = Math.min(limits.maxStorageBufferBindingSize, maxBindingBytes ?? Infinity);
  if (numel * 4 <= limit) return [{ start: 0, count: numel }];
  const align = limits.minStorageBufferOffsetAlignment / 4;
  const step = Math.floor(limit / 4 / align) * align;
  if (step < 1) throw new Error(`a binding limit of ${limit} bytes is below the offset alignment`);
  const out = [];
  for (let s = 0; s < numel; s += step) out.push({ start: s, count: Math.min(step, numel - s) });
  return out;
}
