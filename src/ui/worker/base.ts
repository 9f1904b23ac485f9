// The base model every adaptation run starts from, behind one function: loadBaseModel().
//
// Today: shipped files under public/models/base/ when they exist (config.json with the
// model config and vocabulary, model.safetensors with the base tensors by their GPT-2
// names), else a short pretraining run on the Moby Dick corpus right here, sized so that
// SwiftShader (CPU) finishes it in well under a minute. When the real checkpoint ships,
// only this file changes; the worker and the UI only see BaseModel.
import type { Gpu } from '../../gpu/runtime';
import { createTask, Vocab, type ReadText, type SyntheticSymbols, loadCorpus } from '../../data';
import { readSafetensors, toFloat32 } from '../../io/safetensors';
import { GptGpu } from '../../model/gpt';
import { initParams } from '../../model/init';
import { baseParamSpecs, countParams, validateConfig, type ModelConfig } from '../../model/params';
import { defaultConfig, type RunConfig } from '../../train/config';
import { train } from '../../train/trainer';
import type { BaseInfo } from './protocol';

export interface BaseModel {
  config: ModelConfig;
  vocab: Vocab;
  /** Host copies of the base tensors: every run (and a new device after a loss) uploads these. */
  params: Map<string, Float32Array>;
  info: BaseInfo;
}

export interface BaseLoadOptions {
  readText: ReadText;
  /** Fetches a binary file relative to public/, or null when it is not there. */
  readBytes?: (path: string) => Promise<Uint8Array | null>;
  onProgress?: (message: string, fraction: number) => void;
}

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

/** Characters the synthetic tasks need besides letters and digits (their default symbols). */
const SYNTHETIC_SYMBOLS = '>+=.';

/** Synthetic-task format characters that exist in a base vocabulary (a shipped model's may
 *  lack '>' or '+'); null when no candidate fits. */
export function symbolsFor(vocab: Vocab): SyntheticSymbols | null {
  const pick = (cands: string) => [...cands].find((c) => vocab.has(c)) ?? null;
  const sep = pick('>:|;-');
  const plus = pick('+&,');
  const equals = pick('=:;');
  const end = pick('.!;');
  if (!sep || !plus || !equals || !end) return null;
  return { sep, plus, equals, end };
}

export async function loadBaseModel(gpu: Gpu, opts: BaseLoadOptions): Promise<BaseModel> {
  const shipped = opts.readBytes ? await loadShipped(opts) : null;
  return shipped ?? pretrain(gpu, opts);
}

/** public/models/base/{config.json, model.safetensors}, or null when absent. Present but
 *  malformed files are an error (silently pretraining instead would hide a broken deploy). */
async function loadShipped(opts: BaseLoadOptions): Promise<BaseModel | null> {
  const t0 = performance.now();
  let raw: string;
  try {
    raw = await opts.readText('models/base/config.json');
  } catch {
    return null;
  }
  let json: { model?: ModelConfig; vocab?: unknown };
  try {
    json = JSON.parse(raw);
  } catch {
    return null; // the dev server answers a missing file with index.html
  }
  if (!json.model || !json.vocab) throw new Error('models/base/config.json must be {model: ModelConfig, vocab: {chars}}');
  const bad = validateConfig(json.model);
  if (bad) throw new Error(`models/base/config.json: ${bad}`);
  const vocab = Vocab.fromJSON(json.vocab);
  if (vocab.size !== json.model.vocabSize) throw new Error(`models/base/config.json: vocabulary has ${vocab.size} entries, model.vocabSize is ${json.model.vocabSize}`);
  opts.onProgress?.('loading the base model', 0.5);
  const bytes = await opts.readBytes!('models/base/model.safetensors');
  if (!bytes) throw new Error('models/base/config.json exists but models/base/model.safetensors does not');
  const file = readSafetensors(bytes);
  const params = new Map<string, Float32Array>();
  for (const s of baseParamSpecs(json.model)) {
    const t = file.tensors[s.name];
    if (!t) throw new Error(`models/base/model.safetensors has no tensor ${s.name}`);
    if (t.shape.join(',') !== s.shape.join(',')) throw new Error(`models/base/model.safetensors: ${s.name} is [${t.shape}], expected [${s.shape}]`);
    params.set(s.name, toFloat32(t));
  }
  const config = json.model;
  return { config, vocab, params, info: { source: 'files', modelConfig: config, params: countParams(baseParamSpecs(config)), vocabSize: vocab.size, ms: performance.now() - t0 } };
}

// ---------------------------------------------------------------- pretrained-base cache
// A pretrained base is kept in IndexedDB, keyed by everything it depends on (model and run
// settings, vocabulary, corpus, adapter), so a reload does not pretrain again. Any failure
// (no IndexedDB, private mode, quota) just means pretraining runs.

const DB_NAME = 'prefix-lab';
const STORE = 'base-models';

interface CachedBase {
  config: ModelConfig;
  chars: string[];
  params: [string, Float32Array][];
  info: BaseInfo;
}

function openDb(): Promise<IDBDatabase | null> {
  if (typeof indexedDB === 'undefined') return Promise.resolve(null);
  return new Promise((resolve) => {
    try {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => resolve(null);
      req.onblocked = () => resolve(null);
    } catch {
      resolve(null);
    }
  });
}

async function cacheGet(key: string): Promise<CachedBase | null> {
  const db = await openDb();
  if (!db) return null;
  try {
    return await new Promise<CachedBase | null>((resolve) => {
      try {
        const req = db.transaction(STORE, 'readonly').objectStore(STORE).get(key);
        req.onsuccess = () => resolve((req.result as CachedBase | undefined) ?? null);
        req.onerror = () => resolve(null);
      } catch {
        resolve(null);
      }
    });
  } finally {
    db.close();
  }
}

async function cachePut(key: string, value: CachedBase): Promise<void> {
  const db = await openDb();
  if (!db) return;
  await new Promise<void>((resolve) => {
    try {
      const tx = db.transaction(STORE, 'readwrite');
      tx.objectStore(STORE).put(value, key);
      tx.oncomplete = () => resolve();
      tx.onerror = () => resolve();
      tx.onabort = () => resolve();
    } catch {
      resolve();
    }
  });
  db.close();
}

async function pretrain(gpu: Gpu, opts: BaseLoadOptions): Promise<BaseModel> {
  const t0 = performance.now();
  opts.onProgress?.('loading the corpora', 0);
  // One vocabulary for every built-in task: both corpora plus the synthetic tasks' symbols.
  const moby = await loadCorpus('moby-dick', opts.readText);
  const sotu = await loadCorpus('sotu', opts.readText);
  const vocab = Vocab.fromTexts([moby.text, sotu.text, SYNTHETIC_SYMBOLS]);
  const config: ModelConfig = { vocabSize: vocab.size, ...PRETRAIN_MODEL };
  const run: RunConfig = { ...defaultConfig(), ...pretrainRun(gpu.report.isFallbackAdapter) };
  const r = gpu.report;
  const cacheKey = JSON.stringify({ v: 1, config, run, chars: vocab.chars.join(''), corpus: [moby.info.bytes, moby.info.chars], adapter: [r.vendor, r.architecture, r.device, r.description] });
  const hit = await cacheGet(cacheKey);
  if (hit && hit.params.length === baseParamSpecs(config).length) {
    return { config: hit.config, vocab: Vocab.fromJSON({ chars: hit.chars }), params: new Map(hit.params), info: { ...hit.info, cached: true, ms: performance.now() - t0 } };
  }
  const task = await createTask('moby-dick', { readText: opts.readText, vocab, seed: run.seed, seqLen: run.seqLen });
  const specs = baseParamSpecs(config);
  const model = new GptGpu(gpu, config, { method: 'full' });
  try {
    model.load(initParams(specs, run.seed));
    let last = NaN;
    const summary = await train({
      gpu, model, task, config: run, runId: 'base',
      onEvent: (e) => {
        if (e.type === 'status' && e.state === 'compiling') opts.onProgress?.('pretraining the base model on Moby Dick: compiling shaders (the first step takes longest)', 0);
        if (e.type !== 'step') return;
        last = e.trainLoss;
        opts.onProgress?.(`pretraining the base model on Moby Dick: step ${e.step}/${e.totalSteps}, loss ${e.trainLoss.toFixed(3)}`, e.step / e.totalSteps);
      },
    });
    if (summary.state !== 'done') throw new Error(`base pretraining ${summary.state}${summary.message ? `: ${summary.message}` : ''}`);
    const params = await model.readParams(specs.map((s) => s.name));
    const info: BaseInfo = { source: 'pretrained', modelConfig: config, params: countParams(specs), vocabSize: vocab.size, steps: run.steps, finalLoss: last, ms: performance.now() - t0 };
    await cachePut(cacheKey, { config, chars: [...vocab.chars], params: [...params], info });
    return { config, vocab, params, info };
  } finally {
    if (!gpu.lostError) model.destroy();
  }
}
