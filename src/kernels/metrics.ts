// Error metrics for experiments, reduced on the GPU (only 3 floats come back).
//
// reduceMetrics(gpu, a, b, out): records out[0] = Σ (a − b)², out[1] = Σ b²,
//   out[2] = max |a − b| over a, b [n] (flattened); with b = null: Σ a², 0, max |a|.
//   Two deterministic passes: ≤ 256 workgroups write partial triples (fixed slots), one
//   workgroup combines them. The group count depends only on n, so results are bitwise
//   reproducible run to run.
// errorMetrics(gpu, a, b?): records, reads back, returns { sumSq, refSumSq, maxAbs, rel }
//   with rel = √(sumSq/refSumSq) (√sumSq when refSumSq = 0, like check.ts's relErr).
// A NaN or ±Inf in the inputs makes sumSq (and rel) non-finite; max |·| follows WGSL's
// max, which need not propagate NaN.
import { shapeCheck } from '../gpu/errors';
import { params } from '../gpu/params';
import { cdiv, type Gpu, type Tensor } from '../gpu/runtime';

/** Elements per 256-thread workgroup before another workgroup is added (up to MAX_METRIC_GROUPS). */
const PER_GROUP = 4096;
export const MAX_METRIC_GROUPS = 256;

export interface ErrorMetrics {
  /** Σ (a − b)², or Σ a² without b. */
  sumSq: number;
  /** Σ b² (0 without b). */
  refSumSq: number;
  /** max |a − b|, or max |a| without b. */
  maxAbs: number;
  /** ‖a − b‖/‖b‖ (‖a − b‖ when ‖b‖ = 0). */
  rel: number;
}

/** Partial-sum workgroups for n elements (a function of n only: fixed summation order). */
export function metricGroups(n: number, maxGroups = MAX_METRIC_GROUPS): number {
  return Math.max(1, Math.min(maxGroups, MAX_METRIC_GROUPS, cdiv(n, PER_GROUP)));
}

export function reduceMetrics(gpu: Gpu, a: Tensor, b: Tensor | null, out: Tensor, opts: { maxGroups?: number } = {}) {
  const K = 'metrics';
  shapeCheck(!b || b.numel === a.numel, K, `a has ${a.numel} elements, b ${b?.numel}`);
  shapeCheck(out.numel >= 3, K, `out must hold 3 floats {sumSq, refSumSq, maxAbs}, has ${out.numel}`);
  shapeCheck(out !== a && out !== b, K, 'out must not alias a or b');
  const n = a.numel;
  const groups = metricGroups(n, opts.maxGroups);
  const partials = gpu.tensor([groups, 3], undefined, 'metrics-partials');
  if (b) {
    const k = gpu.kernel({ shader: 'metrics_partial', defines: { HAS_B: 1 }, bindings: ['uniform', 'read', 'read', 'rw'] });
    gpu.dispatch(k, [a, b, partials], [groups], params().u32(n));
  } else {
    const k = gpu.kernel({ shader: 'metrics_partial', defines: { HAS_B: 0 }, bindings: ['uniform', 'read', 'rw'] });
    gpu.dispatch(k, [a, partials], [groups], params().u32(n));
  }
  const kf = gpu.kernel({ shader: 'metrics_final', bindings: ['uniform', 'read', 'rw'] });
  gpu.dispatch(kf, [partials, out], [1], params().u32(groups));
  // Safe to pool now: any later use of this buffer is recorded (and runs) after these dispatches.
  gpu.release(partials);
}

/** Records reduceMetrics, reads the 3 floats back and derives the relative error. */
export async function errorMetrics(gpu: Gpu, a: Tensor, b?: Tensor | null): Promise<ErrorMetrics> {
  const out = gpu.tensor([3], undefined, 'metrics-out');
  try {
    reduceMetrics(gpu, a, b ?? null, out);
    const [sumSq, refSumSq, maxAbs] = await gpu.read(out);
    return { sumSq, refSumSq, maxAbs, rel: refSumSq > 0 ? Math.sqrt(sumSq / refSumSq) : Math.sqrt(sumSq) };
  } finally {
    gpu.release(out);
  }
}
