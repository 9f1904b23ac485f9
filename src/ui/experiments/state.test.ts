// The experiment store against a fake engine: the prefix-length sweep chains ordinary runs
// (m = 1, 2, 4, … up to the setting) and ends on Stop, on a stopped or failed run, or when
// another run replaces it; experiment and generation replies fold into their panels.
import { beforeEach, describe, expect, it } from 'vitest';
import type { ApproxPoint } from '../../experiments/approx_error';
import type { AdapterReport } from '../../gpu/device';
import { defaultConfig } from '../../train/config';
import type { RunState } from '../../train/events';
import { connectEngine } from '../route';
import { handleEvents, setConfig, startRun, useApp } from '../store';
import { fakeWorker, type FakeWorker } from '../worker/fakeWorker';
import type { FromWorker, ToWorker } from '../worker/protocol';
import { TINY_APPROX } from './logic';
import { generateText, startApprox, startSweep, stopJob, stopSweep, useExperiments } from './state';

let sent: ToWorker[] = [];
let w: FakeWorker;
const handleWorkerMessage = (m: FromWorker) => w.reply(m);
const starts = () => sent.filter((m): m is Extract<ToWorker, { type: 'start' }> => m.type === 'start');

beforeEach(() => {
  w = fakeWorker();
  sent = w.sent;
  connectEngine(w.client);
  useApp.setState({
    runs: [], activeRunId: null, config: { ...defaultConfig(), method: 'prefix', prefixLength: 5 }, userFile: null, fileError: null, autoPaused: false,
    gpu: { state: 'ok', report: { isFallbackAdapter: true } as AdapterReport, description: 'test' },
  });
  useExperiments.setState({ sweep: { status: 'idle', ms: [], index: 0, runIds: [], max: 0, message: null } });
});

/** The worker's side of one run: it starts and ends in `state`. */
function finish(runId: string, state: RunState, message?: string) {
  handleEvents([{ type: 'status', runId, state: 'running' }, { type: 'step', runId, step: 1, totalSteps: 1, trainLoss: 2, lr: 1e-3, gradNorm: 1, tokensPerSec: null, msPerStep: null, gpuBytes: 0 }]);
  const config = useApp.getState().runs.find((r) => r.id === runId)!.config;
  handleWorkerMessage({
    type: 'run-finished',
    summary: { runId, config, trainableParams: 10, finalTrainLoss: 2, finalValLoss: 2.5, finalValAccuracy: null, prefixMass: null, msPerStep: 1, state, message },
    mass: null,
  });
}

describe('prefix-length sweep', () => {
  it('runs m = 1, 2, 4, then the setting, one after another; a diverged run does not stop it', () => {
    expect(startSweep()).toBe(true);
    expect(useExperiments.getState().sweep).toMatchObject({ status: 'running', ms: [1, 2, 4, 5], index: 0 });
    for (const [i, m] of [1, 2, 4, 5].entries()) {
      expect(starts()).toHaveLength(i + 1);
      const s = starts()[i];
      expect(s.config).toMatchObject({ method: 'prefix', prefixLength: m });
      finish(s.runId, i === 1 ? 'diverged' : 'done');
    }
    expect(starts()).toHaveLength(4);
    expect(useExperiments.getState().sweep.status).toBe('done');
    expect(useApp.getState().config.prefixLength).toBe(5);
    expect(useApp.getState().runs.map((r) => r.config.prefixLength)).toEqual([1, 2, 4, 5]);
    // Finished: later runs do not restart it.
    startRun();
    expect(starts()).toHaveLength(5);
    expect(useExperiments.getState().sweep.status).toBe('done');
  });

  it('Stop (here or on the run) ends it and gives the prefix-length setting back', () => {
    startSweep();
    finish(starts()[0].runId, 'done');
    const second = starts()[1].runId;
    expect(useApp.getState().config.prefixLength).toBe(2);
    stopSweep();
    expect(sent[sent.length - 1]).toEqual({ type: 'control', runId: second, action: 'stop' });
    expect(useExperiments.getState().sweep).toMatchObject({ status: 'stopped', message: 'stopped at m = 2' });
    expect(useApp.getState().config.prefixLength).toBe(5);
    finish(second, 'stopped'); // the worker confirms; nothing new starts
    expect(starts()).toHaveLength(2);

    startSweep();
    finish(starts()[2].runId, 'stopped'); // the run panel's Stop
    expect(useExperiments.getState().sweep).toMatchObject({ status: 'stopped', message: 'stopped at m = 1' });
    expect(starts()).toHaveLength(3);
  });

  it('a failed run or a replacing run ends it with the reason', () => {
    startSweep();
    finish(starts()[0].runId, 'error', 'out of memory');
    handleWorkerMessage({ type: 'run-failed', runId: starts()[0].runId, message: 'out of memory' });
    expect(useExperiments.getState().sweep).toMatchObject({ status: 'failed', message: 'the run at m = 1 failed: out of memory' });

    startSweep();
    const id = starts()[1].runId;
    handleWorkerMessage({ type: 'run-failed', runId: id, message: 'replaced by a newer run before it started', replaced: true });
    expect(useExperiments.getState().sweep).toMatchObject({ status: 'stopped', message: 'another run replaced the sweep' });
  });

  it('needs a prefix length of at least 1 and a GPU', () => {
    setConfig({ prefixLength: 0 });
    expect(startSweep()).toBe(false);
    expect(useExperiments.getState().sweep.message).toMatch(/prefix length m to 1 or more/);
    setConfig({ prefixLength: 4 });
    useApp.setState({ gpu: { state: 'probing' } });
    expect(startSweep()).toBe(false);
    expect(starts()).toHaveLength(0);
  });
});

describe('experiment and generation replies', () => {
  it('an approximation job: queued, running, points in order, stopped', async () => {
    expect(startApprox({ ...TINY_APPROX, maps: ['elu1'], methods: ['closed'] })).toBe(true);
    const start = sent[0];
    expect(start).toMatchObject({ type: 'experiment-start', kind: 'approx', config: { d: 4, maxM: 256, maps: ['elu1'], methods: ['closed'] } });
    const jobId = (start as { jobId: string }).jobId;
    expect(useExperiments.getState().approx.status).toBe('queued');
    handleWorkerMessage({ type: 'experiment-started', jobId, note: 'x' });
    const p = (m: number): ApproxPoint => ({ seed: 0, m, method: 'closed', map: 'elu1', rel: 1 / m, maxAbs: 1, relTarget: 1, effect: 1, beta: 0.5, ms: 1 });
    handleWorkerMessage({ type: 'experiment-point', jobId, kind: 'approx', point: p(1) });
    handleWorkerMessage({ type: 'experiment-point', jobId: 'other', kind: 'approx', point: p(99) }); // a stale job's point
    handleWorkerMessage({ type: 'experiment-progress', jobId, done: 3, total: 10, label: 'm=2' });
    handleWorkerMessage({ type: 'experiment-point', jobId, kind: 'approx', point: p(2) });
    expect(useExperiments.getState().approx).toMatchObject({ status: 'running', done: 3, total: 10, label: 'm=2' });
    expect(useExperiments.getState().approx.points.map((q) => q.m)).toEqual([1, 2]);
    stopJob('approx');
    expect(sent[sent.length - 1]).toEqual({ type: 'experiment-stop', jobId });
    handleWorkerMessage({ type: 'experiment-finished', jobId, aborted: true, elapsedMs: 5 });
    await w.settle();
    expect(useExperiments.getState().approx.status).toBe('stopped');
    // Unreadable settings: nothing is sent, the errors are kept for the panel.
    expect(startApprox({ ...TINY_APPROX, d: 'x' })).toBe(false);
    expect(sent).toHaveLength(2);
    expect(useExperiments.getState().approx.errors[0]).toMatch(/^Head dimension d/);
  });

  it('generation asks for the newest finished run and streams both texts', async () => {
    startRun();
    finish(starts()[0].runId, 'done');
    const runId = starts()[0].runId;
    expect(generateText({ prompt: 'ab', maxNewTokens: '3', temperature: '0', topK: '0', seed: '7' })).toBe(true);
    const req = sent[sent.length - 1];
    expect(req).toMatchObject({ type: 'generate', runId, prompt: 'ab', maxNewTokens: 3, temperature: 0, topK: 0, seed: 7 });
    const requestId = (req as { requestId: number }).requestId;
    handleWorkerMessage({ type: 'generate-started', requestId, adapted: 'prefix m=5', unknown: [] });
    for (const [which, t] of [['base', 'x'], ['base', 'y'], ['adapted', 'z']] as const) handleWorkerMessage({ type: 'generate-token', requestId, which, text: t });
    expect(useExperiments.getState().gen).toMatchObject({ status: 'running', base: 'xy', adapted: 'z', adaptedMethod: 'prefix m=5' });
    handleWorkerMessage({ type: 'generated', requestId, base: 'xyw', adapted: 'zzz', adaptedError: null });
    await w.settle();
    expect(useExperiments.getState().gen).toMatchObject({ status: 'done', base: 'xyw', adapted: 'zzz' });
    expect(generateText({ prompt: 'ab', maxNewTokens: '0', temperature: '0', topK: '0', seed: '7' })).toBe(false);
    expect(useExperiments.getState().gen.error).toMatch(/^Characters to generate/);
  });
});
