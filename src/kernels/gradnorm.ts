// Global gradient-norm clipping without readback.
//
// gradNormScale(gpu, grads, maxNorm, out): out [2] float32 = {norm, scale} with
// norm = sqrt(Σ over all tensors of Σ g²) and scale = min(1, maxNorm/(norm + 1e-6)),
// scale = 1 when maxNorm ≤ 0 or not finite (clipping off). Pass `out` to adamw as
// gradScale (it reads the last element). Deterministic: each tensor gets fixed slots in a
// partials buffer (one dispatch per tensor, `groupsFor(n)` workgroups), then one workgroup
// sums the slots in order.
import { shapeCheck } from '../gpu/errors';
import { params } from '../gpu/params';
import type { Gpu, Tensor } from '../gpu/runtime';
import { bindingRanges, gridStride } from './grid';

/** Workgroups (= partial slots) for a tensor of n elements: ≥ 1024 elements per group, ≤ 64 groups. */
export function groupsFor(n: number): number {
  return n === 0 ? 0 : Math.min(64, Math.ceil(n / 1024));
}

export function gradNormScale(gpu: Gpu, grads: Tensor[], maxNorm: number, out: Tensor, maxBindingBytes?: number) {
  shapeCheck(out.numel >= 2, 'gradnorm', `out must hold 2 floats {norm, scale}, has ${out.numel}`);
  shapeCheck(!grads.includes(out), 'gradnorm', 'out must not be one of the gradients');
  // A tensor over the binding limit is summed range by range, each range its own slots.
  const parts = grads.flatMap((g) => {
    const rs = bindingRanges(gpu.device.limits, g.numel, maxBindingBytes);
    return rs.map((r) => (rs.length === 1 ? g : gpu.view(g, r.start, r.count)));
  });
  const slots = parts.reduce((a, g) => a + groupsFor(g.numel), 0);
  const partials = gpu.tensor([Math.max(1, slots)], undefined, 'gradnorm-partials');
  const kp = gpu.kernel({ shader: 'gradnorm_partial', bindings: ['uniform', 'read', 'rw'] });
  let slot = 0;
  for (const g of parts) {
    const groups = groupsFor(g.numel);
    if (groups === 0) continue;
    gpu.dispatch(kp, [g, partials], [groups], params().u32(g.numel).u32(slot));
    slot += groups;
  }
  const clip = maxNorm > 0 && Number.isFinite(maxNorm);
  const kf = gpu.kernel({ shader: 'gradnorm_finalize', bindings: ['uniform', 'read', 'rw'] });
  gpu.dispatch(kf, [partials, out], [1], params().u32(slots).f32(clip ? maxNorm : 0).u32(clip ? 1 : 0));
  // Safe to pool now: any later use of this buffer is recorded (and runs) after these dispatches.
  gpu.release(partials);
}

/** x *= s[index] in place (index defaults to s's last element, i.e. the clip scale of gradNormScale's out). */
export function scaleByScalar(gpu: Gpu, x: Tensor, s: Tensor, index = s.numel - 1) {
  shapeCheck(index >= 0 && index < s.numel, 'scale_by', `index ${index} outside s's ${s.numel} elements`);
  shapeCheck(x !== s, 'scale_by', 'x and s must be different tensors');
  if (x.numel === 0) return;
  const k = gpu.kernel({ shader: 'scale_by', bindings: ['uniform', 'rw', 'read'] });
  gpu.dispatch(k, [x, s], gridStride(x.numel), params().u32(x.numel).u32(index));
}
