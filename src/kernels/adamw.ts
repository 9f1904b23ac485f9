// AdamW step wrapper: one dispatch per parameter tensor, updating p, m, v in place.
//
// Layouts: p, g, m, v are float32 [n] (any shape, same numel). m and v start at 0 and
// are carried between calls by the caller; `step` is the 1-based step count t.
// gradScale (optional): a float32 GPU tensor; g is multiplied by gradScale[gradScaleIndex]
// (default: its last element, so both a [1] {scale} tensor and the [2] {norm, scale}
// output of gradNormScale work) before use, so global-norm clipping needs no readback.
import { shapeCheck } from '../gpu/errors';
import { params } from '../gpu/params';
import type { Gpu, Tensor } from '../gpu/runtime';
import type { AdamWHyper } from './adamw.ref';
import { bindingRanges, gridStride } from './grid';

export type { AdamWHyper } from './adamw.ref';

export interface AdamWOptions {
  /** Apply decoupled weight decay to this tensor (matrices yes; biases, LayerNorm no). */
  decay: boolean;
  gradScale?: Tensor | null;
  gradScaleIndex?: number;
  /** Largest range bound at once, in bytes (default: the device's binding limit); tests lower it. */
  maxBindingBytes?: number;
}

export function adamw(gpu: Gpu, p: Tensor, g: Tensor, m: Tensor, v: Tensor, hp: AdamWHyper, step: number, opts: AdamWOptions) {
  const n = p.numel;
  shapeCheck(g.numel === n && m.numel === n && v.numel === n, 'adamw', `p ${n}, g ${g.numel}, m ${m.numel}, v ${v.numel} elements must match`);
  shapeCheck(Number.isInteger(step) && step >= 1, 'adamw', `step must be an integer ≥ 1, got ${step}`);
  shapeCheck(hp.beta1 >= 0 && hp.beta1 < 1 && hp.beta2 >= 0 && hp.beta2 < 1 && hp.eps > 0, 'adamw', `need 0 ≤ β1, β2 < 1 and eps > 0, got β1=${hp.beta1} β2=${hp.beta2} eps=${hp.eps}`);
  const gs = opts.gradScale ?? null;
  const gsIndex = opts.gradScaleIndex ?? (gs ? gs.numel - 1 : 0);
  shapeCheck(!gs || (gsIndex >= 0 && gsIndex < gs.numel), 'adamw', `gradScaleIndex ${gsIndex} outside gradScale's ${gs?.numel} elements`);
  if (n === 0) return;
  const k = gpu.kernel({
    shader: 'adamw',
    defines: { GRAD_SCALE: gs ? 1 : 0 },
    bindings: gs ? ['uniform', 'rw', 'read', 'rw', 'rw', 'read'] : ['uniform', 'rw', 'read', 'rw', 'rw'],
  });
  // Bias corrections in float64 on the CPU: β^t for large t underflows gracefully to 0.
  const bc1 = 1 - Math.pow(hp.beta1, step);
  const bc2 = 1 - Math.pow(hp.beta2, step);
  const pr = (count: number) => params()
    .u32(count)
    .f32(hp.lr)
    .f32(hp.beta1)
    .f32(hp.beta2)
    .f32(1 - hp.beta1)
    .f32(1 - hp.beta2)
    .f32(hp.eps)
    .f32(opts.decay ? hp.weightDecay : 0)
    .f32(bc1)
    .f32(bc2)
    .u32(gsIndex);
  const ranges = bindingRanges(gpu.device.limits, n, opts.maxBindingBytes);
  for (const r of ranges) {
    const part = (t: Tensor) => (ranges.length === 1 ? t : gpu.view(t, r.start, r.count));
    const ts = [part(p), part(g), part(m), part(v)];
    gpu.dispatch(k, gs ? [...ts, gs] : ts, gridStride(r.count), pr(r.count));
  }
}
