// "Pretrain a new base model" in the engine worker: checks the settings again, waits its turn
// in the run queue (one model on the device at a time), trains with base.ts's pretrainBase,
// and on success replaces the worker's base model (the same path an imported base takes).
// Progress goes to the page as pretrain-progress (step, loss, ETA); Stop keeps the old base.
import type { Gpu } from '../../gpu/runtime';
import type { ReadText } from '../../data';
import { RunControl } from '../../train/control';
import { validatePretrain, type PretrainSettings } from '../pretrainSettings';
import { pretrainBase, pretrainRun, type PretrainSpec } from './base_pretrained';
import type { WorkerBase } from './worker_base';
import type { FromWorker } from './protocol';

export interface PretrainDeps {
  post: (m: FromWorker) => void;
  ensureGpu: () => Promise<Gpu>;
  currentBase: () => Promise<WorkerBase> | null;
  /** Makes `b` the base (and keeps it for the next visit; b.info says if that failed). */
  replaceBase: (b: WorkerBase) => Promise<void>;
  readText: ReadText;
  enqueue: (job: () => Promise<void>) => void;
}

/** The run settings for user-chosen sizes: the automatic base's run (learning rate, batch),
 *  trained at the full context so every position embedding is learnt, with the user's steps,
 *  corpus and seed; warm-up shortened for very short runs. */
export function pretrainSpecFor(s: PretrainSettings, software: boolean): PretrainSpec {
  const common = pretrainRun(software);
  const warmup = Math.min(common.warmup ?? 0, Math.floor(s.steps / 10));
  return {
    model: { nLayer: s.nLayer, nHead: s.nHead, nEmbd: s.nEmbd, contextLength: s.contextLength },
    run: { ...common, task: s.corpus, steps: s.steps, seed: s.seed, seqLen: s.contextLength, warmup },
    cache: false,
  };
}

export function createPretrain(d: PretrainDeps) {
  let control: RunControl | null = null;
  /** Set by Stop while the job still waits in the queue. */
  let stopRequested = false;
  let busy = false;

  async function job(settings: PretrainSettings) {
    if (stopRequested) {
      busy = false;
      d.post({ type: 'pretrain-failed', message: 'it had not started; the base model is unchanged', stopped: true });
      return;
    }
    control = new RunControl();
    let g: Gpu | null = null;
    try {
      g = await d.ensureGpu();
      const spec = pretrainSpecFor(settings, g.report.isFallbackAdapter);
      let firstStepAt: number | null = null;
      let lastMessage = 'starting';
      spec.control = control;
      spec.onStep = (step, total, loss) => {
        // The first step compiles the shaders: the ETA counts only the steps after it.
        const now = performance.now();
        if (firstStepAt === null) firstStepAt = now;
        const etaMs = step > 1 ? ((now - firstStepAt) / (step - 1)) * (total - step) : null;
        d.post({ type: 'pretrain-progress', step, totalSteps: total, loss, etaMs, message: lastMessage });
      };
      d.post({ type: 'pretrain-progress', step: 0, totalSteps: settings.steps, loss: null, etaMs: null, message: 'loading the corpora' });
      const b = await pretrainBase(g, {
        readText: d.readText,
        onProgress: (message, fraction) => {
          lastMessage = message;
          if (fraction === 0) d.post({ type: 'pretrain-progress', step: 0, totalSteps: settings.steps, loss: null, etaMs: null, message });
        },
      }, spec);
      const cur = d.currentBase();
      const previous = cur ? await cur.then((p) => p.fingerprint, () => null) : null;
      await d.replaceBase(b);
      d.post({ type: 'base-ready', info: b.info });
      d.post({ type: 'pretrain-done', info: b.info, fingerprint: b.fingerprint, previousFingerprint: previous });
    } catch (e) {
      const stopped = control?.isStopped ?? false;
      const lost = g?.lostError;
      const message = lost ? lost.message : stopped ? 'the base model is unchanged' : e instanceof Error ? e.message : String(e);
      d.post({ type: 'pretrain-failed', message, stopped: stopped && !lost });
    } finally {
      control = null;
      busy = false;
    }
  }

  function start(raw: PretrainSettings) {
    // The page validated already; a message from elsewhere gets the same rules.
    const { settings, errors } = validatePretrain(raw);
    if (!settings) {
      d.post({ type: 'pretrain-failed', message: Object.values(errors).join('; '), stopped: false });
      return;
    }
    if (busy) {
      d.post({ type: 'pretrain-failed', message: 'a base model is already being pretrained: stop it first', stopped: false });
      return;
    }
    busy = true;
    stopRequested = false;
    d.enqueue(() => job(settings));
  }

  function stop() {
    if (control) control.stop();
    else if (busy) stopRequested = true;
  }

  return { start, stop };
}
