// The engine worker's side of export and import. The worker keeps each finished run's
// trained tensors (read back at the end of the run) so "Export adapter" needs no GPU, and
// knows the base model's identity (config + fingerprint) that adapters record and are
// checked against. Importing an adapter evaluates it on the current task with the same
// validation batches a run of these settings uses; importing a base model replaces the
// worker's base. Anything refused is reported with the CheckpointError's message, and then
// nothing has changed. engine.worker.ts passes in what it owns (device, base, task cache,
// run queue) so this file holds no global state of its own.
import type { Gpu } from '../../gpu/runtime';
import type { Task } from '../../data';
import { jsonBytes } from '../../io/bundle';
import { ADAPTER_CONFIG_FILE, type BaseIdentity, baseFingerprint, exportAdapter, exportBase, importAdapter, importBase } from '../../io/checkpoint';
import { GptGpu } from '../../model/gpt';
import { type AdapterSpec, baseParamSpecs, countParams } from '../../model/params';
import type { RunConfig } from '../../train/config';
import { BatchBuffers, evaluate } from '../../train/trainer';
import { describeBase, type BaseModel } from '../worker/base';
import type { FromWorker, UserText } from '../worker/protocol';
import type { ExchangeToWorker } from './messages';

export interface ExchangeDeps {
  post: (m: FromWorker) => void;
  ensureGpu: () => Promise<Gpu>;
  ensureBase: (g: Gpu) => Promise<BaseModel>;
  /** The base model now loaded, or null when none is (not yet, or it failed). */
  currentBase: () => Promise<BaseModel> | null;
  buildTask: (c: RunConfig, T: number, b: BaseModel, userText?: UserText) => Promise<{ task: Task; label: string }>;
  prefixMassByHead: (g: Gpu, model: GptGpu) => Promise<number[][] | null>;
  /** Makes `b` the base of every later run (and clears what depended on the old one). */
  /** Makes `b` the base (and keeps it for the next visit; b.info says if that failed). */
  replaceBase: (b: BaseModel) => Promise<void>;
  /** Runs `job` after the run (or import) before it, as runs themselves are queued. */
  enqueue: (job: () => Promise<void>) => void;
}

interface TrainedRun {
  adapter: AdapterSpec;
  params: Map<string, Float32Array>;
  base: BaseModel;
  bytes: number;
}

/** Trained tensors kept for export; the oldest runs are dropped beyond this. */
const KEEP_BYTES = 64 * 2 ** 20;

/** The validation batches' seed: the trainer's (train/trainer.ts), so an imported adapter is
 *  scored on exactly the batches a run with the same settings was scored on. */
export function validationSeed(seed: number): number {
  return (seed ^ 0x5eed5eed) >>> 0;
}

/** adapter_config.json with base_model_name_or_path set to `name` where the export left it
 *  null (io/checkpoint.ts writes it once BaseIdentity carries the name; until then, here). */
export function withBaseName(files: Map<string, Uint8Array>, name: string | undefined): Map<string, Uint8Array> {
  const raw = files.get(ADAPTER_CONFIG_FILE);
  if (!name || !raw) return files;
  const j = JSON.parse(new TextDecoder().decode(raw)) as Record<string, unknown>;
  if (j.base_model_name_or_path != null) return files;
  const out = new Map(files);
  out.set(ADAPTER_CONFIG_FILE, jsonBytes({ ...j, base_model_name_or_path: name }));
  return out;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function createExchange(d: ExchangeDeps) {
  const trained = new Map<string, TrainedRun>();
  const fingerprints = new WeakMap<BaseModel, Promise<string>>();

  /** The base's identity, with the model's name for adapter_config.json's
   *  base_model_name_or_path (a Hugging Face base: "gpt2", so PEFT finds the model). */
  function identity(b: BaseModel): Promise<BaseIdentity & { name?: string }> {
    let fp = fingerprints.get(b);
    if (!fp) fingerprints.set(b, (fp = b.info.fingerprint ? Promise.resolve(b.info.fingerprint) : baseFingerprint(b.config, b.params)));
    const name = b.info.format === 'huggingface' ? b.info.summary?.name : undefined;
    return fp.then((fingerprint) => ({ config: b.config, fingerprint, ...(name ? { name } : {}) }));
  }

  /** A base-model folder needs the character vocabulary (exportBase writes vocab.json); a
   *  GPT-2 opened from its files is the user's own folder already. */
  function vocabOf(b: BaseModel, what: string) {
    if (!b.vocab) throw new Error(`${what}: the base model ${b.info.summary?.name ?? ''} uses byte-level BPE, and only character-level bases export as a folder here (you already have its files)`);
    return b.vocab;
  }

  function keep(runId: string, t: Omit<TrainedRun, 'bytes'>) {
    let bytes = 0;
    for (const v of t.params.values()) bytes += v.byteLength;
    trained.set(runId, { ...t, bytes });
    let total = 0;
    for (const r of trained.values()) total += r.bytes;
    for (const [id, r] of trained) {
      if (total <= KEEP_BYTES || id === runId) break;
      trained.delete(id);
      total -= r.bytes;
    }
  }

  /** At the end of a run (done or stopped): reads its trainable tensors back for export. */
  async function recordRun(runId: string, model: GptGpu, base: BaseModel) {
    const params = await model.readParams(model.trainable.map((s) => s.name));
    keep(runId, { adapter: model.adapter, params, base });
  }

  const fail = (requestId: number, e: unknown) => d.post({ type: 'exchange-failed', requestId, message: messageOf(e) });

  async function exportRun(requestId: number, runId: string) {
    try {
      const t = trained.get(runId);
      if (!t) throw new Error('the trained weights of this run are not in memory (only runs finished in this visit are kept, up to 64 MB): export right after a run');
      const id = await identity(t.base);
      const files =
        t.adapter.method === 'full' ? await exportBase(t.base.config, vocabOf(t.base, 'this full fine-tuning run cannot be exported'), new Map([...t.base.params, ...t.params])) : withBaseName(exportAdapter(id, t.adapter, t.params), id.name);
      d.post({ type: 'exported', requestId, kind: t.adapter.method === 'full' ? 'base' : 'adapter', files, fingerprint: id.fingerprint });
    } catch (e) {
      fail(requestId, e);
    }
  }

  async function exportCurrentBase(requestId: number) {
    try {
      const b = await d.ensureBase(await d.ensureGpu());
      const id = await identity(b);
      d.post({ type: 'exported', requestId, kind: 'base', files: await exportBase(b.config, vocabOf(b, 'the base model cannot be exported'), b.params), fingerprint: id.fingerprint });
    } catch (e) {
      fail(requestId, e);
    }
  }

  async function importAdapterJob(m: Extract<ExchangeToWorker, { type: 'import-adapter' }>) {
    let g: Gpu | null = null;
    let model: GptGpu | null = null;
    let buf: BatchBuffers | null = null;
    try {
      g = await d.ensureGpu();
      const b = await d.ensureBase(g);
      const id = await identity(b);
      // Refuses another base's adapter, wrong shapes, damaged files: before any GPU work.
      const parsed = importAdapter(m.files, id);
      const c = m.config;
      const { task, label } = await d.buildTask(c, Math.min(c.seqLen, b.config.contextLength), b, m.userText);
      // The trainer's sequence length for these settings (train/trainer.ts).
      const T = Math.min(c.seqLen, b.config.contextLength, task.maxSeqLen);
      if (T < task.minSeqLen) throw new Error(`task '${task.name}' needs sequences of at least ${task.minSeqLen} tokens, but these settings give ${T}; raise the sequence length`);
      model = new GptGpu(g, b.config, parsed.adapter);
      const values = new Map(b.params);
      for (const [k, v] of parsed.params) values.set(k, v);
      model.load(values);
      buf = new BatchBuffers(g, c.batch, T);
      const r = await evaluate(g, model, task, buf, c.evalBatches, validationSeed(c.seed));
      const mass = await d.prefixMassByHead(g, model);
      keep(m.runId, { adapter: parsed.adapter, params: parsed.params, base: b });
      d.post({
        type: 'imported-adapter', requestId: m.requestId, runId: m.runId, adapter: parsed.adapter, fingerprint: id.fingerprint,
        trainableParams: model.trainableCount(), totalParams: countParams(model.specs), seqLen: T, taskLabel: label,
        valLoss: r.loss, valAccuracy: r.accuracy, prefixMass: r.prefixMass, mass,
      });
    } catch (e) {
      fail(m.requestId, g?.lostError ?? e);
    } finally {
      if (g && !g.lostError) {
        model?.destroy();
        buf?.release();
      }
    }
  }

  async function importBaseJob(m: Extract<ExchangeToWorker, { type: 'import-base' }>) {
    try {
      const t0 = performance.now();
      const imp = await importBase(m.files);
      let previous: string | null = null;
      const cur = d.currentBase();
      if (cur) previous = await cur.then((b) => identity(b).then((i) => i.fingerprint), () => null);
      const specs = baseParamSpecs(imp.config);
      const b: BaseModel = {
        config: imp.config,
        tokenizer: imp.vocab,
        vocab: imp.vocab,
        params: imp.params,
        info: { source: 'files', modelConfig: imp.config, params: countParams(specs), vocabSize: imp.vocab.size, fingerprint: imp.fingerprint, importedFrom: m.fileName, ms: performance.now() - t0 },
      };
      describeBase(b, m.fileName);
      fingerprints.set(b, Promise.resolve(imp.fingerprint));
      await d.replaceBase(b);
      d.post({ type: 'base-ready', info: b.info });
      d.post({ type: 'imported-base', requestId: m.requestId, info: b.info, fingerprint: imp.fingerprint, previousFingerprint: previous });
    } catch (e) {
      fail(m.requestId, e);
    }
  }

  function handle(m: ExchangeToWorker) {
    switch (m.type) {
      case 'export-adapter':
        void exportRun(m.requestId, m.runId);
        break;
      case 'export-base':
        void exportCurrentBase(m.requestId);
        break;
      // Imports wait for the run before them: one model on the device at a time.
      case 'import-adapter':
        d.enqueue(() => importAdapterJob(m));
        break;
      case 'import-base':
        d.enqueue(() => importBaseJob(m));
        break;
    }
  }

  /** A kept run's trained tensors (text generation uses them too), or null. */
  const trainedRun = (runId: string): TrainedRun | null => trained.get(runId) ?? null;

  return { handle, recordRun, trainedRun };
}
