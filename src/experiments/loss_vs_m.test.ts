// Loss vs prefix length on a micro model: every run streams a point, the result survives
// JSON, settings errors name the setting, and adaptation really happens (each adapted
// method's validation loss ends below the untouched base's).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeGpu } from '../gpu/node';
import type { Gpu } from '../gpu/runtime';
import { resolveLossVsMConfig, runLossVsM, type LossVsMConfig, type LossVsMPoint } from './loss_vs_m';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await createNodeGpu();
});
afterAll(() => gpu?.destroy());

const MICRO: Partial<LossVsMConfig> = {
  task: 'reverse', pretrainTask: 'sort', pretrainSteps: 0, taskMaxLen: 3, seqLen: 8,
  nLayer: 1, nHead: 2, nEmbd: 16, batch: 8, evalBatches: 2, seed: 3,
  maxM: 2, steps: 12, evalEvery: 6, lrPrefix: 2e-1, lrNtk: 2e-1, lrLora: 5e-2, lrFull: 1e-2,
};
// The base is the seeded initialisation (pretrainSteps 0; the abort test covers pretraining).
// Measured with this config (lavapipe): base 3.37, prefix m=1 3.34, m=2 3.32, NTK 3.30,
// LoRA 3.29, full 3.03 (val loss, nats): 12 steps on a near-random base adapt mostly the
// answer distribution, which is exactly what a dead or wrong-signed update would miss.

describe('loss vs m', () => {
  it('validation names the setting', () => {
    expect(() => resolveLossVsMConfig({ maxM: 0 })).toThrow(/maxM/);
    expect(() => resolveLossVsMConfig({ methods: ['prefix', 'adapter' as never] })).toThrow(/methods/);
    expect(() => resolveLossVsMConfig({ lrNtk: -1 })).toThrow(/lrNtk/);
    expect(() => resolveLossVsMConfig({ nEmbd: 30, nHead: 4 })).toThrow(/nEmbd/);
    expect(() => resolveLossVsMConfig({ colour: 1 } as never)).toThrow(/colour/);
  });

  it('runs end to end, streams every point, and each adapted method beats the base', async () => {
    const streamed: LossVsMPoint[] = [];
    let lastProgress = [0, 0];
    const res = await runLossVsM({ gpu, onPoint: (p) => streamed.push(p), onProgress: (d, t) => (lastProgress = [d, t]) }, MICRO);
    const json = JSON.parse(JSON.stringify(res));
    expect(json).toEqual(res);
    expect(res.base.source).toBe('init');
    expect(res.aborted).toBe(false);
    expect(streamed).toEqual(res.points);
    expect(res.points.map((p) => `${p.method}${p.m ?? ''}`)).toEqual(['base', 'prefix1', 'prefix2', 'ntk', 'lora', 'full']);
    expect(lastProgress[0]).toBe(lastProgress[1]);
    const base = res.points[0];
    console.table(res.points.map(({ valCurve, ...p }) => p));
    for (const p of res.points.slice(1)) {
      expect(p.state, `${p.method} ${p.m}`).toBe('done');
      expect(p.trainableParams).toBeGreaterThan(0);
      expect(p.valLoss!, `${p.method} ${p.m}`).toBeLessThan(base.valLoss!);
    }
  });

  it('stops on abort and keeps the finished points', async () => {
    const ac = new AbortController();
    const res = await runLossVsM({ gpu, signal: ac.signal, onPoint: () => ac.abort() }, { ...MICRO, pretrainSteps: 2, methods: ['base', 'prefix'] });
    expect(res.aborted).toBe(true);
    expect(res.base.source).toBe('pretrained');
    expect(res.base.pretrainSteps).toBe(2);
    expect(res.base.pretrainValLoss).toBeGreaterThan(0);
    expect(res.points.map((p) => p.method)).toEqual(['base']);
  });
});
