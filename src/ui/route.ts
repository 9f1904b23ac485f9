// Where each reply of the engine worker goes: the app store's own (device, base model, runs)
// to store.ts, export / import replies to exchange/state.ts, experiment and generation
// replies to experiments/state.ts, pretraining replies to pretrainState.ts, opening a picked
// base folder to baseOpen.ts. This is the one
// module that knows every store, so that no store has to import another to get its replies;
// a reply that changes more than one store (a finished pretraining) is composed here.
import { handleOpenBaseMessage } from './baseOpen';
import { BASE_CHANGE_PREFIX, baseChangeRecord } from './exchange/records';
import { handleExchangeMessage, setBaseFingerprint } from './exchange/state';
import { handleExperimentMessage } from './experiments/state';
import { currentPretrainName, handlePretrainMessage } from './pretrainState';
import { handleAppMessage, useApp } from './store';
import type { FromWorker } from './worker/protocol';

let noteCounter = 0;

export function handleWorkerMessage(m: Exclude<FromWorker, { type: 'event' }>) {
  switch (m.type) {
    case 'exported':
    case 'imported-adapter':
    case 'imported-base':
    case 'exchange-failed':
      handleExchangeMessage(m);
      break;
    case 'experiment-started':
    case 'experiment-progress':
    case 'experiment-point':
    case 'experiment-finished':
    case 'experiment-failed':
    case 'generate-started':
    case 'generate-token':
    case 'generated':
    case 'generate-failed':
      handleExperimentMessage(m);
      break;
    case 'pretrain-done': {
      // The new base shows in the runs list as a note (as an imported base does), and
      // adapters exported from now on name its fingerprint.
      const id = `${BASE_CHANGE_PREFIX}pretrained-${++noteCounter}-${Date.now().toString(36)}`;
      const note = baseChangeRecord(id, { ...useApp.getState().config }, currentPretrainName(), m.previousFingerprint, m.fingerprint);
      useApp.setState((st) => ({ runs: [...st.runs, note] }));
      setBaseFingerprint(m.fingerprint);
      handlePretrainMessage(m);
      break;
    }
    case 'pretrain-progress':
    case 'pretrain-failed':
      handlePretrainMessage(m);
      break;
    case 'open-base-done': {
      // As after a pretraining: a note on the runs list, and adapters name the new base.
      const id = `${BASE_CHANGE_PREFIX}opened-${++noteCounter}-${Date.now().toString(36)}`;
      const name = m.info.summary?.name ?? m.info.openedFrom ?? 'the opened folder';
      const note = baseChangeRecord(id, { ...useApp.getState().config }, name, m.previousFingerprint, m.fingerprint);
      useApp.setState((st) => ({ runs: [...st.runs, note] }));
      setBaseFingerprint(m.fingerprint);
      handleOpenBaseMessage(m);
      break;
    }
    case 'open-base-progress':
    case 'open-base-failed':
      handleOpenBaseMessage(m);
      break;
    default:
      handleAppMessage(m);
  }
}
