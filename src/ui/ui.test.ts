// The playground's rules without a browser: the slider's log scale, URL round trips, how
// events fold into runs (ETA, divergence), the loss-vs-prefix data, and the store's
// reactions (prefix-length restarts, file errors, pause while hidden) against a fake engine.
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig, RUN_FIELDS, type RunConfig } from '../train/config';
import type { RunEvent, StepMetrics } from '../train/events';
import { Rng } from '../util/rng';
import { applyEvent, costPoints, newRun, prefixSweep, progressOf, seriesOf, setPaused, type RunRecord } from './runs';
import { BUILTIN_TASKS, configFromUrl, PREFIX_STOPS, prefixStopIndex, urlQueryOf } from './settings';
import {
  commitPrefixLength, control, handleEvents, loadUserFile, setConfig, startRun, useApp, visibilityChanged,
} from './store';
import { connectEngine } from './route';
import { fakeWorker } from './worker/fakeWorker';
import type { FromWorker, ToWorker } from './worker/protocol';

const step = (runId: string, s: number, loss: number, total = 10): StepMetrics => ({
  type: 'step', runId, step: s, totalSteps: total, trainLoss: loss, lr: 1e-3, gradNorm: 1, tokensPerSec: s > 1 ? 100 : null, msPerStep: s > 1 ? 10 : null, gpuBytes: 0,
});

describe('prefix-length slider', () => {
  it('has stops 0, 1, 2, 4, …, 4096 and maps each stop to itself', () => {
    expect(PREFIX_STOPS[0]).toBe(0);
    expect(PREFIX_STOPS[PREFIX_STOPS.length - 1]).toBe(4096);
    for (let i = 1; i < PREFIX_STOPS.length; i++) expect(PREFIX_STOPS[i]).toBe(2 * (PREFIX_STOPS[i - 1] || 0.5));
    PREFIX_STOPS.forEach((m, i) => expect(prefixStopIndex(m)).toBe(i));
  });
  it('puts any other m at the nearest stop on the log scale', () => {
    expect(prefixStopIndex(3)).toBe(prefixStopIndex(4)); // log2 3 = 1.58 rounds to 2
    expect(prefixStopIndex(5)).toBe(prefixStopIndex(4));
    expect(prefixStopIndex(6)).toBe(prefixStopIndex(8));
    expect(prefixStopIndex(65536)).toBe(PREFIX_STOPS.length - 1);
    expect(prefixStopIndex(-3)).toBe(0);
    expect(prefixStopIndex(Number.NaN)).toBe(0);
  });
});

describe('config in the URL', () => {
  it('round-trips random valid configs and writes only non-defaults', () => {
    const rng = new Rng(20240614);
    for (let trial = 0; trial < 50; trial++) {
      const c = defaultConfig() as unknown as Record<string, unknown>;
      for (const [k, f] of Object.entries(RUN_FIELDS)) {
        if (rng.next() < 0.5) continue;
        if (f.kind === 'enum') c[k] = f.choices[rng.int(0, f.choices.length - 1)];
        else if (f.kind === 'string') c[k] = BUILTIN_TASKS[rng.int(0, BUILTIN_TASKS.length - 1)];
        else if (f.kind === 'int') c[k] = rng.int(f.min, Math.min(f.max, f.min + 5000));
        else c[k] = f.min + (Math.min(f.max, f.min + 10) - f.min) * rng.next();
      }
      const q = urlQueryOf(c as unknown as RunConfig);
      const back = configFromUrl(q);
      expect(back.issues).toEqual([]);
      expect(back.config).toEqual(c);
      const changed = Object.keys(RUN_FIELDS).filter((k) => c[k] !== (defaultConfig() as unknown as Record<string, unknown>)[k]);
      expect([...new URLSearchParams(q).keys()].sort()).toEqual(changed.sort());
    }
    expect(urlQueryOf(defaultConfig())).toBe('');
  });
  it('clamps, rejects and reports bad values instead of trusting them', () => {
    const { config, issues } = configFromUrl('?prefixLength=999999&method=magic&steps=abc&task=../../etc/passwd&lr=-1&bogus=1');
    expect(config.prefixLength).toBe(RUN_FIELDS.prefixLength.max);
    expect(config.method).toBe(RUN_FIELDS.method.default);
    expect(config.steps).toBe(RUN_FIELDS.steps.default);
    expect(config.task).toBe(RUN_FIELDS.task.default);
    expect(config.lr).toBe(RUN_FIELDS.lr.min);
    expect(issues.map((i) => i.field).sort()).toEqual(['bogus', 'lr', 'method', 'prefixLength', 'steps', 'task']);
  });
});

describe('runs from events', () => {
  const cfg = { ...defaultConfig(), steps: 10 };
  it('records losses, and estimates time left from the gaps between steps, pauses excluded', () => {
    let r: RunRecord = { ...newRun('a', 'a', cfg), state: 'running' };
    r = applyEvent(r, step('a', 1, 4), 0); // first step: compiles, no gap yet
    expect(progressOf(r).etaMs).toBeNull();
    r = applyEvent(r, step('a', 2, 3.9), 1000);
    r = applyEvent(r, step('a', 3, 3.8), 1200);
    // Gaps 1000 and 200 ms: 600 ms per step, 7 steps left.
    expect(progressOf(r)).toEqual({ step: 3, total: 10, fraction: 0.3, etaMs: 4200 });
    r = setPaused(r, true, 1300);
    r = applyEvent(r, step('a', 4, 3.7), 60_000); // a step let through while paused: no gap counted
    r = setPaused(r, false, 90_000);
    r = applyEvent(r, step('a', 5, 3.6), 90_600);
    expect(progressOf(r).etaMs).toBeCloseTo(((1000 + 200 + 600) / 3) * 5, 6);
    expect(r.train.map((t) => t.loss)).toEqual([4, 3.9, 3.8, 3.7, 3.6]);
  });
  it('ignores events of other runs and keeps a paused run paused while the trainer says running', () => {
    let r: RunRecord = { ...newRun('a', 'a', cfg), state: 'paused' };
    const other: RunEvent = { type: 'status', runId: 'b', state: 'done' };
    expect(applyEvent(r, other, 0)).toBe(r);
    r = applyEvent(r, { type: 'status', runId: 'a', state: 'running' }, 0);
    expect(r.state).toBe('paused');
  });
  it('marks a diverged run and drops non-finite points from its series', () => {
    let r: RunRecord = { ...newRun('a', 'first', cfg), state: 'running' };
    r = applyEvent(r, step('a', 1, 4), 0);
    r = applyEvent(r, { type: 'eval', runId: 'a', step: 1, valLoss: 3.9, valAccuracy: null, prefixMass: 0.2 }, 1);
    r = applyEvent(r, step('a', 2, Number.NaN), 2);
    r = applyEvent(r, { type: 'status', runId: 'a', state: 'diverged', message: 'training diverged at step 2' }, 3);
    const s = seriesOf(r);
    expect(s.points).toEqual([{ step: 1, train: 4, val: 3.9, acc: null }]);
    expect(s.diverged).toEqual({ step: 2, message: 'training diverged at step 2' });
  });
});

describe('loss against prefix length', () => {
  const done = (id: string, over: Partial<RunConfig>, val: number, params = 10): RunRecord => ({
    ...newRun(id, id, { ...defaultConfig(), ...over }), state: 'done', trainableParams: params,
    evals: [{ step: 1, val: val + 1, acc: null, mass: null }, { step: 2, val, acc: null, mass: null }],
  });
  it('takes the final validation loss of the latest finished run per m, among comparable runs', () => {
    const runs = [
      done('a', { prefixLength: 16 }, 3.0, 100),
      done('b', { prefixLength: 4 }, 3.2, 25),
      done('c', { prefixLength: 16 }, 2.9, 100), // replaces a
      done('d', { prefixLength: 8, lr: 0.5 }, 1.0), // other settings: not comparable
      { ...done('e', { prefixLength: 32 }, 2.5), state: 'stopped' as const }, // unfinished
      done('f', { method: 'ntk' }, 2.7, 60),
      done('g', { method: 'lora', loraRank: 4 }, 2.8, 70),
      done('h', { prefixLength: 64 }, 2.6, 400),
    ];
    const { points, refs } = prefixSweep(runs);
    expect(points).toEqual([
      { m: 4, valLoss: 3.2, params: 25 },
      { m: 16, valLoss: 2.9, params: 100 },
      { m: 64, valLoss: 2.6, params: 400 },
    ]);
    expect(refs).toEqual([
      { label: 'NTK elu1', valLoss: 2.7, params: 60 },
      { label: 'LoRA r=4', valLoss: 2.8, params: 70 },
    ]);
  });
  it('keeps showing the last finished sweep while a run with other settings is going', () => {
    const going: RunRecord = { ...newRun('z', 'z', { ...defaultConfig(), steps: 999 }), state: 'running' };
    const { points } = prefixSweep([done('a', { prefixLength: 2 }, 3.0), done('b', { prefixLength: 8 }, 2.8), going]);
    expect(points.map((p) => p.m)).toEqual([2, 8]);
  });
  it('gives cost points by method: prefix by m, m = 0 as the base, NTK flat; peak memory from the steps', () => {
    let p = done('p', { prefixLength: 16 }, 3.0);
    p = applyEvent(applyEvent({ ...p, state: 'running' }, { ...step('p', 1, 4), gpuBytes: 5000 }, 0), { ...step('p', 2, 4), gpuBytes: 3000 }, 1);
    p = { ...p, state: 'done', summary: { msPerStep: 12 } as RunRecord['summary'] };
    const runs = [done('b', { prefixLength: 0 }, 3.3), p, done('n', { method: 'ntk' }, 2.9), done('l', { method: 'lora' }, 2.9)];
    expect(costPoints(runs)).toEqual([
      { method: 'base', m: 0, msPerStep: null, peakBytes: null },
      { method: 'prefix', m: 16, msPerStep: 12, peakBytes: 5000 },
      { method: 'ntk', m: 0, msPerStep: null, peakBytes: null },
    ]);
  });
  it('is empty without prefix runs', () => {
    expect(prefixSweep([done('f', { method: 'ntk' }, 2.7)])).toEqual({ points: [], refs: [] });
  });
});

describe('store', () => {
  let sent: ToWorker[];
  let handleWorkerMessage: (m: FromWorker) => void;
  beforeEach(() => {
    const w = fakeWorker();
    sent = w.sent;
    handleWorkerMessage = w.reply;
    connectEngine(w.client);
    useApp.setState({ runs: [], activeRunId: null, config: defaultConfig(), userFile: null, fileError: null, autoPaused: false });
    handleWorkerMessage({
      type: 'adapter', description: 'test',
      report: { vendor: 'v', architecture: 'a', device: '', description: '', isFallbackAdapter: true, features: [], limits: {} },
    });
  });
  const starts = () => sent.filter((m): m is Extract<ToWorker, { type: 'start' }> => m.type === 'start');

  it('starts a run at a new prefix length only while a prefix run is shown, named by the change', () => {
    commitPrefixLength(32); // no run yet: only the setting changes
    expect(starts()).toHaveLength(0);
    expect(useApp.getState().config.prefixLength).toBe(32);
    startRun();
    commitPrefixLength(64);
    expect(starts().map((s) => s.config.prefixLength)).toEqual([32, 64]);
    expect(useApp.getState().runs.map((r) => r.name)).toEqual(['prefix m=32', 'm 32→64']);
    commitPrefixLength(64); // same length: nothing new
    expect(starts()).toHaveLength(2);
    setConfig({ method: 'lora' });
    startRun();
    commitPrefixLength(128); // the run on screen is LoRA: no prefix restart
    expect(starts()).toHaveLength(3);
  });

  it('pauses a running run while the tab is hidden and resumes it when shown', () => {
    const id = startRun()!;
    handleEvents([{ type: 'status', runId: id, state: 'running' }, step(id, 1, 4)]);
    visibilityChanged(true);
    expect(useApp.getState().runs[0].state).toBe('paused');
    visibilityChanged(false);
    expect(useApp.getState().runs[0].state).toBe('running');
    const actions = sent.filter((m) => m.type === 'control').map((m) => (m as { action: string }).action);
    expect(actions).toEqual(['pause', 'resume']);
    // A run the user paused stays paused when the tab comes back.
    control('pause');
    visibilityChanged(true);
    visibilityChanged(false);
    expect(useApp.getState().runs[0].state).toBe('paused');
  });

  it('explains files that are empty, not UTF-8, or not .txt, and keeps the current task', () => {
    loadUserFile('empty.txt', new Uint8Array(0));
    expect(useApp.getState().fileError).toMatch(/empty\.txt is empty/);
    loadUserFile('latin1.txt', new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a, ...new Array(400).fill(0x61)]));
    expect(useApp.getState().fileError).toMatch(/latin1\.txt is not valid UTF-8: invalid byte sequence at byte offset 3/);
    loadUserFile('photo.png', new Uint8Array([1, 2, 3]));
    expect(useApp.getState().fileError).toMatch(/not a \.txt file/);
    expect(useApp.getState().config.task).toBe(defaultConfig().task);
  });

  it('accepts a good file as the task and sends its text with the run', () => {
    const text = 'the quick brown fox jumps over the lazy dog. '.repeat(40);
    loadUserFile('fox.txt', new TextEncoder().encode(text));
    expect(useApp.getState().fileError).toBeNull();
    expect(useApp.getState().config.task).toBe('file:fox.txt');
    startRun();
    expect(starts()[0].userText).toEqual({ name: 'fox.txt', text });
  });

  it('drops a run the worker replaced before it began and records failures', () => {
    const a = startRun()!;
    const b = startRun()!;
    handleWorkerMessage({ type: 'run-failed', runId: a, message: 'replaced by a newer run before it started', replaced: true });
    handleWorkerMessage({ type: 'run-failed', runId: b, message: 'boom' });
    expect(useApp.getState().runs.map((r) => [r.id, r.state, r.message])).toEqual([[b, 'error', 'boom']]);
  });
});
