// Residual connections: out = a + b, and y += x in place.
// Backward of out = a + b is the identity into both branches: the training step passes the
// same gradient on (or accumulates it with addInPlace); no separate backward kernel.
import { shapeCheck } from '../gpu/errors';
import { params } from '../gpu/params';
import type { Gpu, Tensor } from '../gpu/runtime';
import { gridStride } from './grid';

/** out = a + b (out must be a third tensor: WebGPU forbids binding a buffer read and read-write). */
export function add(gpu: Gpu, a: Tensor, b: Tensor, out: Tensor) {
  shapeCheck(a.numel === b.numel && a.numel === out.numel, 'residual_add', `a ${a.numel}, b ${b.numel}, out ${out.numel} elements must match`);
  shapeCheck(out !== a && out !== b, 'residual_add', 'out must differ from a and b (use addInPlace for y += x)');
  if (out.numel === 0) return;
  const k = gpu.kernel({ shader: 'residual_add', bindings: ['uniform', 'read', 'read', 'rw'] });
  gpu.dispatch(k, [a, b, out], gridStride(out.numel), params().u32(out.numel));
}

/** y += x (residual stream in place; gradient accumulation). */
export function addInPlace(gpu: Gpu, y: Tensor, x: Tensor) {
  shapeCheck(y.numel === x.numel, 'residual_add_inplace', `y ${y.numel} and x ${x.numel} elements must match`);
  shapeCheck(y !== x, 'residual_add_inplace', 'y and x must be different tensors');
  if (y.numel === 0) return;
  const k = gpu.kernel({ shader: 'residual_add_inplace', bindings: ['uniform', 'rw', 'read'] });
  gpu.dispatch(k, [y, x], gridStride(y.numel), params().u32(y.numel));
}
