// A base pretrained right here: full training from GPT-2 initialisation on a built-in corpus
// (the fallback when no base is shipped, sized so that SwiftShader on a CPU finishes in under
// a minute, or the user's own "Pretrain"), cached in IndexedDB by everything it depends on
// so that a reload does not pretrain again.
import { loadCorpus, Vocab } from '../../data';
import type { Gpu } from '../../gpu/runtime';
import { baseFingerprint } from '../../io/checkpoint';
import { pretrain } from '../../lab/pretrain';
import { SYNTHETIC_SYMBOLS, taskFor } from '../../lab/task';
import { baseParamSpecs, countParams, type ModelConfig } from '../../model/params';
import { defaultConfig, type RunConfig } from '../../train/config';
import type { RunControl } from '../../train/control';
import { baseFromStored, readStored, writeStored } from './base_store';
import type { BaseInfo } from './protocol';
import { type BaseLoadOptions, describeBase, type WorkerBase } from './worker_base';

/** The in-worker base model: tiny, so that CPU-only WebGPU can pretrain and adapt it. */
export const PRETRAIN_MODEL = { contextLength: 64, nLayer: 2, nHead: 2, nEmbd: 32 } as const;

/** Pretraining run (full training on Moby Dick). On a GPU: 300 steps of 16×64 tokens, a few
 *  seconds. On a software adapter (SwiftShader runs a step in ~0.5-1 s on a laptop CPU, and
 *  compiling the shaders takes longer still) a dozen small steps: enough to move the loss
 *  from ln(V) ≈ 4.5 towards 3.5 so adaptation has a trained model to start from. */
export function pretrainRun(software: boolean): Partial<RunConfig> {
  const common: Partial<RunConfig> = { method: 'full', task: 'moby-dick', lr: 1e-2, minLrRatio: 0.3, evalEvery: 1_000_000, evalBatches: 1, weightDecay: 0, seed: 1234 };
  return software ? { ...common, steps: 12, batch: 4, seqLen: 32, warmup: 2 } : { ...common, steps: 300, batch: 16, seqLen: 64, warmup: 20 };
}

/** What one pretraining run makes: the model's sizes (the vocabulary is always the built-in
 *  one) and the run's settings (run.task is the corpus). */
export interface PretrainSpec {
  model: Omit<ModelConfig, 'vocabSize'>;
  run: Partial<RunConfig>;
  /** Reuse and keep the result in IndexedDB (the automatic base; a user's explicit
   *  "Pretrain" always trains). */
  cache: boolean;
  /** Stop (the "Stop" button of the pretraining panel). */
  control?: RunControl;
  onStep?: (step: number, totalSteps: number, loss: number) => void;
}

/** The base pretrained here when no shipped files are there. */
export function defaultPretrainSpec(software: boolean): PretrainSpec {
  return { model: { ...PRETRAIN_MODEL }, run: pretrainRun(software), cache: true };
}

const CORPUS_NAMES: Record<string, string> = { 'moby-dick': 'Moby Dick', sotu: 'State of the Union addresses' };

/** Pretrains a base model from scratch (full training, GPT-2 initialisation) on a built-in
 *  corpus; throws when the run does not finish (stopped, diverged, failed). */
export async function pretrainBase(gpu: Gpu, opts: BaseLoadOptions, spec: PretrainSpec): Promise<WorkerBase> {
  const t0 = performance.now();
  opts.onProgress?.('loading the corpora', 0);
  // One vocabulary for every built-in task: both corpora plus the synthetic tasks' symbols.
  const moby = await loadCorpus('moby-dick', opts.readText);
  const sotu = await loadCorpus('sotu', opts.readText);
  const vocab = Vocab.fromTexts([moby.text, sotu.text, SYNTHETIC_SYMBOLS]);
  const config: ModelConfig = { vocabSize: vocab.size, ...spec.model };
  const run: RunConfig = { ...defaultConfig(), ...spec.run };
  const corpusName = CORPUS_NAMES[run.task] ?? run.task;
  const r = gpu.report;
  const cacheKey = JSON.stringify({ v: 2, config, run, chars: vocab.chars.join(''), corpus: [moby.info.bytes, moby.info.chars], adapter: [r.vendor, r.architecture, r.device, r.description] });
  const hit = spec.cache ? await readStored(cacheKey) : null;
  const cached = hit ? await baseFromStored(hit) : null;
  if (hit && cached) {
    return describeBase({ ...cached, tokenizer: cached.vocab, info: { ...hit.info, cached: true, ms: performance.now() - t0 } }, `pretrained on ${corpusName}`);
  }
  const task = await taskFor({ tokenizer: vocab, vocab, config }, run, { readText: opts.readText });
  let last = NaN;
  const { summary, params } = await pretrain({
    gpu, config, task, run, runId: 'base', control: spec.control,
    onEvent: (e) => {
      if (e.type === 'status' && e.state === 'compiling') opts.onProgress?.(`pretraining the base model on ${corpusName}: compiling shaders (the first step takes longest)`, 0);
      if (e.type !== 'step') return;
      last = e.trainLoss;
      spec.onStep?.(e.step, e.totalSteps, e.trainLoss);
      opts.onProgress?.(`pretraining the base model on ${corpusName}: step ${e.step}/${e.totalSteps}, loss ${e.trainLoss.toFixed(3)}`, e.step / e.totalSteps);
    },
  });
  if (summary.state !== 'done' || !params) throw new Error(`base pretraining ${summary.state}${summary.message ? `: ${summary.message}` : ''}`);
  // The fingerprint adapters record (and results name): a base pretrained here has one too.
  const fingerprint = await baseFingerprint(config, params);
  const info: BaseInfo = { source: 'pretrained', modelConfig: config, params: countParams(baseParamSpecs(config)), vocabSize: vocab.size, steps: run.steps, finalLoss: last, corpus: corpusName, fingerprint, ms: performance.now() - t0 };
  if (spec.cache) await writeStored(cacheKey, { config, chars: [...vocab.chars], params: [...params], info });
  return describeBase({ config, tokenizer: vocab, vocab, params, fingerprint, info }, `pretrained on ${corpusName}`);
}
