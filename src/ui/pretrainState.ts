// The page's side of "Pretrain a new base model": a small zustand store and the start / stop
// commands, one request to the engine client whose progress and outcome land here. It
// imports no other store: what it needs from the app (whether a run is going) is passed in,
// and the runs list's "base model replaced" note goes through the app port.
import { create } from 'zustand';
import { app } from './appPort';
import { engine } from './engineLink';
import { CORPUS_LABELS, describeSizes, type PretrainSettings } from './pretrainSettings';
import type { Pending } from './worker/client';

export interface PretrainState {
  state: 'idle' | 'running' | 'stopping' | 'done' | 'failed' | 'stopped';
  settings: PretrainSettings | null;
  step: number;
  totalSteps: number;
  loss: number | null;
  etaMs: number | null;
  message: string;
}

let pending: Pending<'pretrain-base'> | null = null;

export const usePretrain = create<PretrainState>()(() => ({ state: 'idle', settings: null, step: 0, totalSteps: 0, loss: null, etaMs: null, message: '' }));

/** Sends the (already validated) settings to the worker; false when one is going already.
 *  `waitsForRun`: a run is going, so the worker starts this after it (the message says so). */
export function startPretrain(settings: PretrainSettings, o: { waitsForRun: boolean }): boolean {
  const s = usePretrain.getState();
  if (s.state === 'running' || s.state === 'stopping') return false;
  const p = engine().request({ type: 'pretrain-base', settings }, (m) => {
    usePretrain.setState((st) => (st.state === 'running' ? { step: m.step, totalSteps: m.totalSteps, loss: m.loss, etaMs: m.etaMs, message: m.message } : {}));
  });
  pending = p;
  usePretrain.setState({ state: 'running', settings, step: 0, totalSteps: settings.steps, loss: null, etaMs: null, message: o.waitsForRun ? 'waiting for the current run to finish' : 'starting' });
  void p.result.then((r) => {
    if (pending !== p) return;
    pending = null;
    if (r.ok) {
      const name = pretrainedName(settings);
      app().noteBaseChange(name, r.value.previousFingerprint, r.value.fingerprint);
      usePretrain.setState({ state: 'done', step: r.value.info.steps ?? 0, loss: r.value.info.finalLoss ?? null, etaMs: null, message: `The base model is now ${name} (fingerprint ${r.value.fingerprint}).` });
    } else {
      const stopped = r.error.kind === 'cancelled';
      usePretrain.setState({ state: stopped ? 'stopped' : 'failed', etaMs: null, message: stopped ? `Stopped: ${r.error.message}.` : r.error.message });
    }
  });
  return true;
}

export function stopPretrain() {
  if (usePretrain.getState().state !== 'running' || !pending) return;
  pending.cancel();
  usePretrain.setState({ state: 'stopping', message: 'stopping' });
}

/** What the runs list calls a base pretrained with these settings. */
export function pretrainedName(s: PretrainSettings): string {
  return `a base pretrained here (${describeSizes(s)}; ${s.steps} steps on ${CORPUS_LABELS[s.corpus]}, seed ${s.seed})`;
}
