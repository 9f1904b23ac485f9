// Shared pieces of the training experiments (loss vs m, cost vs m, the NTK regime): the
// environment they run in, settings validation with messages that name the setting, the
// task and base model every run of an experiment starts from, and JSON-safe numbers.
//
// Base model: an experiment adapts one base model. When the caller gives none, a tiny GPT
// is pretrained here with full fine-tuning on `pretrainTask` for `pretrainSteps` steps
// (0: the seeded random initialisation initParams is used as is); the result says which.
// The target task is built on the base's vocabulary, so both tasks must share characters
// (reverse, sort and copy-rule do; add has digits).
import { createTask, type ReadText, type Task, type Tokenizer } from '../data';
import type { Gpu } from '../gpu/runtime';
import { controlFor } from '../lab/run';
import { pretrain } from '../lab/pretrain';
import type { BaseModel } from '../model/base';
import type { GptGpu } from '../model/gpt';
import { initParams } from '../model/init';
import { type AdapterSpec, type ModelConfig, adapterParamSpecs, baseParamSpecs, validateConfig } from '../model/params';
import { defaultConfig, type FeatureMapName, type KParam, type Method, type RunConfig } from '../train/config';
import { assembleModel } from '../train/adapt';
import type { RunControl } from '../train/control';

/** Where an experiment runs and how it reports. */
export interface ExperimentEnv<P> {
  gpu: Gpu;
  /** Overall progress (units are training steps) with a short description of the current run. */
  onProgress?(done: number, total: number, message: string): void;
  /** Each point as soon as it is finished (the UI plots them live). */
  onPoint?(point: P): void;
  /** Stops between steps; the result keeps every finished point and says `aborted`. */
  signal?: AbortSignal;
  /** Reads public/ files: needed only when a task or the pretraining task is a text corpus. */
  readText?: ReadText;
}

/** The base model an experiment adapts: its config and tensors, and the tokenizer tasks
 *  encode with when it has one (else the task's own vocabulary, which must fit in
 *  config.vocabSize). */
export type ExperimentBase = Pick<BaseModel, 'config' | 'params'> & Partial<Pick<BaseModel, 'tokenizer' | 'vocab'>>;

// -- settings -----------------------------------------------------------------------------

export type Setting =
  | { kind: 'int' | 'float'; min: number; max: number; help: string }
  | { kind: 'enum'; choices: readonly string[]; help: string }
  | { kind: 'string'; help: string }
  | { kind: 'intList'; min: number; max: number; help: string }
  | { kind: 'enumList'; choices: readonly string[]; help: string };

export type Schema<T> = { [K in keyof T]: Setting };

/**
 * Fills defaults and validates every setting; throws one Error naming every bad setting
 * (and unknown ones), prefixed with the experiment's name. Returns a fresh object.
 */
export function resolveSettings<T extends object>(experiment: string, schema: Schema<T>, defaults: T, partial: Partial<T> = {}): T {
  const errs: string[] = [];
  const out = { ...defaults } as Record<string, unknown>;
  for (const [k, v] of Object.entries(partial)) {
    if (v === undefined) continue;
    if (!(k in schema)) {
      errs.push(`unknown setting '${k}'`);
      continue;
    }
    out[k] = Array.isArray(v) ? [...v] : v;
  }
  for (const [k, s] of Object.entries(schema) as [string, Setting][]) {
    const v = out[k];
    switch (s.kind) {
      case 'int':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < s.min || v > s.max) errs.push(`${k} must be an integer in [${s.min}, ${s.max}] (got ${show(v)})`);
        break;
      case 'float':
        if (typeof v !== 'number' || !Number.isFinite(v) || v < s.min || v > s.max) errs.push(`${k} must be a number in [${s.min}, ${s.max}] (got ${show(v)})`);
        break;
      case 'enum':
        if (typeof v !== 'string' || !s.choices.includes(v)) errs.push(`${k} must be one of ${s.choices.join(', ')} (got ${show(v)})`);
        break;
      case 'string':
        if (typeof v !== 'string' || v.length === 0) errs.push(`${k} must be a non-empty string (got ${show(v)})`);
        break;
      case 'intList':
        if (!Array.isArray(v) || v.length === 0) errs.push(`${k} must be a non-empty list of integers (got ${show(v)})`);
        else if (v.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < s.min || x > s.max)) errs.push(`${k}: every entry must be an integer in [${s.min}, ${s.max}] (got ${show(v)})`);
        else if (new Set(v).size !== v.length) errs.push(`${k}: an entry is listed twice (got ${show(v)})`);
        break;
      case 'enumList':
        if (!Array.isArray(v) || v.length === 0) errs.push(`${k} must be a non-empty list of ${s.choices.join(', ')} (got ${show(v)})`);
        else if (v.some((x) => typeof x !== 'string' || !s.choices.includes(x))) errs.push(`${k}: entries must be among ${s.choices.join(', ')} (got ${show(v)})`);
        else if (new Set(v).size !== v.length) errs.push(`${k}: an entry is listed twice (got ${show(v)})`);
        break;
    }
  }
  if (errs.length) throw new Error(`${experiment} settings: ${errs.join('; ')}`);
  return out as T;
}

function show(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

// -- the model and task settings every experiment shares ------------------------------------

export interface ModelSettings {
  /** The task adapted to: synthetic (reverse, sort, copy-rule, add) or a corpus (moby-dick, sotu). */
  task: string;
  /** What the base model is pretrained on when none is given (shares the task's characters). */
  pretrainTask: string;
  /** Full fine-tuning steps of the base model when none is given (0: random init, no pretraining). */
  pretrainSteps: number;
  pretrainLr: number;
  /** Longest input string of reverse / sort / copy-rule (and digits of add are unaffected). */
  taskMaxLen: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  /** Sequence length T (and the pretrained model's context). */
  seqLen: number;
  batch: number;
  /** Validation batches per evaluation. */
  evalBatches: number;
  seed: number;
}

export const MODEL_SCHEMA: Schema<ModelSettings> = {
  task: { kind: 'string', help: 'task adapted to' },
  pretrainTask: { kind: 'string', help: 'task the base model is pretrained on when none is given' },
  pretrainSteps: { kind: 'int', min: 0, max: 1_000_000, help: 'pretraining steps (0: random base)' },
  pretrainLr: { kind: 'float', min: 1e-6, max: 1, help: 'pretraining learning rate (AdamW)' },
  taskMaxLen: { kind: 'int', min: 2, max: 64, help: 'longest input string of the synthetic tasks' },
  nLayer: { kind: 'int', min: 1, max: 48, help: 'layers of the pretrained base' },
  nHead: { kind: 'int', min: 1, max: 64, help: 'heads of the pretrained base' },
  nEmbd: { kind: 'int', min: 1, max: 4096, help: 'width of the pretrained base' },
  seqLen: { kind: 'int', min: 2, max: 4096, help: 'sequence length' },
  batch: { kind: 'int', min: 1, max: 512, help: 'batch size' },
  evalBatches: { kind: 'int', min: 1, max: 1000, help: 'validation batches' },
  seed: { kind: 'int', min: 0, max: 2 ** 31 - 1, help: 'random seed' },
};

/** Sized for minutes on a laptop GPU. */
export const DEFAULT_MODEL_SETTINGS: Readonly<ModelSettings> = Object.freeze({
  task: 'reverse',
  pretrainTask: 'sort',
  pretrainSteps: 300,
  pretrainLr: 3e-3,
  taskMaxLen: 6,
  nLayer: 2,
  nHead: 4,
  nEmbd: 64,
  seqLen: 16,
  batch: 16,
  evalBatches: 4,
  seed: 1,
});

/** Settings that only make sense together (called after resolveSettings). */
export function checkModelSettings(experiment: string, s: ModelSettings) {
  if (s.nEmbd % s.nHead !== 0) throw new Error(`${experiment} settings: nEmbd ${s.nEmbd} must be divisible by nHead ${s.nHead}`);
  if (s.nEmbd / s.nHead > 128) throw new Error(`${experiment} settings: the head dimension nEmbd/nHead = ${s.nEmbd / s.nHead} exceeds the attention kernels' 128`);
}

export interface BaseInfo {
  /** 'given': the caller's model; 'pretrained': full fine-tuning here; 'init': seeded random weights. */
  source: 'given' | 'pretrained' | 'init';
  config: ModelConfig;
  pretrainTask: string | null;
  pretrainSteps: number;
  /** Validation loss of the pretraining run on its own task (null unless pretrained here). */
  pretrainValLoss: number | null;
  params: number;
}

export interface Setup {
  task: Task;
  modelConfig: ModelConfig;
  baseParams: Map<string, Float32Array>;
  info: BaseInfo;
  /** Sequence length the runs use. */
  T: number;
}

function taskOptions(s: ModelSettings, env: ExperimentEnv<unknown>, tokenizer?: Tokenizer) {
  return { readText: env.readText, tokenizer, seed: s.seed, seqLen: s.seqLen, synthetic: { maxLen: s.taskMaxLen, minLen: 2 } };
}

function checkSeqLen(experiment: string, task: Task, s: ModelSettings, context: number) {
  if (s.seqLen < task.minSeqLen) {
    throw new Error(`${experiment} settings: seqLen ${s.seqLen} is shorter than task '${task.name}' needs (${task.minSeqLen}; lower taskMaxLen or raise seqLen)`);
  }
  if (s.seqLen > context) throw new Error(`${experiment} settings: seqLen ${s.seqLen} exceeds the base model's context ${context}`);
}

/**
 * The task and the base model. `pretrain: false` skips pretraining (costs do not depend on
 * the weights). Progress of pretraining is reported through `progress(stepsDone)`.
 */
export async function setupBase(
  experiment: string,
  env: ExperimentEnv<unknown>,
  s: ModelSettings,
  base: ExperimentBase | undefined,
  opts: { pretrain: boolean; control: RunControl; progress?: (steps: number) => void },
): Promise<Setup> {
  if (base) {
    const err = validateConfig(base.config);
    if (err) throw new Error(`${experiment}: base model config: ${err}`);
    const task = await createTask(s.task, taskOptions(s, env, base.tokenizer ?? base.vocab ?? undefined));
    if (task.tokenizer.size > base.config.vocabSize) {
      throw new Error(`${experiment}: task '${s.task}' has ${task.tokenizer.size} tokens but the base model's vocabulary has ${base.config.vocabSize}; pass the base's vocab`);
    }
    checkSeqLen(experiment, task, s, base.config.contextLength);
    for (const p of baseParamSpecs(base.config)) {
      const v = base.params.get(p.name);
      if (!v || v.length !== p.numel) throw new Error(`${experiment}: base model parameter ${p.name} ${v ? `has ${v.length} values, expected ${p.numel}` : 'is missing'}`);
    }
    const info: BaseInfo = { source: 'given', config: { ...base.config }, pretrainTask: null, pretrainSteps: 0, pretrainValLoss: null, params: countOf(base.config) };
    return { task, modelConfig: base.config, baseParams: base.params, info, T: s.seqLen };
  }
  const doPretrain = opts.pretrain && s.pretrainSteps > 0;
  const preTask = doPretrain ? await createTask(s.pretrainTask, taskOptions(s, env)) : null;
  const task = await createTask(s.task, taskOptions(s, env, preTask?.tokenizer));
  const modelConfig: ModelConfig = { vocabSize: task.tokenizer.size, contextLength: s.seqLen, nLayer: s.nLayer, nHead: s.nHead, nEmbd: s.nEmbd };
  checkSeqLen(experiment, task, s, modelConfig.contextLength);
  if (preTask) checkSeqLen(experiment, preTask, s, modelConfig.contextLength);
  let baseParams = initParams(baseParamSpecs(modelConfig), s.seed);
  const info: BaseInfo = { source: 'init', config: modelConfig, pretrainTask: null, pretrainSteps: 0, pretrainValLoss: null, params: countOf(modelConfig) };
  if (preTask) {
    const rc = runConfig(s, { method: 'full', task: s.pretrainTask, steps: s.pretrainSteps, lr: s.pretrainLr, warmup: Math.min(20, Math.floor(s.pretrainSteps / 10)) });
    const pre = await pretrain({
      gpu: env.gpu, config: modelConfig, task: preTask, run: rc, runId: 'pretrain', control: opts.control,
      onEvent: (e) => { if (e.type === 'step') opts.progress?.(e.step); },
    });
    const sum = pre.summary;
    if (sum.state === 'diverged' || sum.state === 'error' || !pre.params) throw new Error(`${experiment}: pretraining the base model failed: ${sum.message ?? sum.state}`);
    baseParams = pre.params;
    Object.assign(info, { source: 'pretrained', pretrainTask: s.pretrainTask, pretrainSteps: s.pretrainSteps, pretrainValLoss: finite(sum.finalValLoss) });
  }
  return { task, modelConfig, baseParams, info, T: s.seqLen };
}

function countOf(c: ModelConfig): number {
  return baseParamSpecs(c).reduce((a, p) => a + p.numel, 0);
}

/** A GPU model with the base weights and a freshly initialised adapter (seeded). `tweak`
 *  may rewrite adapter tensors before upload (e.g. a scaled prefix initialisation). */
export function buildModel(
  gpu: Gpu, setup: Setup, adapter: AdapterSpec, seed: number,
  tweak?: (name: string, values: Float32Array) => void,
): GptGpu {
  const values = initParams(adapterParamSpecs(setup.modelConfig, adapter), seed);
  if (tweak) for (const [k, v] of values) tweak(k, v);
  return assembleModel(gpu, { config: setup.modelConfig, params: setup.baseParams }, adapter, values);
}

/** The trainer's RunConfig from the shared settings plus per-run overrides. */
export function runConfig(s: ModelSettings, over: Partial<RunConfig> & { method: Method; steps: number; lr: number }): RunConfig {
  return {
    ...defaultConfig(),
    task: s.task,
    batch: s.batch,
    seqLen: s.seqLen,
    evalBatches: s.evalBatches,
    evalEvery: over.steps,
    warmup: 0,
    minLrRatio: 0.1,
    weightDecay: 0,
    gradClip: 1,
    seed: s.seed,
    ...over,
  };
}

export interface NtkSettings {
  featureMap: FeatureMapName;
  kParam: KParam;
  ntkRank: number;
}

export const NTK_SCHEMA: Schema<NtkSettings> = {
  featureMap: { kind: 'enum', choices: ['elu1', 'taylor2'], help: 'NTK-Attention feature map' },
  kParam: { kind: 'enum', choices: ['abs', 'exp', 'softplus', 'identity'], help: "NTK-Attention's k parameterisation" },
  ntkRank: { kind: 'int', min: 0, max: 4096, help: 'rank of Z (0 = full)' },
};

/** A RunControl that stops when the signal aborts (and at once if it already has): the lab's. */
export { controlFor };

// -- JSON-safe numbers ----------------------------------------------------------------------

/** A finite number, or null (NaN and ±Infinity do not survive JSON). */
export function finite(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

/** Median of a non-empty list (float64). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
