// Loss vs prefix length: one base model adapted to one task by prefix tuning at
// m = 1, 2, 4, …, maxM, and by NTK-Attention, LoRA and full fine-tuning, beside the
// untouched base. Per run: final validation loss, exact-match accuracy (synthetic tasks),
// trainable parameters, mean prefix mass β and ms per step. Does a longer prefix keep
// helping, and where does NTK-Attention (which stands for any m) land?
//
// Every adapted run starts from the same base weights and the same adapter seed, uses the
// trainer (AdamW, cosine decay to 0.1·lr, gradient clip 1, no warm-up) for `steps` steps,
// and is evaluated on the same validation batches. Without a base model one is pretrained
// first (common.ts: full fine-tuning on pretrainTask for pretrainSteps steps).
import { finite, type ExperimentBase, type BaseInfo, type ExperimentEnv, type ModelSettings, type NtkSettings, type Schema, buildModel, checkModelSettings, controlFor, DEFAULT_MODEL_SETTINGS, MODEL_SCHEMA, NTK_SCHEMA, resolveSettings, runConfig, setupBase } from './common';
import { powersOfTwo } from './stats';
import type { AdapterSpec } from '../model/params';
import { BatchBuffers, evaluate, train, validationSeed } from '../train/trainer';

export type LossMethod = 'base' | 'prefix' | 'ntk' | 'lora' | 'full';
export const LOSS_METHODS: readonly LossMethod[] = ['base', 'prefix', 'ntk', 'lora', 'full'];

export interface LossVsMConfig extends ModelSettings, NtkSettings {
  /** Prefix lengths 1, 2, 4, … up to maxM (and maxM itself). */
  maxM: number;
  methods: LossMethod[];
  /** Training steps of every adapted run. */
  steps: number;
  /** Peak learning rates (AdamW) per method. */
  lrPrefix: number;
  lrNtk: number;
  lrLora: number;
  lrFull: number;
  loraRank: number;
  loraAlpha: number;
  /** Validation every N steps (the curve in each point); the last step always evaluates. */
  evalEvery: number;
}

export const DEFAULT_LOSS_VS_M_CONFIG: Readonly<LossVsMConfig> = Object.freeze({
  ...DEFAULT_MODEL_SETTINGS,
  featureMap: 'elu1',
  kParam: 'exp',
  ntkRank: 0,
  maxM: 64,
  methods: [...LOSS_METHODS],
  steps: 200,
  // Measured to train on a pretrained micro base in 60 steps (see the report / test).
  lrPrefix: 1e-1,
  lrNtk: 1e-1,
  lrLora: 3e-2,
  lrFull: 3e-3,
  loraRank: 8,
  loraAlpha: 16,
  evalEvery: 25,
} satisfies LossVsMConfig);

export const LOSS_VS_M_SCHEMA: Schema<LossVsMConfig> = {
  ...MODEL_SCHEMA,
  ...NTK_SCHEMA,
  maxM: { kind: 'int', min: 1, max: 65536, help: 'largest prefix length' },
  methods: { kind: 'enumList', choices: LOSS_METHODS, help: 'methods to run' },
  steps: { kind: 'int', min: 1, max: 1_000_000, help: 'training steps per run' },
  lrPrefix: { kind: 'float', min: 1e-7, max: 10, help: 'prefix tuning learning rate' },
  lrNtk: { kind: 'float', min: 1e-7, max: 10, help: 'NTK-Attention learning rate' },
  lrLora: { kind: 'float', min: 1e-7, max: 10, help: 'LoRA learning rate' },
  lrFull: { kind: 'float', min: 1e-7, max: 10, help: 'full fine-tuning learning rate' },
  loraRank: { kind: 'int', min: 1, max: 256, help: 'LoRA rank' },
  loraAlpha: { kind: 'float', min: 0.01, max: 1024, help: 'LoRA alpha' },
  evalEvery: { kind: 'int', min: 1, max: 1_000_000, help: 'validation every N steps' },
};

export function resolveLossVsMConfig(partial: Partial<LossVsMConfig> = {}): LossVsMConfig {
  const c = resolveSettings('loss-vs-m', LOSS_VS_M_SCHEMA, DEFAULT_LOSS_VS_M_CONFIG as LossVsMConfig, partial);
  checkModelSettings('loss-vs-m', c);
  return c;
}

export interface LossVsMPoint {
  method: LossMethod;
  /** Prefix length (prefix tuning only), else null. */
  m: number | null;
  /** Training steps run (0 for the base). */
  steps: number;
  valLoss: number | null;
  /** Teacher-forced exact match of the answers (synthetic tasks), else null. */
  valAccuracy: number | null;
  finalTrainLoss: number | null;
  trainableParams: number;
  /** Mean prefix mass β over layers, heads, positions (prefix and NTK), else null. */
  prefixMass: number | null;
  /** Smoothed ms per training step (first step, which compiles shaders, excluded). */
  msPerStep: number | null;
  /** Validation loss during training: [step, loss] pairs. */
  valCurve: [number, number | null][];
  /** Trainer state: done, stopped, diverged. */
  state: string;
  message: string | null;
}

export interface LossVsMResult {
  experiment: 'loss-vs-m';
  config: LossVsMConfig;
  task: string;
  base: BaseInfo;
  points: LossVsMPoint[];
  aborted: boolean;
}

interface RunPlan {
  method: LossMethod;
  m: number | null;
  adapter: AdapterSpec;
  lr: number;
}

function plan(c: LossVsMConfig): RunPlan[] {
  const out: RunPlan[] = [];
  for (const method of c.methods) {
    if (method === 'base') out.push({ method, m: null, adapter: { method: 'none' }, lr: 0 });
    else if (method === 'prefix') for (const m of powersOfTwo(c.maxM)) out.push({ method, m, adapter: { method: 'prefix', prefixLength: m }, lr: c.lrPrefix });
    else if (method === 'ntk') out.push({ method, m: null, adapter: { method: 'ntk', featureMap: c.featureMap, kParam: c.kParam, rank: c.ntkRank }, lr: c.lrNtk });
    else if (method === 'lora') out.push({ method, m: null, adapter: { method: 'lora', rank: c.loraRank, alpha: c.loraAlpha }, lr: c.lrLora });
    else out.push({ method, m: null, adapter: { method: 'full' }, lr: c.lrFull });
  }
  return out;
}

export async function runLossVsM(env: ExperimentEnv<LossVsMPoint>, config: Partial<LossVsMConfig> = {}, base?: ExperimentBase): Promise<LossVsMResult> {
  const c = resolveLossVsMConfig(config);
  const control = controlFor(env.signal);
  const runs = plan(c);
  const pretrainSteps = base ? 0 : c.pretrainSteps;
  const total = pretrainSteps + runs.filter((r) => r.method !== 'base').length * c.steps;
  let done = 0;
  const progress = (msg: string) => env.onProgress?.(Math.min(done, total), total, msg);
  progress(pretrainSteps ? `pretraining the base on ${c.pretrainTask}` : 'preparing');
  const setup = await setupBase('loss-vs-m', env, c, base, {
    pretrain: true, control,
    progress: (s) => { done = s; progress(`pretraining the base on ${c.pretrainTask}: step ${s}/${pretrainSteps}`); },
  });
  done = pretrainSteps;
  const points: LossVsMPoint[] = [];
  const result = (): LossVsMResult => ({ experiment: 'loss-vs-m', config: c, task: setup.task.name, base: setup.info, points, aborted: control.isStopped });
  const adapterSeed = (c.seed * 7919 + 17) >>> 0;

  for (const r of runs) {
    if (control.isStopped) break;
    const label = r.m === null ? r.method : `${r.method} m=${r.m}`;
    const model = buildModel(env.gpu, setup, r.adapter, adapterSeed);
    try {
      let point: LossVsMPoint;
      if (r.method === 'base') {
        // The untouched base: evaluated on the same validation batches, nothing trained.
        progress(`evaluating the base on ${setup.task.name}`);
        const buf = new BatchBuffers(env.gpu, c.batch, setup.T);
        try {
          const ev = await evaluate(env.gpu, model, setup.task, buf, c.evalBatches, validationSeed(c.seed));
          point = {
            method: 'base', m: null, steps: 0, valLoss: finite(ev.loss), valAccuracy: finite(ev.accuracy), finalTrainLoss: null,
            trainableParams: 0, prefixMass: null, msPerStep: null, valCurve: [[0, finite(ev.loss)]], state: 'done', message: null,
          };
        } finally {
          buf.release();
        }
      } else {
        const rc = runConfig(c, { method: r.method, steps: c.steps, lr: r.lr, evalEvery: c.evalEvery, prefixLength: r.m ?? 0 });
        const curve: [number, number | null][] = [];
        const start = done;
        const sum = await train({
          gpu: env.gpu, model, task: setup.task, config: rc, runId: label, control,
          onEvent: (e) => {
            if (e.type === 'step') {
              done = start + e.step;
              progress(`${label}: step ${e.step}/${c.steps}`);
            } else if (e.type === 'eval') curve.push([e.step, finite(e.valLoss)]);
          },
        });
        done = start + c.steps;
        if (sum.state === 'stopped') break; // an unfinished run is not a point
        point = {
          method: r.method, m: r.m, steps: c.steps, valLoss: finite(sum.finalValLoss), valAccuracy: finite(sum.finalValAccuracy),
          finalTrainLoss: finite(sum.finalTrainLoss), trainableParams: sum.trainableParams, prefixMass: finite(sum.prefixMass),
          msPerStep: finite(sum.msPerStep), valCurve: curve, state: sum.state, message: sum.message ?? null,
        };
      }
      points.push(point);
      env.onPoint?.(point);
    } finally {
      model.destroy();
    }
  }
  progress(control.isStopped ? 'stopped' : 'done');
  return result();
}
