// For the experiment stores' tests: a fake engine connected through the real client and
// route, an app store with prefix tuning at m = 5 on a ready GPU, and the worker's side of
// one run.
import type { AdapterReport } from '../../gpu/device';
import { defaultConfig } from '../../train/config';
import type { RunState } from '../../train/events';
import { connectEngine } from '../route';
import { handleEvents, useApp } from '../store';
import { fakeWorker, type FakeWorker } from '../worker/fakeWorker';
import type { ToWorker } from '../worker/protocol';
import { IDLE_GEN, idleJob, useExperiments } from './state';

export interface TestEngine {
  worker: FakeWorker;
  /** Everything the page sent, in order. */
  sent: ToWorker[];
  /** The run starts the page sent. */
  starts(): Extract<ToWorker, { type: 'start' }>[];
  /** The worker's side of one run: it starts, takes a step, and ends in `state`. */
  finish(runId: string, state: RunState, message?: string): void;
}

/** A fresh fake engine and fresh app and experiment stores (call it in beforeEach). */
export function connectTestEngine(): TestEngine {
  const worker = fakeWorker();
  connectEngine(worker.client);
  useApp.setState({
    runs: [], activeRunId: null, config: { ...defaultConfig(), method: 'prefix', prefixLength: 5 }, userFile: null, fileError: null, autoPaused: false,
    gpu: { state: 'ok', report: { isFallbackAdapter: true } as AdapterReport, description: 'test' },
  });
  useExperiments.setState({ approx: idleJob(), ntk: idleJob(), sweep: { status: 'idle', ms: [], index: 0, runIds: [], max: 0, message: null }, gen: { ...IDLE_GEN } });
  const sent = worker.sent;
  return {
    worker,
    sent,
    starts: () => sent.filter((m): m is Extract<ToWorker, { type: 'start' }> => m.type === 'start'),
    finish(runId, state, message) {
      handleEvents([{ type: 'status', runId, state: 'running' }, { type: 'step', runId, step: 1, totalSteps: 1, trainLoss: 2, lr: 1e-3, gradNorm: 1, tokensPerSec: null, msPerStep: null, gpuBytes: 0 }]);
      const config = useApp.getState().runs.find((r) => r.id === runId)!.config;
      worker.reply({
        type: 'run-finished',
        summary: { runId, config, trainableParams: 10, finalTrainLoss: 2, finalValLoss: 2.5, finalValAccuracy: null, prefixMass: null, msPerStep: 1, state, message },
        mass: null,
      });
    },
  };
}
