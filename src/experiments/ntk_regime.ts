// The NTK regime of prefix learning (paper's convergence theorem; docs/ntk-attention.md §11): train
// only the prefix of a frozen base model for m = 8 … 8192 under two parameterisations, and
// record each run's training-loss curve and the prefix's relative movement
// ‖θ_T − θ_0‖ / ‖θ_0‖. In the NTK regime a longer prefix moves less (≈ m^{-1/2}) and the
// loss curves approach an m-independent limit; under naive scaling they do not.
//
// What "NTK scaling" means here, and exactly what this file does
// --------------------------------------------------------------
// With many prefix rows the prefix takes almost all the attention mass, and one head's
// output is a softmax-weighted average over the prefix:
//     o ≈ Σ_p e^{t_p} w_p / Σ_p e^{t_p} = (1/m) Σ_p a_p w_p,   a_p = e^{t_p} / mean_p e^{t_p}
// (t_p = c·q·p_p). This is a width-m network with mean-field (1/m) output scaling. Writing
// the values as w_p = √m·ŵ_p with ŵ_p ~ N(0, valueStd²) gives o = (1/√m) Σ_p a_p ŵ_p: the
// NTK parameterisation (as in f = m^{-1/2} Σ_r a_r σ(w_r·x)), whose gradient descent with a
// constant step η trained on (keys p, ŵ) is the lazy regime of the theorem. The model
// stores w, not ŵ, and has no per-parameter scale, so the reparameterisation is carried
// out in the initialisation and the learning rate:
//   - 'ntk':   keys ~ N(0, keyStd²); values ~ N(0, m·valueStd²) (i.e. √m·ŵ);
//              plain gradient descent with step η on the keys and η·m on the values.
//              (GD on ŵ with step η is GD on w = √m·ŵ with step η·m, because
//              ∂ℓ/∂ŵ = √m·∂ℓ/∂w and Δw = √m·Δŵ.) Relative movement is the same in w or ŵ.
//   - 'naive': keys ~ N(0, keyStd²); values ~ N(0, valueStd²) (the engine's prefix init);
//              plain gradient descent with step η on both: the standard parameterisation.
// Both use plain full-batch-per-step gradient descent (the theorem's optimiser), no
// momentum, no weight decay, no clipping, a constant step, and the same sequence of
// training batches for every m (same seed), so curves differ only through m and the
// parameterisation. The update θ ← θ − η·∇θ is one matmul per tensor with the existing
// kernel (C += −η·G·I_d, batched over heads); no kernel or model change is needed.
// Without a base model one is pretrained first (common.ts), and only the prefix trains.
//
// Expected (and what the experiment is for: measure, do not assume): 'ntk' relative
// movement falls like m^{-1/2} and its curves bunch together as m grows; 'naive' curves
// drift with m (a longer prefix dilutes the input and, with gradients ~1/m, learns slower).
// Measured (1 layer, C = 32, base pretrained 150 steps on sort, task reverse, 30 steps,
// η = 3, m = 8 … 2048): 'ntk' relMove slope −0.46, final val loss 3.2-3.9 at every m;
// 'naive' val loss rises with m from 3.7 to 5.6 (its relMove slope was also ≈ −0.47 there,
// while on a random base with small steps it is ≈ −0.9). η is model-dependent: 3 suits a
// pretrained base (30 left the lazy regime, relMove ≈ 1 at small m); a random base needs ~10-100.
import { type ExperimentBase, type BaseInfo, type ExperimentEnv, type ModelSettings, type Schema, buildModel, checkModelSettings, controlFor, DEFAULT_MODEL_SETTINGS, finite, MODEL_SCHEMA, resolveSettings, setupBase } from './common';
import { fitPowerLaw } from './stats';
import type { Gpu, Tensor } from '../gpu/runtime';
import { matmul } from '../kernels/matmul';
import type { GptGpu } from '../model/gpt';
import { BatchBuffers, evaluate, validationSeed } from '../train/trainer';
import { Rng } from '../util/rng';

export type Scaling = 'ntk' | 'naive';
export const SCALINGS: readonly Scaling[] = ['ntk', 'naive'];

export interface NtkRegimeConfig extends ModelSettings {
  /** Prefix lengths. */
  ms: number[];
  scalings: Scaling[];
  /** Gradient-descent steps per run. */
  steps: number;
  /** The constant step η (keys; values get η·m under NTK scaling). */
  lr: number;
  /** Standard deviation of the prefix keys at init. */
  keyStd: number;
  /** Standard deviation of the values at init (times √m under NTK scaling). */
  valueStd: number;
  /** At most this many [step, loss] pairs per curve (evenly spaced; first and last kept). */
  curvePoints: number;
}

export const DEFAULT_NTK_REGIME_CONFIG: Readonly<NtkRegimeConfig> = Object.freeze({
  ...DEFAULT_MODEL_SETTINGS,
  ms: [8, 32, 128, 512, 2048, 8192],
  scalings: [...SCALINGS],
  steps: 100,
  lr: 3,
  keyStd: 1,
  valueStd: 1,
  curvePoints: 100,
} satisfies NtkRegimeConfig);

export const NTK_REGIME_SCHEMA: Schema<NtkRegimeConfig> = {
  ...MODEL_SCHEMA,
  ms: { kind: 'intList', min: 1, max: 65536, help: 'prefix lengths' },
  scalings: { kind: 'enumList', choices: SCALINGS, help: 'parameterisations' },
  steps: { kind: 'int', min: 1, max: 1_000_000, help: 'gradient-descent steps per run' },
  lr: { kind: 'float', min: 1e-9, max: 1e3, help: 'gradient-descent step η' },
  keyStd: { kind: 'float', min: 0, max: 100, help: 'prefix key init std' },
  valueStd: { kind: 'float', min: 1e-6, max: 100, help: 'prefix value init std (before √m)' },
  curvePoints: { kind: 'int', min: 2, max: 100_000, help: 'points kept per loss curve' },
};

export function resolveNtkRegimeConfig(partial: Partial<NtkRegimeConfig> = {}): NtkRegimeConfig {
  const c = resolveSettings('ntk-regime', NTK_REGIME_SCHEMA, DEFAULT_NTK_REGIME_CONFIG as NtkRegimeConfig, partial);
  checkModelSettings('ntk-regime', c);
  c.ms.sort((a, b) => a - b);
  return c;
}

export interface NtkRegimePoint {
  scaling: Scaling;
  m: number;
  /** Training loss before step s (s = 0: at init), [s, loss] pairs; the last pair is after the final step. */
  curve: [number, number | null][];
  initialLoss: number | null;
  finalTrainLoss: number | null;
  /** Validation loss after training (the trainer's validation batches). */
  valLoss: number | null;
  /** ‖θ_T − θ_0‖ / ‖θ_0‖ over all prefix keys and values of every layer. */
  relMove: number | null;
  relMoveKeys: number | null;
  relMoveValues: number | null;
  /** Mean prefix mass β on the validation batches after training. */
  prefixMass: number | null;
  /** Steps actually run; 'diverged' when the loss stopped being finite. */
  steps: number;
  state: 'done' | 'diverged';
  /** Learning rates used: keys, values. */
  lrKeys: number;
  lrValues: number;
  /** Init std used: keys, values. */
  keyStd: number;
  valueStd: number;
}

export interface NtkRegimeFit {
  scaling: Scaling;
  /** Exponent of relMove ∝ m^slope (NTK theory: −1/2). */
  slope: number | null;
  r2: number | null;
  n: number;
}

export interface NtkRegimeResult {
  experiment: 'ntk-regime';
  config: NtkRegimeConfig;
  task: string;
  base: BaseInfo;
  points: NtkRegimePoint[];
  fits: NtkRegimeFit[];
  aborted: boolean;
}

/** The scaled initialisation and per-tensor learning rates (see the header). */
export function scalingOf(s: Scaling, m: number, c: Pick<NtkRegimeConfig, 'lr' | 'keyStd' | 'valueStd'>) {
  return s === 'ntk'
    ? { keyStd: c.keyStd, valueStd: c.valueStd * Math.sqrt(m), lrKeys: c.lr, lrValues: c.lr * m }
    : { keyStd: c.keyStd, valueStd: c.valueStd, lrKeys: c.lr, lrValues: c.lr };
}

/** θ ← θ − lr·g for a prefix tensor [H, m, d], as C += (−lr)·G·I per head. */
function sgdUpdate(gpu: Gpu, param: Tensor, grad: Tensor, eye: Tensor, H: number, m: number, d: number, lr: number) {
  matmul(gpu, grad, eye, param, { M: m, K: d, N: d, batch: H, strideA: m * d, strideB: 0, strideC: m * d, alpha: -lr, accumulate: true });
}

/** Evenly spaced indices 0..n−1 (first and last included), at most k of them. */
function keepSteps(n: number, k: number): Set<number> {
  const out = new Set<number>();
  if (n <= k) for (let i = 0; i < n; i++) out.add(i);
  else for (let j = 0; j < k; j++) out.add(Math.round((j * (n - 1)) / (k - 1)));
  return out;
}

async function prefixValues(model: GptGpu, kind: 'key' | 'value'): Promise<Float32Array[]> {
  const names = model.trainable.map((s) => s.name).filter((n) => n.endsWith(`prefix.${kind}`));
  const got = await model.readParams(names);
  return names.map((n) => got.get(n)!);
}

/** Σ (a − b)² and Σ b² over lists of arrays, in float64. */
function sqDiffAndNorm(after: Float32Array[], before: Float32Array[]): [number, number] {
  let diff = 0;
  let norm = 0;
  for (let t = 0; t < before.length; t++) {
    const a = after[t];
    const b = before[t];
    for (let i = 0; i < b.length; i++) {
      diff += (a[i] - b[i]) ** 2;
      norm += b[i] * b[i];
    }
  }
  return [diff, norm];
}

export async function runNtkRegime(env: ExperimentEnv<NtkRegimePoint>, config: Partial<NtkRegimeConfig> = {}, base?: ExperimentBase): Promise<NtkRegimeResult> {
  const c = resolveNtkRegimeConfig(config);
  const control = controlFor(env.signal);
  const { gpu } = env;
  const pretrainSteps = base ? 0 : c.pretrainSteps;
  const total = pretrainSteps + c.scalings.length * c.ms.length * c.steps;
  let done = 0;
  const progress = (msg: string) => env.onProgress?.(Math.min(done, total), total, msg);
  progress(pretrainSteps ? `pretraining the base on ${c.pretrainTask}` : 'preparing');
  const setup = await setupBase('ntk-regime', env, c, base, {
    pretrain: true, control,
    progress: (s) => { done = s; progress(`pretraining the base on ${c.pretrainTask}: step ${s}/${pretrainSteps}`); },
  });
  done = pretrainSteps;
  const { H, T, B } = { H: setup.modelConfig.nHead, T: setup.T, B: c.batch };
  const d = setup.modelConfig.nEmbd / H;
  const eyeData = new Float32Array(d * d);
  for (let i = 0; i < d; i++) eyeData[i * d + i] = 1;
  const eye = gpu.tensor([d, d], eyeData, 'identity');
  const points: NtkRegimePoint[] = [];
  const adapterSeed = (c.seed * 7919 + 29) >>> 0;
  const valSeed = validationSeed(c.seed); // the trainer's validation batches
  const keep = keepSteps(c.steps + 1, c.curvePoints);

  try {
    outer: for (const scaling of c.scalings) {
      for (const m of c.ms) {
        if (control.isStopped) break outer;
        const sc = scalingOf(scaling, m, c);
        const label = `${scaling} m=${m}`;
        // The engine's prefix init is N(0, 1): rescale to the chosen stds (same draws for
        // both scalings, so they differ only by the factor).
        const model = buildModel(gpu, setup, { method: 'prefix', prefixLength: m }, adapterSeed, (name, v) => {
          const f = name.endsWith('prefix.key') ? sc.keyStd : name.endsWith('prefix.value') ? sc.valueStd : 1;
          for (let i = 0; i < v.length; i++) v[i] *= f;
        });
        const buf = new BatchBuffers(gpu, B, T);
        try {
          const k0 = await prefixValues(model, 'key');
          const v0 = await prefixValues(model, 'value');
          const rng = new Rng(c.seed); // the same training batches for every run
          const curve: [number, number | null][] = [];
          let state: 'done' | 'diverged' = 'done';
          let stepsRun = 0;
          let initialLoss = NaN;
          let lastLoss = NaN;
          for (let s = 0; s <= c.steps; s++) {
            if (control.isStopped) break;
            const b = setup.task.nextBatch('train', B, T, rng);
            buf.upload(b.inputs, b.targets);
            model.forward(buf.tokens, buf.targets, B, T);
            if (s < c.steps) {
              model.backward();
              for (const spec of model.trainable) {
                const lr = spec.name.endsWith('prefix.value') ? sc.lrValues : sc.lrKeys;
                sgdUpdate(gpu, model.params.get(spec.name)!, model.grads.get(spec.name)!, eye, H, m, d, lr);
              }
            }
            const [loss] = await gpu.read(model.stats, 1);
            if (s === 0) initialLoss = loss;
            lastLoss = loss;
            if (keep.has(s)) curve.push([s, finite(loss)]);
            if (!Number.isFinite(loss)) {
              state = 'diverged';
              if (!keep.has(s)) curve.push([s, null]);
              break;
            }
            if (s < c.steps) {
              stepsRun = s + 1;
              done++;
              progress(`${label}: step ${s + 1}/${c.steps}`);
            }
          }
          if (control.isStopped) break outer; // an unfinished run is not a point
          const k1 = await prefixValues(model, 'key');
          const v1 = await prefixValues(model, 'value');
          const [dk, nk] = sqDiffAndNorm(k1, k0);
          const [dv, nv] = sqDiffAndNorm(v1, v0);
          const ev = state === 'done' ? await evaluate(gpu, model, setup.task, buf, c.evalBatches, valSeed) : null;
          const point: NtkRegimePoint = {
            scaling, m, curve, initialLoss: finite(initialLoss), finalTrainLoss: finite(lastLoss), valLoss: finite(ev?.loss),
            relMove: finite(Math.sqrt((dk + dv) / (nk + nv))), relMoveKeys: finite(Math.sqrt(dk / nk)), relMoveValues: finite(Math.sqrt(dv / nv)),
            prefixMass: finite(ev?.prefixMass), steps: stepsRun, state, ...sc,
          };
          if (state === 'diverged') done += c.steps - stepsRun;
          points.push(point);
          env.onPoint?.(point);
        } finally {
          buf.release();
          model.destroy();
        }
      }
    }
  } finally {
    gpu.release(eye);
  }
  const fits: NtkRegimeFit[] = c.scalings.map((scaling) => {
    const ps = points.filter((p) => p.scaling === scaling && p.state === 'done' && p.relMove !== null);
    const f = fitPowerLaw(ps.map((p) => p.m), ps.map((p) => p.relMove!));
    return { scaling, slope: finite(f.slope), r2: finite(f.r2), n: f.n };
  });
  progress(control.isStopped ? 'stopped' : 'done');
  return { experiment: 'ntk-regime', config: c, task: setup.task.name, base: setup.info, points, fits, aborted: control.isStopped };
}
