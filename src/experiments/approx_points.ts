// Reading the approximation experiment's trained points: pure functions on its results,
// light enough for the page's main thread (no GPU code), shared by the CLI and the UI.
import type { ApproxPoint } from './approx_error';

/** Final / initial training MSE of a trained point (null for closed-form or failed points). */
export function trainRatio(p: ApproxPoint): number | null {
  return p.trainLoss != null && p.initTrainLoss ? p.trainLoss / p.initTrainLoss : null;
}

/** Trained points that fit their training set (MSE at most half its start) yet end with a
 *  larger evaluation error than they started with: too few training sequences for the
 *  parameters (taylor2 has r·d of them per head), not a failure to train. */
export function overfitPoints(points: readonly ApproxPoint[]): ApproxPoint[] {
  return points.filter((p) => p.rel != null && p.initRel != null && p.rel > p.initRel && (trainRatio(p) ?? 1) <= 0.5);
}
