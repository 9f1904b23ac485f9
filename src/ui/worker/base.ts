// The base model every adaptation run starts from, behind one function: loadBaseModel().
//
// The shipped checkpoint in public/models/base/ (a Hugging Face GPT-2 folder, read by
// src/io/checkpoint.ts, fingerprint checked) when it is there; else a short pretraining run
// on the Moby Dick corpus right here, sized so that SwiftShader (CPU) finishes it in under a
// minute, and kept in IndexedDB so a reload does not redo it. A base the user opened from
// a picked folder (a Hugging Face GPT-2, byte-level BPE) is kept as its files in OPFS
// (persist/opfs.ts) and opened again from there. The worker and the UI only see BaseModel.
import type { Gpu } from '../../gpu/runtime';
import { Vocab, type ReadText, type Tokenizer, loadCorpus } from '../../data';
import { fileSource } from '../../io/byte_source';
import { BASE_CONFIG_FILE, BASE_WEIGHTS_FILE, baseFingerprint, type CheckpointFiles, importBase, VOCAB_FILE } from '../../io/checkpoint';
import type { BaseProgress, OpenBaseOptions } from '../../io/hf_gpt2';
import { folderFromPicked, type LabBase, openLabBase, summarise } from '../../lab/base';
import { pretrain } from '../../lab/pretrain';
import { SYNTHETIC_SYMBOLS, symbolsFor, syntheticFor, taskFor, taskIssuesFor } from '../../lab/task';
import { baseParamSpecs, countParams, type ModelConfig } from '../../model/params';
import { defaultConfig, type RunConfig } from '../../train/config';
import type { RunControl } from '../../train/control';
import { forgetKeptFiles, keepFiles, readKeptFiles } from '../persist/opfs';
import type { BaseInfo, BaseSummaryInfo } from './protocol';

export interface BaseModel {
  config: ModelConfig;
  /** What tasks and generation encode with: the character vocabulary or GPT-2's BPE. */
  tokenizer: Tokenizer;
  /** The character vocabulary when the base is character-level, else null (BPE). */
  vocab: Vocab | null;
  /** The model's name where it has one (a folder opened through src/lab: "gpt2"); adapters
   *  record it as base_model_name_or_path. */
  modelName?: string;
  /** The user's picked files it was opened from (kept as files in OPFS, not as floats). */
  picked?: { files: File[]; label: string };
  /** A BPE base's tokenizer files as read: exporting the base (or a full fine-tune of it)
   *  writes them beside the weights. */
  tokenizerFiles?: CheckpointFiles;
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

/** The model summary of a base (sizes, tokenizer, weight bytes). */
export function summaryOf(config: ModelConfig, tokenizer: Tokenizer, name: string, fingerprint: string): BaseSummaryInfo {
  const s = summarise({ config, tokenizer, modelName: name, fingerprint });
  return { name: s.name, parameters: s.parameters, layers: s.layers, heads: s.heads, width: s.width, headDim: s.headDim, context: s.context, vocabulary: s.vocabulary, tokenizer: s.tokenizer, tokenizerKind: tokenizer.kind, weightBytes: s.weightBytes };
}

// The synthetic tasks a base can run are the lab's (src/lab/task.ts); re-exported for the page's tests.
export { symbolsFor, syntheticFor, taskIssuesFor };

/** Fills in what the page shows about any base: the summary and the tasks it cannot run. */
export function describeBase(b: BaseModel, name: string): BaseModel {
  const fp = b.info.fingerprint ?? '';
  b.info = { ...b.info, summary: summaryOf(b.config, b.tokenizer, name, fp), taskIssues: taskIssuesFor(b) };
  return b;
}

const MB = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;

/** "123 MB of 498 MB, 45/149 tensors" */
export function describeLoad(p: BaseProgress): string {
  return `${MB(p.bytesDone)} of ${MB(p.bytesTotal)}, ${p.tensorsDone}/${p.tensorsTotal} tensors`;
}

export interface OpenPickedOptions {
  onProgress?: (p: BaseProgress) => void;
  signal?: AbortSignal;
  /** Refuse, as soon as config.json is read, a model that cannot fit this device. */
  fit?: OpenBaseOptions['fit'];
}

/**
 * A base from files the user picked or dropped (a GPT-2 folder's files, or one .zip), read
 * through File.slice so only the float32 weights are held. Throws the loader's
 * CheckpointError (its message is what the page shows); nothing else changes.
 */
export async function openPickedBase(files: File[], label: string, opts: OpenPickedOptions = {}): Promise<BaseModel> {
  const t0 = performance.now();
  const folder = await folderFromPicked(files.map((f) => ({ name: f.name, source: fileSource(f) })));
  const lab = await openLabBase(folder, label, { onProgress: opts.onProgress, signal: opts.signal, fit: opts.fit, folderName: label.replace(/\.zip$/i, '') });
  return baseModelFromLab(lab, { source: 'files', openedFrom: label, format: lab.format, ms: performance.now() - t0 }, { files, label });
}

/** A base opened through src/lab/base.ts as the worker keeps it (described for the page). */
export function baseModelFromLab(lab: LabBase, info: Omit<BaseInfo, 'modelConfig' | 'params' | 'vocabSize' | 'fingerprint'>, picked?: BaseModel['picked']): BaseModel {
  const b: BaseModel = {
    config: lab.config,
    tokenizer: lab.tokenizer,
    vocab: lab.vocab,
    params: lab.params,
    modelName: lab.modelName,
    tokenizerFiles: lab.tokenizerFiles,
    ...(picked ? { picked } : {}),
    info: { ...info, modelConfig: lab.config, params: countParams(baseParamSpecs(lab.config)), vocabSize: lab.config.vocabSize, fingerprint: lab.fingerprint },
  };
  return describeBase(b, lab.modelName);
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

/** Where the shipped base model lives, relative to public/. */
export const SHIPPED_DIR = 'models/base';

/** The base a run starts from: the one the user chose on an earlier visit (imported or
 *  pretrained in the page) if this browser kept it, else the shipped one, else a short
 *  pretraining run. */
export async function loadBaseModel(gpu: Gpu, opts: BaseLoadOptions): Promise<BaseModel> {
  const opened = await loadKeptFiles(opts);
  if (opened) return opened;
  const kept = await loadKeptBase();
  if (kept) return kept;
  const shipped = opts.readBytes ? await loadShipped(opts) : null;
  return shipped ?? pretrainBase(gpu, opts, defaultPretrainSpec(gpu.report.isFallbackAdapter));
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

/** The shipped base model: public/models/base/ as a Hugging Face GPT-2 folder (config.json,
 *  model.safetensors, vocab.json; training.json says how it was made), or null when there
 *  is none. Present but broken files are an error: silently pretraining instead would hide
 *  a broken deploy. */
async function loadShipped(opts: BaseLoadOptions): Promise<BaseModel | null> {
  const t0 = performance.now();
  const read = opts.readBytes!;
  const config = await read(`${SHIPPED_DIR}/${BASE_CONFIG_FILE}`);
  if (!config) return null;
  opts.onProgress?.('loading the base model', 0.2);
  const [weights, vocab, training] = await Promise.all([
    read(`${SHIPPED_DIR}/${BASE_WEIGHTS_FILE}`),
    read(`${SHIPPED_DIR}/${VOCAB_FILE}`),
    read(`${SHIPPED_DIR}/training.json`),
  ]);
  if (!weights || !vocab) throw new Error(`${SHIPPED_DIR}/${BASE_CONFIG_FILE} is there but ${!weights ? BASE_WEIGHTS_FILE : VOCAB_FILE} is missing`);
  const b = await importBase(new Map([[BASE_CONFIG_FILE, config], [BASE_WEIGHTS_FILE, weights], [VOCAB_FILE, vocab]]));
  if (b.recordedFingerprint && b.recordedFingerprint !== b.fingerprint) {
    throw new Error(`${SHIPPED_DIR}/${BASE_WEIGHTS_FILE} does not match the fingerprint its ${BASE_CONFIG_FILE} recorded (${b.fingerprint} vs ${b.recordedFingerprint})`);
  }
  // training.json is informative only (steps and final validation loss of the pretraining run).
  let steps: number | undefined;
  let finalLoss: number | undefined;
  if (training) {
    try {
      const t = JSON.parse(new TextDecoder().decode(training)) as { settings?: { steps?: unknown }; result?: { finalValLoss?: unknown } };
      if (typeof t.settings?.steps === 'number') steps = t.settings.steps;
      if (typeof t.result?.finalValLoss === 'number') finalLoss = t.result.finalValLoss;
    } catch {
      // not JSON: ignore, the weights themselves were checked above
    }
  }
  return describeBase({
    config: b.config, tokenizer: b.vocab, vocab: b.vocab, params: b.params,
    info: { source: 'files', modelConfig: b.config, params: countParams(baseParamSpecs(b.config)), vocabSize: b.vocab.size, steps, finalLoss, fingerprint: b.fingerprint, ms: performance.now() - t0 },
  }, 'the shipped base (models/base)');
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

/** Stores `value` under `key` (null: delete it); resolves to null, or why it failed. */
async function cachePut(key: string, value: CachedBase | null): Promise<string | null> {
  const db = await openDb();
  if (!db) return 'this browser offers no IndexedDB here';
  const failed = await new Promise<string | null>((resolve) => {
    try {
      const tx = db.transaction(STORE, 'readwrite');
      if (value) tx.objectStore(STORE).put(value, key);
      else tx.objectStore(STORE).delete(key);
      tx.oncomplete = () => resolve(null);
      tx.onerror = () => resolve(tx.error?.message ?? 'IndexedDB refused the write');
      tx.onabort = () => resolve(tx.error?.message ?? 'IndexedDB aborted the write (storage full?)');
    } catch (e) {
      resolve(e instanceof Error ? e.message : String(e));
    }
  });
  db.close();
  return failed;
}

// ---------------------------------------------------------------- the user's chosen base
// An imported or explicitly pretrained base replaces the default one; it is kept under one
// key of the same store so that a reload brings it back (and "Use the default base model"
// forgets it).

const KEPT_KEY = 'chosen-base';

/** Keeps `b` as the base to restore on the next visit; resolves to null, or why it could not.
 *  A base opened from picked files is kept as those files (OPFS), any other as its tensors
 *  (IndexedDB); only one is kept, so choosing one forgets the other. */
export async function keepChosenBase(b: BaseModel, onProgress?: (done: number, total: number) => void): Promise<string | null> {
  if (b.picked) {
    await cachePut(KEPT_KEY, null);
    return keepFiles(b.info.fingerprint ?? 'base', b.picked.label, b.picked.files, onProgress);
  }
  await forgetKeptFiles();
  if (!b.vocab) return 'only a character-level base can be kept as tensors';
  return cachePut(KEPT_KEY, { config: b.config, chars: [...b.vocab.chars], params: [...b.params], info: b.info });
}

/** Forgets the kept base: the next load takes the shipped (or default pretrained) one. */
export async function forgetChosenBase(): Promise<void> {
  await forgetKeptFiles();
  await cachePut(KEPT_KEY, null);
}

/** The base opened from picked files on an earlier visit, opened again from its OPFS copy;
 *  null when none is kept. A copy that no longer opens is forgotten (it must not block the
 *  default base), and the page is told why. */
async function loadKeptFiles(opts: BaseLoadOptions): Promise<BaseModel | null> {
  const kept = await readKeptFiles();
  if (!kept) return null;
  const label = kept.manifest.label;
  try {
    const b = await openPickedBase(kept.files, label, {
      onProgress: (p) => opts.onProgress?.(`opening ${label}, kept in this browser: ${describeLoad(p)}`, p.bytesTotal ? p.bytesDone / p.bytesTotal : 0),
    });
    b.info = { ...b.info, chosen: true, kept: true };
    return b;
  } catch (e) {
    await forgetKeptFiles();
    opts.onProgress?.(`the copy of ${label} kept in this browser no longer opens (${e instanceof Error ? e.message : String(e)}); using the default base model`, 0);
    return null;
  }
}

/** The kept base, or null when there is none or it does not fit its own config (then it is
 *  forgotten: a half-written or older record must not block the default base). */
async function loadKeptBase(): Promise<BaseModel | null> {
  const t0 = performance.now();
  const hit = await cacheGet(KEPT_KEY);
  if (!hit) return null;
  let kept: { params: Map<string, Float32Array>; vocab: Vocab } | null = null;
  try {
    const params = new Map(hit.params);
    const vocab = Vocab.fromJSON({ chars: hit.chars });
    const fits = baseParamSpecs(hit.config).every((sp) => params.get(sp.name)?.length === sp.numel) && vocab.size === hit.config.vocabSize;
    if (fits) kept = { params, vocab };
  } catch {
    // a record this version cannot read: forgotten below
  }
  if (!kept) {
    await forgetChosenBase();
    return null;
  }
  // Described again: a record from an older version has no summary.
  const name = hit.info.summary?.name ?? hit.info.importedFrom ?? 'the chosen base';
  return describeBase({ config: hit.config, tokenizer: kept.vocab, vocab: kept.vocab, params: kept.params, info: { ...hit.info, chosen: true, kept: true, ms: performance.now() - t0 } }, name);
}

/** Pretrains a base model from scratch (full training, GPT-2 initialisation) on a built-in
 *  corpus; throws when the run does not finish (stopped, diverged, failed). */
export async function pretrainBase(gpu: Gpu, opts: BaseLoadOptions, spec: PretrainSpec): Promise<BaseModel> {
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
  const hit = spec.cache ? await cacheGet(cacheKey) : null;
  if (hit && hit.params.length === baseParamSpecs(config).length) {
    const v = Vocab.fromJSON({ chars: hit.chars });
    return describeBase({ config: hit.config, tokenizer: v, vocab: v, params: new Map(hit.params), info: { ...hit.info, cached: true, ms: performance.now() - t0 } }, `pretrained on ${corpusName}`);
  }
  const task = await taskFor({ tokenizer: vocab, vocab, config }, run, { readText: opts.readText });
  const specs = baseParamSpecs(config);
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
  const info: BaseInfo = { source: 'pretrained', modelConfig: config, params: countParams(specs), vocabSize: vocab.size, steps: run.steps, finalLoss: last, corpus: corpusName, fingerprint, ms: performance.now() - t0 };
  if (spec.cache) await cachePut(cacheKey, { config, chars: [...vocab.chars], params: [...params], info });
  return describeBase({ config, tokenizer: vocab, vocab, params, info }, `pretrained on ${corpusName}`);
}
