// The prefix-length sweep against a fake engine: it chains ordinary runs (m = 1, 2, 4, …
// up to the setting) and ends on Stop, on a stopped or failed run, or when another run
// replaces it, giving the prefix-length setting back when it stops early.
import { beforeEach, describe, expect, it } from 'vitest';
import { setConfig, startRun, useApp } from '../store';
import { useExperiments } from './state';
import { startSweep, stopSweep } from './sweep';
import { connectTestEngine, type TestEngine } from './testEngine';

let e: TestEngine;
beforeEach(() => {
  e = connectTestEngine();
});

describe('prefix-length sweep', () => {
  it('runs m = 1, 2, 4, then the setting, one after another; a diverged run does not stop it', () => {
    expect(startSweep()).toBe(true);
    expect(useExperiments.getState().sweep).toMatchObject({ status: 'running', ms: [1, 2, 4, 5], index: 0 });
    for (const [i, m] of [1, 2, 4, 5].entries()) {
      expect(e.starts()).toHaveLength(i + 1);
      const s = e.starts()[i];
      expect(s.config).toMatchObject({ method: 'prefix', prefixLength: m });
      e.finish(s.runId, i === 1 ? 'diverged' : 'done');
    }
    expect(e.starts()).toHaveLength(4);
    expect(useExperiments.getState().sweep.status).toBe('done');
    expect(useApp.getState().config.prefixLength).toBe(5);
    expect(useApp.getState().runs.map((r) => r.config.prefixLength)).toEqual([1, 2, 4, 5]);
    // Finished: later runs do not restart it.
    startRun();
    expect(e.starts()).toHaveLength(5);
    expect(useExperiments.getState().sweep.status).toBe('done');
  });

  it('Stop (here or on the run) ends it and gives the prefix-length setting back', () => {
    startSweep();
    e.finish(e.starts()[0].runId, 'done');
    const second = e.starts()[1].runId;
    expect(useApp.getState().config.prefixLength).toBe(2);
    stopSweep();
    expect(e.sent[e.sent.length - 1]).toEqual({ type: 'control', runId: second, action: 'stop' });
    expect(useExperiments.getState().sweep).toMatchObject({ status: 'stopped', message: 'stopped at m = 2' });
    expect(useApp.getState().config.prefixLength).toBe(5);
    e.finish(second, 'stopped'); // the worker confirms; nothing new starts
    expect(e.starts()).toHaveLength(2);

    startSweep();
    e.finish(e.starts()[2].runId, 'stopped'); // the run panel's Stop
    expect(useExperiments.getState().sweep).toMatchObject({ status: 'stopped', message: 'stopped at m = 1' });
    expect(e.starts()).toHaveLength(3);
  });

  it('a failed run or a replacing run ends it with the reason', () => {
    startSweep();
    e.finish(e.starts()[0].runId, 'error', 'out of memory');
    e.worker.reply({ type: 'run-failed', runId: e.starts()[0].runId, message: 'out of memory' });
    expect(useExperiments.getState().sweep).toMatchObject({ status: 'failed', message: 'the run at m = 1 failed: out of memory' });

    startSweep();
    const id = e.starts()[1].runId;
    e.worker.reply({ type: 'run-failed', runId: id, message: 'replaced by a newer run before it started', replaced: true });
    expect(useExperiments.getState().sweep).toMatchObject({ status: 'stopped', message: 'another run replaced the sweep' });
  });

  it('needs a prefix length of at least 1 and a GPU', () => {
    setConfig({ prefixLength: 0 });
    expect(startSweep()).toBe(false);
    expect(useExperiments.getState().sweep.message).toMatch(/prefix length m to 1 or more/);
    setConfig({ prefixLength: 4 });
    useApp.setState({ gpu: { state: 'probing' } });
    expect(startSweep()).toBe(false);
    expect(e.starts()).toHaveLength(0);
  });
});
