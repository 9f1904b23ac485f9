/// <reference lib="webworker" />
// The engine worker: owns the GPU device, the base model and at most one training run.
// The page talks to it only through the messages in protocol.ts, so a long GPU step never
// blocks the UI thread, and a lost device takes down only this worker's state.
import { createBrowserGpu } from '../../gpu/browser';
import { describeAdapter } from '../../gpu/device';
import { GpuError } from '../../gpu/errors';
import type { Gpu } from '../../gpu/runtime';
import { fetchReader } from '../../data';
import type { GptGpu } from '../../model/gpt';
import type { RunConfig } from '../../train/config';
import { RunControl } from '../../train/control';
import { createExchange } from '../exchange/worker';
import { createExperiments } from '../experiments/worker';
import { loadBaseModel } from './base';
import { forgetChosenBase, keepChosenBase } from './base_kept';
import type { WorkerBase } from './worker_base';
import { deviceBudgetHere } from '../sizing';
import { createOpenBase } from './openBase';
import { createPretrain } from './pretrain';
import { createRuns } from './runs';
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
let base: Promise<WorkerBase> | null = null;
let current: { runId: string; control: RunControl; model?: GptGpu } | null = null;

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

function ensureBase(g: Gpu): Promise<WorkerBase> {
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

/** Runs start strictly one after another; a start that was overtaken while it waited is dropped. */
let chain: Promise<void> = Promise.resolve();
let latestRunId: string | null = null;

function enqueueRun(runId: string, config: RunConfig, userText?: UserText) {
  latestRunId = runId;
  current?.control.stop();
  chain = chain.then(() => {
    if (runId !== latestRunId) {
      post({ type: 'run-failed', runId, message: 'replaced by a newer run before it started', replaced: true });
      return;
    }
    return startRun(runId, config, userText);
  });
}

/** The user chose a base (imported, or pretrained with the panel): it replaces the current
 *  one now, and is kept in this browser so a reload brings it back. */
async function replaceBase(b: WorkerBase, onKeep?: (done: number, total: number) => void): Promise<void> {
  base = Promise.resolve(b);
  runs.clearTasks(); // tasks are encoded with the old base's vocabulary
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
    runs.clearTasks();
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
  buildTask: (c, b, userText) => runs.buildTask(c, b, userText),
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
const opener = createOpenBase({
  post, currentBase: () => base, replaceBase,
  fitDevice: () => ensureGpu().then((g) => deviceBudgetHere(g.report), () => null),
});

/** The run job (runs.ts → src/lab/run.ts): this file keeps only which run is current, for
 *  the control and test-hook messages. */
const runs = createRuns({ post, ensureGpu, ensureBase, readText, keepRun: (...a) => exchange.keepRun(...a) });

async function startRun(runId: string, config: RunConfig, userText?: UserText) {
  const control = new RunControl();
  current = { runId, control };
  try {
    await runs.start(runId, config, userText, control, (s) => {
      if (current?.runId === runId) current.model = s.model;
    });
  } finally {
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
    // Test hooks (e2e, the dev server only): dead code in production builds.
    case 'lose-device':
      if (import.meta.env.DEV) gpu?.device.destroy();
      break;
    case 'poison-run': {
      const wte = import.meta.env.DEV ? current?.model?.params.get('wte') : undefined;
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
    default: {
      // Every message of protocol.ts is handled above: a new one fails to compile here.
      const unhandled: never = msg;
      console.error('engine worker: unknown message', unhandled);
    }
  }
};
