/// <reference lib="webworker" />
// The engine worker: owns the GPU device, the base model and at most one training run.
// The page talks to it only through the messages in protocol.ts, so a long GPU step never
// blocks the UI thread, and a lost device takes down only this worker's state.
import { createBrowserGpu } from '../../gpu/browser';
import { describeAdapter } from '../../gpu/device';
import { GpuError } from '../../gpu/errors';
import type { Gpu } from '../../gpu/runtime';
import { createTask, fetchReader, isSyntheticName, TextTask, type Task } from '../../data';
import type { GptGpu } from '../../model/gpt';
import { countParams } from '../../model/params';
import { buildAdaptedModel } from '../../train/adapt';
import type { RunConfig } from '../../train/config';
import { RunControl } from '../../train/control';
import { train } from '../../train/trainer';
import { createExchange } from '../exchange/worker';
import { createExperiments } from '../experiments/worker';
import { forgetChosenBase, keepChosenBase, loadBaseModel, syntheticFor, type BaseModel } from './base';
import { memoryBudget, runFit } from '../sizing';
import { createOpenBase } from './openBase';
import { createPretrain } from './pretrain';
import type { FromWorker, ToWorker, UserText } from './protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (m: FromWorker) => scope.postMessage(m);

const publicBase = import.meta.env.BASE_URL;
const readText = fetchReader(publicBase);
async function readBytes(path: string): Promise<Uint8Array | null> {
  const res = await fetch(publicBase + path);
  // The dev server answers a missing file with index.html (200, text/html).
  if (!res.ok || (res.headers.get('content-type') ?? '').includes('text/html')) return null;
  return new Uint8Array(await res.arrayBuffer());
}

let gpu: Gpu | null = null;
let gpuPromise: Promise<Gpu> | null = null;
let base: Promise<BaseModel> | null = null;
let current: { runId: string; control: RunControl; model?: GptGpu } | null = null;
/** Parsed tasks by name and seed (encoding a corpus takes a moment; runs reuse it). */
const taskCache = new Map<string, Task>();

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The device, acquired on first use and again after a loss. */
function ensureGpu(): Promise<Gpu> {
  if (gpu && !gpu.lostError) return Promise.resolve(gpu);
  if (!gpuPromise) {
    gpuPromise = createBrowserGpu({
      onLost: (err) => {
        gpu = null;
        gpuPromise = null;
        post({ type: 'device-lost', message: err.message });
      },
    }).then(
      (g) => {
        gpu = g;
        post({ type: 'adapter', report: g.report, description: describeAdapter(g.report) });
        return g;
      },
      (e: unknown) => {
        gpuPromise = null;
        throw e;
      },
    );
  }
  return gpuPromise;
}

function ensureBase(g: Gpu): Promise<BaseModel> {
  if (!base) {
    base = loadBaseModel(g, { readText, readBytes, onProgress: (message, fraction) => post({ type: 'base-progress', message, fraction }) }).then(
      (b) => {
        post({ type: 'base-ready', info: b.info });
        return b;
      },
      (e: unknown) => {
        base = null;
        post({ type: 'base-failed', message: errorMessage(e) });
        throw e;
      },
    );
  }
  return base;
}

async function buildTask(c: RunConfig, T: number, b: BaseModel, userText?: UserText): Promise<{ task: Task; label: string }> {
  if (c.task.startsWith('file:')) {
    if (!userText) throw new Error(`the task '${c.task}' is your own file: pick or drop it again (files are not kept between visits)`);
    return { task: new TextTask(userText.name, userText.text, { tokenizer: b.tokenizer, seed: c.seed, seqLen: T }), label: userText.name };
  }
  // Keyed by base too: a task is encoded with its base's tokenizer.
  const key = `${b.info.fingerprint ?? ''}|${c.task}|${c.seed}`;
  let task = taskCache.get(key);
  if (!task) {
    if (isSyntheticName(c.task)) {
      task = syntheticFor(c.task, b);
    } else {
      task = await createTask(c.task, { readText, tokenizer: b.tokenizer, seed: c.seed });
    }
    taskCache.set(key, task);
  }
  if (T > task.maxSeqLen) throw new Error(`sequence length ${T} is longer than the task '${c.task}' allows (at most ${task.maxSeqLen})`);
  return { task, label: c.task };
}

/** Runs start strictly one after another; a start that was overtaken while it waited is dropped. */
let chain: Promise<void> = Promise.resolve();
let latestRunId: string | null = null;

function enqueueRun(runId: string, config: RunConfig, userText?: UserText) {
  latestRunId = runId;
  current?.control.stop();
  chain = chain.then(() => {
    if (runId !== latestRunId) {
      post({ type: 'run-failed', runId, message: 'replaced by a newer run before it started' });
      return;
    }
    return startRun(runId, config, userText);
  });
}

/** The user chose a base (imported, or pretrained with the panel): it replaces the current
 *  one now, and is kept in this browser so a reload brings it back. */
async function replaceBase(b: BaseModel, onKeep?: (done: number, total: number) => void): Promise<void> {
  base = Promise.resolve(b);
  taskCache.clear(); // tasks are encoded with the old base's vocabulary
  b.info = { ...b.info, chosen: true };
  const failed = await keepChosenBase(b, onKeep);
  if (failed) b.info = { ...b.info, notKept: failed };
}

/** "Use the default base model": forget the chosen base and load the shipped (or default
 *  pretrained) one, after whatever is queued. */
function resetBase() {
  chain = chain.then(async () => {
    await forgetChosenBase();
    base = null;
    taskCache.clear();
    try {
      await ensureBase(await ensureGpu());
    } catch {
      // ensureBase posted base-failed; ensureGpu failures were reported by init
    }
  });
}

/** Export and import (exchange/worker.ts): it keeps finished runs' trained tensors, and its
 *  imports wait in the run queue. */
const exchange = createExchange({
  post,
  ensureGpu,
  ensureBase,
  currentBase: () => base,
  buildTask,
  prefixMassByHead,
  replaceBase,
  enqueue: (job) => {
    chain = chain.then(job);
  },
});

/** Experiments (approximation error, NTK regime) and text generation (experiments/worker.ts):
 *  jobs in the run queue; generation uses the finished runs' weights the exchange keeps. */
const experiments = createExperiments({
  post,
  ensureGpu,
  ensureBase,
  readText,
  trainedRun: (runId) => exchange.trainedRun(runId),
  enqueue: (job) => {
    chain = chain.then(job);
  },
});

/** "Pretrain a new base model" (pretrain.ts): a job in the run queue; on success it replaces
 *  the base model as an imported one does. */
const pretrainer = createPretrain({
  post,
  ensureGpu,
  currentBase: () => base,
  replaceBase,
  readText,
  enqueue: (job) => {
    chain = chain.then(job);
  },
});

/** "Open a Hugging Face GPT-2 folder" (openBase.ts): not queued (it reads files, no GPU
 *  work), so progress shows at once; on success it replaces the base as an import does. */
const opener = createOpenBase({ post, currentBase: () => base, replaceBase });

/** Mean prefix mass β per layer (rows) and head (columns) over the last forward pass (the
 *  final validation batch): the share of attention the prefix (or NTK term) takes. */
async function prefixMassByHead(g: Gpu, model: GptGpu): Promise<number[][] | null> {
  const a = model.adapter;
  if (!((a.method === 'prefix' && a.prefixLength > 0) || a.method === 'ntk')) return null;
  const out: number[][] = [];
  for (const t of model.prefixMassTensors()) {
    if (!t) return null; // no forward pass yet
    const [B, H, T] = t.shape;
    const v = await g.read(t);
    const row = new Array<number>(H).fill(0);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) row[h] += v[(b * H + h) * T + i];
    out.push(row.map((x) => x / (B * T)));
  }
  return out.length ? out : null;
}

async function startRun(runId: string, config: RunConfig, userText?: UserText) {
  const control = new RunControl();
  current = { runId, control };
  let model: GptGpu | null = null;
  let g: Gpu | null = null;
  try {
    g = await ensureGpu();
    const b = await ensureBase(g);
    // The page refuses runs that will not fit; a run that reaches here anyway (a link, a
    // base that changed meanwhile) is refused with the same numbers before any upload.
    const fit = runFit(b.config, config, g.report, memoryBudget(g.report, (navigator as { deviceMemory?: number }).deviceMemory));
    if (fit.problem) throw new Error(fit.problem);
    // The trainer caps T at the model's context and the task's longest window; say so up front.
    const T = Math.min(config.seqLen, b.config.contextLength);
    const { task, label } = await buildTask(config, T, b, userText);
    // The same model the CLI's `adapt` builds (seeded adapter init, prefix from text).
    model = await buildAdaptedModel(g, b, config, task);
    if (current?.runId === runId) current.model = model;
    post({ type: 'run-started', runId, trainableParams: model.trainableCount(), totalParams: countParams(model.specs), seqLen: Math.min(T, task.maxSeqLen), taskLabel: label });
    const summary = await train({ gpu: g, model, task, config, runId, control, onEvent: (event) => post({ type: 'event', event }) });
    const mass = summary.state === 'error' || g.lostError ? null : await prefixMassByHead(g, model);
    // Kept for "Export adapter" before the page hears the run finished (a failed read only
    // means this run cannot be exported).
    if ((summary.state === 'done' || summary.state === 'stopped') && !g.lostError) await exchange.recordRun(runId, model, b).catch(() => undefined);
    post({ type: 'run-finished', summary, mass });
  } catch (e) {
    // A lost device can surface as a failed map or submit before device.lost resolves:
    // give it a moment so the user reads "device lost", not a buffer-mapping error.
    const lost = g ? g.lostError ?? (await Promise.race([g.lost, new Promise<null>((r) => setTimeout(() => r(null), 1000))])) : null;
    post({ type: 'run-failed', runId, message: lost ? lost.message : errorMessage(e) });
  } finally {
    if (model && g && !g.lostError) model.destroy();
    current = null;
  }
}

async function init() {
  try {
    const g = await ensureGpu();
    await ensureBase(g);
  } catch (e) {
    if (e instanceof GpuError && (e.kind === 'no-webgpu' || e.kind === 'no-adapter' || e.kind === 'device-request')) {
      post({ type: 'unavailable', kind: e.kind, message: e.message });
    }
    // Base failures were already reported by ensureBase.
  }
}

scope.onmessage = (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'init':
      void init();
      break;
    case 'start':
      enqueueRun(msg.runId, msg.config, msg.userText);
      break;
    case 'control':
      if (current?.runId === msg.runId) current.control[msg.action]();
      break;
    case 'lose-device':
      gpu?.device.destroy();
      break;
    case 'poison-run': {
      const wte = current?.model?.params.get('wte');
      if (gpu && wte && !gpu.lostError) gpu.fill(wte, Number.NaN);
      break;
    }
    case 'export-adapter':
    case 'export-base':
    case 'import-adapter':
    case 'import-base':
      exchange.handle(msg);
      break;
    case 'experiment-start':
    case 'experiment-stop':
    case 'generate':
      experiments.handle(msg);
      break;
    case 'pretrain-base':
      pretrainer.start(msg.settings);
      break;
    case 'pretrain-stop':
      pretrainer.stop();
      break;
    case 'reset-base':
      resetBase();
      break;
    case 'open-base':
      opener.open(msg);
      break;
    case 'cancel-open-base':
      opener.cancel(msg.requestId);
      break;
  }
};
