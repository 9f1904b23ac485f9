// The page's side of "Pretrain a new base model": a small zustand store, the start / stop
// commands, and the worker's replies (routed here by route.ts). It imports no other store:
// what it needs from the app (whether a run is going) is passed in, and the effects of a
// finished pretraining on other stores (the runs list's "base model replaced" note, the
// exchange's fingerprint) are composed in route.ts.
import { create } from 'zustand';
import { sendToEngine } from './engineLink';
import { CORPUS_LABELS, describeSizes, type PretrainSettings } from './pretrainSettings';
import type { FromWorker } from './worker/protocol';

export interface PretrainState {
  state: 'idle' | 'running' | 'stopping' | 'done' | 'failed' | 'stopped';
  settings: PretrainSettings | null;
  step: number;
  totalSteps: number;
  loss: number | null;
  etaMs: number | null;
  message: string;
}

export const usePretrain = create<PretrainState>()(() => ({ state: 'idle', settings: null, step: 0, totalSteps: 0, loss: null, etaMs: null, message: '' }));

/** Sends the (already validated) settings to the worker; false when there is no engine.
 *  `waitsForRun`: a run is going, so the worker starts this after it (the message says so). */
export function startPretrain(settings: PretrainSettings, o: { waitsForRun: boolean }): boolean {
  const s = usePretrain.getState();
  if (s.state === 'running' || s.state === 'stopping') return false;
  if (!sendToEngine({ type: 'pretrain-base', settings })) {
    usePretrain.setState({ state: 'failed', message: 'the training engine is not running (this browser has no WebGPU)' });
    return false;
  }
  usePretrain.setState({ state: 'running', settings, step: 0, totalSteps: settings.steps, loss: null, etaMs: null, message: o.waitsForRun ? 'waiting for the current run to finish' : 'starting' });
  return true;
}

export function stopPretrain() {
  if (usePretrain.getState().state !== 'running') return;
  sendToEngine({ type: 'pretrain-stop' });
  usePretrain.setState({ state: 'stopping', message: 'stopping' });
}

/** What the runs list calls a base pretrained with these settings. */
export function pretrainedName(s: PretrainSettings): string {
  return `a base pretrained here (${describeSizes(s)}; ${s.steps} steps on ${CORPUS_LABELS[s.corpus]}, seed ${s.seed})`;
}

/** What the runs list calls the base being pretrained now. */
export function currentPretrainName(): string {
  const settings = usePretrain.getState().settings;
  return settings ? pretrainedName(settings) : 'a base pretrained here';
}

export type PretrainReply = Extract<FromWorker, { type: 'pretrain-progress' | 'pretrain-done' | 'pretrain-failed' }>;

export function handlePretrainMessage(m: PretrainReply) {
  switch (m.type) {
    case 'pretrain-progress':
      usePretrain.setState((s) => (s.state === 'running' ? { step: m.step, totalSteps: m.totalSteps, loss: m.loss, etaMs: m.etaMs, message: m.message } : {}));
      break;
    case 'pretrain-done': {
      const name = currentPretrainName();
      usePretrain.setState({ state: 'done', step: m.info.steps ?? 0, loss: m.info.finalLoss ?? null, etaMs: null, message: `The base model is now ${name} (fingerprint ${m.fingerprint}).` });
      break;
    }
    case 'pretrain-failed':
      usePretrain.setState({ state: m.stopped ? 'stopped' : 'failed', etaMs: null, message: m.stopped ? `Stopped: ${m.message}.` : m.message });
      break;
  }
}
