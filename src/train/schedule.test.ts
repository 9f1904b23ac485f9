import { describe, expect, it } from 'vitest';
import { RunControl } from './control';
import { learningRate } from './schedule';

describe('learning-rate schedule', () => {
  const s = { lr: 1e-3, minLr: 1e-4, warmup: 10, steps: 110 };
  it('warms up linearly', () => {
    expect(learningRate(s, 0)).toBeCloseTo(1e-4, 12);
    expect(learningRate(s, 4)).toBeCloseTo(5e-4, 12);
    expect(learningRate(s, 9)).toBeCloseTo(1e-3, 12);
  });
  it('decays by a cosine to minLr', () => {
    expect(learningRate(s, 10)).toBeCloseTo(1e-3, 12);
    expect(learningRate(s, 60)).toBeCloseTo(5.5e-4, 12);
    expect(learningRate(s, 110)).toBeCloseTo(1e-4, 12);
    expect(learningRate(s, 500)).toBeCloseTo(1e-4, 12);
    for (let t = 10; t < 110; t++) expect(learningRate(s, t + 1)).toBeLessThanOrEqual(learningRate(s, t));
  });
});

describe('run control', () => {
  it('waits while paused and wakes on resume or stop', async () => {
    const c = new RunControl();
    expect(await c.checkpoint()).toBe(true);
    c.pause();
    let resolved = false;
    const p = c.checkpoint().then((v) => ((resolved = true), v));
    await new Promise((r) => setTimeout(r, 20));
    expect(resolved).toBe(false);
    c.resume();
    expect(await p).toBe(true);
    c.pause();
    c.step();
    expect(await c.checkpoint()).toBe(true); // one step through while paused
    let again = false;
    const r = c.checkpoint().then(() => (again = true));
    await new Promise((res) => setTimeout(res, 20));
    expect(again).toBe(false);
    c.resume();
    await r;
    c.pause();
    const q = c.checkpoint();
    c.stop();
    expect(await q).toBe(false);
  });
});
