// The approximation experiment's points and reading them: the point type and pure
// functions on results, light enough for the page's main thread (no GPU code), shared by
// the CLI and the UI. The type lives here, below approx_error.ts, which produces points.
import type { FeatureMapName } from '../train/config';
import type { ApproxMethod } from './approx_config';

/** One measured point of the sweep (metrics: docs/ntk-attention.md §11). */
export interface ApproxPoint {
  /** Replicate index 0 … seeds−1. */
  seed: number;
  m: number;
  method: ApproxMethod;
  map: FeatureMapName;
  /** ‖T − Y‖ / ‖T − Y₀‖ (null when Y is not finite). */
  rel: number | null;
  /** max |T − Y| (null when Y is not finite). */
  maxAbs: number | null;
  /** ‖T − Y‖ / ‖T‖. */
  relTarget: number | null;
  /** ‖T − Y₀‖ / ‖T‖: how much the prefix changes the output at all. */
  effect: number;
  /** Mean prefix mass of the target. */
  beta: number;
  /** Trained methods: rel before the first step (at the initialisation). */
  initRel?: number | null;
  /** Trained methods: training MSE at the initialisation (before the first step). */
  initTrainLoss?: number | null;
  /** Trained methods: final training MSE. */
  trainLoss?: number | null;
  /** Wall time of this point in ms (the target's time is counted in its first point). */
  ms: number;
}


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
