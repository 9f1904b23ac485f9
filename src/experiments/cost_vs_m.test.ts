// Cost vs prefix length on a micro model. Memory is the engine's own account of live
// tensors, so it is deterministic: a prefix's peak grows with m (at least by its
// parameters, gradients and two AdamW moments), NTK-Attention's is identical at every m.
// No assertion on time (wall clock on a shared machine).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeGpu } from '../gpu/node';
import type { Gpu } from '../gpu/runtime';
import { resolveCostVsMConfig, runCostVsM, type CostVsMConfig, type CostVsMPoint } from './cost_vs_m';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await createNodeGpu();
});
afterAll(() => gpu?.destroy());

const MICRO: Partial<CostVsMConfig> = {
  task: 'reverse', taskMaxLen: 3, seqLen: 8, nLayer: 1, nHead: 2, nEmbd: 16, batch: 4, seed: 5,
  ms: [0, 8, 64], warmupSteps: 1, timedSteps: 1,
};

describe('cost vs m', () => {
  it('validation names the setting', () => {
    expect(() => resolveCostVsMConfig({ ms: [] })).toThrow(/ms/);
    expect(() => resolveCostVsMConfig({ ms: [4, -1] })).toThrow(/ms/);
    expect(() => resolveCostVsMConfig({ timedSteps: 0 })).toThrow(/timedSteps/);
    expect(() => resolveCostVsMConfig({ methods: ['lora' as never] })).toThrow(/methods/);
    expect(() => resolveCostVsMConfig({ seqLen: 4 })).not.toThrow(); // checked against the task at run time
  });

  it('runs end to end; prefix memory grows with m, NTK memory is flat', async () => {
    const streamed: CostVsMPoint[] = [];
    const res = await runCostVsM({ gpu, onPoint: (p) => streamed.push(p) }, MICRO);
    expect(JSON.parse(JSON.stringify(res))).toEqual(res);
    expect(streamed).toEqual(res.points);
    expect(res.base.source).toBe('init');
    console.table(res.points);
    const prefix = res.points.filter((p) => p.method === 'prefix');
    const ntk = res.points.filter((p) => p.method === 'ntk');
    expect(prefix.map((p) => p.m)).toEqual([0, 8, 64]);
    expect(ntk.map((p) => p.m)).toEqual([0, 8, 64]);
    expect(res.points.filter((p) => p.method === 'base').length).toBe(1);
    for (const p of res.points) {
      expect(p.msPerStep).toBeGreaterThan(0);
      expect(p.lastLoss).not.toBeNull();
    }
    for (let i = 1; i < prefix.length; i++) {
      const grow = prefix[i].peakBytes - prefix[i - 1].peakBytes;
      // parameters + gradients + AdamW m and v of the added prefix rows
      expect(grow).toBeGreaterThanOrEqual(4 * (prefix[i].trainableBytes - prefix[i - 1].trainableBytes));
      expect(grow).toBeGreaterThan(0);
    }
    expect(new Set(ntk.map((p) => p.peakBytes)).size).toBe(1);
    expect(new Set(ntk.map((p) => p.trainableParams)).size).toBe(1);
  });

  it('rejects a sequence too short for the task, naming seqLen', async () => {
    await expect(runCostVsM({ gpu }, { ...MICRO, seqLen: 4 })).rejects.toThrow(/seqLen/);
  });
});
