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
import { exportBase, importAdapter, importBase } from '../../io/checkpoint';
import { baseIdentity, evaluateOn, exportTrained, prefixMassByHead, validationSeed } from '../../lab/run';
import { runSeqLen } from '../../lab/task';
import type { GptGpu } from '../../model/gpt';
import { type AdapterSpec, baseParamSpecs, countParams } from '../../model/params';
import { assembleModel } from '../../train/adapt';
import type { RunConfig } from '../../train/config';
import { describeBase, type WorkerBase } from '../worker/worker_base';
import type { FromWorker, UserText } from '../worker/protocol';
import type { ExchangeToWorker } from './messages';

export interface ExchangeDeps {
  post: (m: FromWorker) => void;
  ensureGpu: () => Promise<Gpu>;
  ensureBase: (g: Gpu) => Promise<WorkerBase>;
  /** The base model now loaded, or null when none is (not yet, or it failed). */
  currentBase: () => Promise<WorkerBase> | null;
  /** The task for these settings on this base (src/lab/task.ts through the worker's cache). */
  buildTask: (c: RunConfig, b: WorkerBase, userText?: UserText) => Promise<{ task: Task; label: string }>;
  /** Makes `b` the base (and keeps it for the next visit; b.info says if that failed). */
  replaceBase: (b: WorkerBase) => Promise<void>;
  /** Runs `job` after the run (or import) before it, as runs themselves are queued. */
  enqueue: (job: () => Promise<void>) => void;
}

interface TrainedRun {
  adapter: AdapterSpec;
  params: Map<string, Float32Array>;
  base: WorkerBase;
  bytes: number;
}

/** Trained tensors kept for export; the oldest runs are dropped beyond this. */
const KEEP_BYTES = 64 * 2 ** 20;

// The validation batches' seed is the trainer's (one function, in train/trainer.ts), so an
// imported adapter is scored on exactly the batches a run with the same settings was.
export { validationSeed };

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function createExchange(d: ExchangeDeps) {
  const trained = new Map<string, TrainedRun>();

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

  /** At the end of a run (done or stopped): its trained tensors, kept for export. */
  function keepRun(runId: string, adapter: AdapterSpec, params: Map<string, Float32Array>, base: WorkerBase) {
    keep(runId, { adapter, params, base });
  }

  const fail = (requestId: number, e: unknown) => d.post({ type: 'exchange-failed', requestId, message: messageOf(e) });

  async function exportRun(requestId: number, runId: string) {
    try {
      const t = trained.get(runId);
      if (!t) throw new Error('the trained weights of this run are not in memory (only runs finished in this visit are kept, up to 64 MB): export right after a run');
      const { kind, files } = await exportTrained(t.base, t.adapter, t.params);
      d.post({ type: 'exported', requestId, kind, files, fingerprint: t.base.fingerprint });
    } catch (e) {
      fail(requestId, e);
    }
  }

  async function exportCurrentBase(requestId: number) {
    try {
      const b = await d.ensureBase(await d.ensureGpu());
      d.post({ type: 'exported', requestId, kind: 'base', files: await exportBase(b.config, b, b.params), fingerprint: b.fingerprint });
    } catch (e) {
      fail(requestId, e);
    }
  }

  async function importAdapterJob(m: Extract<ExchangeToWorker, { type: 'import-adapter' }>) {
    let g: Gpu | null = null;
    let model: GptGpu | null = null;
    try {
      g = await d.ensureGpu();
      const b = await d.ensureBase(g);
      // Refuses another base's adapter, wrong shapes, damaged files: before any GPU work.
      const parsed = importAdapter(m.files, baseIdentity(b));
      const c = m.config;
      const { task, label } = await d.buildTask(c, b, m.userText);
      // The trainer's sequence length for these settings.
      const T = runSeqLen(c, b.config, task);
      if (T < task.minSeqLen) throw new Error(`task '${task.name}' needs sequences of at least ${task.minSeqLen} tokens, but these settings give ${T}; raise the sequence length`);
      model = assembleModel(g, b, parsed.adapter, parsed.params);
      const r = await evaluateOn(g, model, task, { batch: c.batch, T, batches: c.evalBatches, seed: validationSeed(c.seed) });
      const mass = await prefixMassByHead(g, model);
      keep(m.runId, { adapter: parsed.adapter, params: parsed.params, base: b });
      d.post({
        type: 'imported-adapter', requestId: m.requestId, runId: m.runId, adapter: parsed.adapter, fingerprint: b.fingerprint,
        trainableParams: model.trainableCount(), totalParams: countParams(model.specs), seqLen: T, taskLabel: label,
        valLoss: r.loss, valAccuracy: r.accuracy, prefixMass: r.prefixMass, mass,
      });
    } catch (e) {
      fail(m.requestId, g?.lostError ?? e);
    } finally {
      if (g && !g.lostError) model?.destroy();
    }
  }

  async function importBaseJob(m: Extract<ExchangeToWorker, { type: 'import-base' }>) {
    try {
      const t0 = performance.now();
      const imp = await importBase(m.files);
      let previous: string | null = null;
      const cur = d.currentBase();
      if (cur) previous = await cur.then((b) => b.fingerprint, () => null);
      const specs = baseParamSpecs(imp.config);
      const b: WorkerBase = {
        config: imp.config,
        tokenizer: imp.vocab,
        vocab: imp.vocab,
        params: imp.params,
        fingerprint: imp.fingerprint,
        info: { source: 'files', modelConfig: imp.config, params: countParams(specs), vocabSize: imp.vocab.size, importedFrom: m.fileName, ms: performance.now() - t0 },
      };
      describeBase(b, m.fileName);
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

  return { handle, keepRun, trainedRun };
}
