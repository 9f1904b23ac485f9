// GELU forward/backward wrappers: validate shapes, record one dispatch each.
import { shapeCheck } from '../gpu/errors';
import { params } from '../gpu/params';
import type { Gpu, Tensor } from '../gpu/runtime';
import { gridStride } from './grid';

export function geluForward(gpu: Gpu, x: Tensor, y: Tensor) {
  shapeCheck(x.numel === y.numel, 'gelu', `x has ${x.numel} elements, y ${y.numel}`);
  const k = gpu.kernel({ shader: 'gelu_forward', bindings: ['uniform', 'read', 'rw'] });
  gpu.dispatch(k, [x, y], gridStride(x.numel), params().u32(x.numel));
}

/** dx = dy·GELU'(x); with `accumulate`, dx += … (gradient accumulation). */
export function geluBackward(gpu: Gpu, x: Tensor, dy: Tensor, dx: Tensor, accumulate = false) {
  shapeCheck(x.numel === dy.numel && x.numel === dx.numel, 'gelu_backward', `x ${x.numel}, dy ${dy.numel}, dx ${dx.numel} elements must match`);
  const k = gpu.kernel({ shader: 'gelu_backward', bindings: ['uniform', 'read', 'read', 'rw'] });
  gpu.dispatch(k, [x, dy, dx], gridStride(x.numel), params().u32(x.numel).u32(accumulate ? 1 : 0));
}
