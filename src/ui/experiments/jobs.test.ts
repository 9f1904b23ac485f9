// Experiment jobs against a fake engine: a job is queued, runs, takes its own points in
// order (a stale job's are dropped), and Stop cancels the request; unreadable settings send
// nothing and are kept for the panel.
import { beforeEach, describe, expect, it } from 'vitest';
import type { ApproxPoint } from '../../experiments/approx_error';
import { startApprox, stopJob } from './jobs';
import { TINY_APPROX } from './logic';
import { useExperiments } from './state';
import { connectTestEngine, type TestEngine } from './testEngine';

let e: TestEngine;
beforeEach(() => {
  e = connectTestEngine();
});

describe('experiment jobs', () => {
  it('an approximation job: queued, running, points in order, stopped', async () => {
    expect(startApprox({ ...TINY_APPROX, maps: ['elu1'], methods: ['closed'] })).toBe(true);
    const start = e.sent[0];
    expect(start).toMatchObject({ type: 'experiment-start', kind: 'approx', config: { d: 4, maxM: 256, maps: ['elu1'], methods: ['closed'] } });
    const jobId = (start as { jobId: string }).jobId;
    expect(useExperiments.getState().approx.status).toBe('queued');
    e.worker.reply({ type: 'experiment-started', jobId, note: 'x' });
    const p = (m: number): ApproxPoint => ({ seed: 0, m, method: 'closed', map: 'elu1', rel: 1 / m, maxAbs: 1, relTarget: 1, effect: 1, beta: 0.5, ms: 1 });
    e.worker.reply({ type: 'experiment-point', jobId, kind: 'approx', point: p(1) });
    e.worker.reply({ type: 'experiment-point', jobId: 'other', kind: 'approx', point: p(99) }); // a stale job's point
    e.worker.reply({ type: 'experiment-progress', jobId, done: 3, total: 10, label: 'm=2' });
    e.worker.reply({ type: 'experiment-point', jobId, kind: 'approx', point: p(2) });
    expect(useExperiments.getState().approx).toMatchObject({ status: 'running', done: 3, total: 10, label: 'm=2' });
    expect(useExperiments.getState().approx.points.map((q) => q.m)).toEqual([1, 2]);
    stopJob('approx');
    expect(e.sent[e.sent.length - 1]).toEqual({ type: 'experiment-stop', jobId });
    e.worker.reply({ type: 'experiment-finished', jobId, aborted: true, elapsedMs: 5 });
    await e.worker.settle();
    expect(useExperiments.getState().approx.status).toBe('stopped');
    // Unreadable settings: nothing is sent, the errors are kept for the panel.
    expect(startApprox({ ...TINY_APPROX, d: 'x' })).toBe(false);
    expect(e.sent).toHaveLength(2);
    expect(useExperiments.getState().approx.errors[0]).toMatch(/^Head dimension d/);
  });
});
