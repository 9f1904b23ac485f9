// The page's side of "Pretrain a new base model": a small zustand store beside the app's,
// the start / stop commands, and the worker's replies (routed here by store.ts). On success
// the runs list gets a "base model replaced" note, as an imported base gives.
//
// store.ts imports this module and this module imports store.ts: nothing here may touch
// the app store while the modules load, only inside functions.
import { create } from 'zustand';
import { BASE_CHANGE_PREFIX, baseChangeRecord } from './exchange/records';
import { useExchange } from './exchange/state';
import { CORPUS_LABELS, describeSizes, type PretrainSettings } from './pretrainSettings';
import { sendToEngine, useApp } from './store';
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

let noteCounter = 0;

/** Sends the (already validated) settings to the worker; false when there is no engine. */
export function startPretrain(settings: PretrainSettings): boolean {
  const s = usePretrain.getState();
  if (s.state === 'running' || s.state === 'stopping') return false;
  if (!sendToEngine({ type: 'pretrain-base', settings })) {
    usePretrain.setState({ state: 'failed', message: 'the training engine is not running (this browser has no WebGPU)' });
    return false;
  }
  const waits = useApp.getState().runs.some((r) => ['queued', 'starting', 'compiling', 'running', 'paused'].includes(r.state));
  usePretrain.setState({ state: 'running', settings, step: 0, totalSteps: settings.steps, loss: null, etaMs: null, message: waits ? 'waiting for the current run to finish' : 'starting' });
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

export function handlePretrainMessage(m: Extract<FromWorker, { type: 'pretrain-progress' | 'pretrain-done' | 'pretrain-failed' }>) {
  switch (m.type) {
    case 'pretrain-progress':
      usePretrain.setState((s) => (s.state === 'running' ? { step: m.step, totalSteps: m.totalSteps, loss: m.loss, etaMs: m.etaMs, message: m.message } : {}));
      break;
    case 'pretrain-done': {
      const settings = usePretrain.getState().settings;
      const name = settings ? pretrainedName(settings) : 'a base pretrained here';
      const note = baseChangeRecord(`${BASE_CHANGE_PREFIX}pretrained-${++noteCounter}-${Date.now().toString(36)}`, { ...useApp.getState().config }, name, m.previousFingerprint, m.fingerprint);
      useApp.setState((st) => ({ runs: [...st.runs, note] }));
      useExchange.setState({ baseFingerprint: m.fingerprint });
      usePretrain.setState({ state: 'done', step: m.info.steps ?? 0, loss: m.info.finalLoss ?? null, etaMs: null, message: `The base model is now ${name} (fingerprint ${m.fingerprint}).` });
      break;
    }
    case 'pretrain-failed':
      usePretrain.setState({ state: m.stopped ? 'stopped' : 'failed', etaMs: null, message: m.stopped ? `Stopped: ${m.message}.` : m.message });
      break;
  }
}
