// Workgroup counts for grid-stride kernels: enough groups to cover n, capped so a dispatch
// never exceeds the 65535-per-dimension limit (the shader loops over the rest).
import { cdiv } from '../gpu/runtime';

export const MAX_GROUPS = 65535;

export function gridStride(n: number, workgroupSize = 256, maxGroups = 4096): [number] {
  return [Math.max(1, Math.min(cdiv(n, workgroupSize), maxGroups, MAX_GROUPS))];
}
