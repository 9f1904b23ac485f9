// Cost vs prefix length: time per training step and GPU memory for prefix tuning as m
// grows, against NTK-Attention (no m at all: its cost must be flat) and the base model.
//
// Per point: a fresh model (base weights + adapter), `warmupSteps` untimed training steps
// (shader compilation, buffer pools), then `timedSteps` steps, each bracketed by
// gpu.sync() so the time is the GPU's work for forward + backward + AdamW, not just
// recording; the point reports the median and the range. Memory is the engine's own
// account (Gpu.memory(): bytes of live tensors): the peak over building the model and all
// its steps, minus what was live before, so it covers parameters, gradients, AdamW
// moments, activations and the backward pass's temporaries of this run alone. It is
// deterministic (bookkeeping, not a driver query), unlike the time.
//
// 'base' is the frozen model with nothing to train: forward + backward (the input
// gradients every adapter must pay for) and an empty optimizer step; it has no m and is
// measured once. NTK-Attention is measured again at every m to show it stays flat.
// Weights do not change the cost, so without a base model none is pretrained: the seeded
// initialisation is used (result.base.source = 'init').
import { type ExperimentBase, type BaseInfo, type ExperimentEnv, type ModelSettings, type NtkSettings, type Schema, buildModel, checkModelSettings, controlFor, DEFAULT_MODEL_SETTINGS, finite, median, MODEL_SCHEMA, NTK_SCHEMA, resolveSettings, setupBase } from './common';
import { Rng } from '../util/rng';
import type { AdapterSpec } from '../model/params';
import { BatchBuffers } from '../train/trainer';

export type CostMethod = 'prefix' | 'ntk' | 'base';
export const COST_METHODS: readonly CostMethod[] = ['prefix', 'ntk', 'base'];

export interface CostVsMConfig extends ModelSettings, NtkSettings {
  /** Prefix lengths to measure (0 = prefix tuning with no prefix). */
  ms: number[];
  methods: CostMethod[];
  /** Untimed steps before timing (the first compiles shaders). */
  warmupSteps: number;
  /** Timed steps per point (median reported). */
  timedSteps: number;
  /** Learning rate of the (real) AdamW steps; irrelevant to the cost, kept small. */
  lr: number;
}

export const DEFAULT_COST_VS_M_CONFIG: Readonly<CostVsMConfig> = Object.freeze({
  ...DEFAULT_MODEL_SETTINGS,
  seqLen: 64,
  batch: 8,
  featureMap: 'elu1',
  kParam: 'exp',
  ntkRank: 0,
  ms: [0, 16, 256, 4096],
  methods: [...COST_METHODS],
  warmupSteps: 2,
  timedSteps: 5,
  lr: 1e-3,
} satisfies CostVsMConfig);

export const COST_VS_M_SCHEMA: Schema<CostVsMConfig> = {
  ...MODEL_SCHEMA,
  ...NTK_SCHEMA,
  ms: { kind: 'intList', min: 0, max: 1 << 20, help: 'prefix lengths' },
  methods: { kind: 'enumList', choices: COST_METHODS, help: 'methods to measure' },
  warmupSteps: { kind: 'int', min: 0, max: 1000, help: 'untimed steps' },
  timedSteps: { kind: 'int', min: 1, max: 10_000, help: 'timed steps per point' },
  lr: { kind: 'float', min: 0, max: 1, help: 'AdamW learning rate' },
};

export function resolveCostVsMConfig(partial: Partial<CostVsMConfig> = {}): CostVsMConfig {
  const c = resolveSettings('cost-vs-m', COST_VS_M_SCHEMA, DEFAULT_COST_VS_M_CONFIG as CostVsMConfig, partial);
  checkModelSettings('cost-vs-m', c);
  c.ms.sort((a, b) => a - b);
  return c;
}

export interface CostVsMPoint {
  method: CostMethod;
  /** The prefix length of the sweep this point belongs to; null for the base (no m). */
  m: number | null;
  /** Median ms per training step over the timed steps. */
  msPerStep: number | null;
  msMin: number | null;
  msMax: number | null;
  /** Peak bytes of live GPU tensors of this run (above what was live before it). */
  peakBytes: number;
  /** Bytes of the trainable tensors alone (parameters; gradients and moments are 3x more). */
  trainableBytes: number;
  trainableParams: number;
  /** Training loss of the last timed step (a sanity check that the steps ran). */
  lastLoss: number | null;
}

export interface CostVsMResult {
  experiment: 'cost-vs-m';
  config: CostVsMConfig;
  task: string;
  base: BaseInfo;
  /** B·T tokens per step. */
  tokensPerStep: number;
  points: CostVsMPoint[];
  aborted: boolean;
}

export async function runCostVsM(env: ExperimentEnv<CostVsMPoint>, config: Partial<CostVsMConfig> = {}, base?: ExperimentBase): Promise<CostVsMResult> {
  const c = resolveCostVsMConfig(config);
  const control = controlFor(env.signal);
  const { gpu } = env;
  const setup = await setupBase('cost-vs-m', env, c, base, { pretrain: false, control });
  const T = setup.T;
  const B = c.batch;
  const plan: { method: CostMethod; m: number | null; adapter: AdapterSpec }[] = [];
  // Interleave per m so a sweep stopped early still has both curves up to that m.
  for (const m of c.ms) {
    if (c.methods.includes('prefix')) plan.push({ method: 'prefix', m, adapter: { method: 'prefix', prefixLength: m } });
    if (c.methods.includes('ntk')) plan.push({ method: 'ntk', m, adapter: { method: 'ntk', featureMap: c.featureMap, kParam: c.kParam, rank: c.ntkRank } });
  }
  if (c.methods.includes('base')) plan.unshift({ method: 'base', m: null, adapter: { method: 'none' } });
  const perPoint = c.warmupSteps + c.timedSteps;
  const total = plan.length * perPoint;
  let done = 0;
  const points: CostVsMPoint[] = [];
  // One fixed batch for every point: the cost should not depend on the data.
  const batch = setup.task.nextBatch('train', B, T, new Rng(c.seed));

  for (const p of plan) {
    if (control.isStopped) break;
    const label = p.m === null ? p.method : `${p.method} (m=${p.m})`;
    await gpu.sync();
    const before = gpu.memory().liveBytes;
    gpu.resetPeak();
    const model = buildModel(gpu, setup, p.adapter, c.seed);
    const buf = new BatchBuffers(gpu, B, T);
    const times: number[] = [];
    let lastLoss = NaN;
    try {
      buf.upload(batch.inputs, batch.targets);
      for (let s = 0; s < perPoint; s++) {
        if (control.isStopped) break;
        await gpu.sync();
        const t0 = performance.now();
        model.forward(buf.tokens, buf.targets, B, T);
        model.backward();
        model.optimizerStep({ lr: c.lr, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1 });
        await gpu.sync();
        const ms = performance.now() - t0;
        if (s >= c.warmupSteps) times.push(ms);
        done++;
        env.onProgress?.(done, total, `${label}: step ${s + 1}/${perPoint}`);
      }
      if (times.length < c.timedSteps) break; // stopped mid-point: not a point
      lastLoss = (await gpu.read(model.stats, 1))[0];
      const peakBytes = gpu.memory().peakBytes - before;
      const trainableParams = model.trainableCount();
      const point: CostVsMPoint = {
        method: p.method, m: p.m, msPerStep: finite(median(times)), msMin: finite(Math.min(...times)), msMax: finite(Math.max(...times)),
        peakBytes, trainableBytes: 4 * trainableParams, trainableParams, lastLoss: finite(lastLoss),
      };
      points.push(point);
      env.onPoint?.(point);
    } finally {
      buf.release();
      model.destroy();
    }
  }
  env.onProgress?.(Math.min(done, total), total, control.isStopped ? 'stopped' : 'done');
  return { experiment: 'cost-vs-m', config: c, task: setup.task.name, base: setup.info, tokensPerStep: B * T, points, aborted: control.isStopped };
}
