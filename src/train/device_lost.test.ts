// The GPU device lost in the middle of a run (device.destroy(), as a driver reset or a
// browser reclaiming the GPU would): the run ends with state 'error' and a message saying the
// device was lost (not a buffer-mapping error, not a throw), every step recorded before stays
// as it was, and a run on a freshly acquired device trains to the end.
import { describe, expect, it } from 'vitest';
import { TextTask } from '../data';
import { Vocab } from '../data/vocab';
import { createNodeGpu } from '../gpu/node';
import { initParams } from '../model/init';
import { baseParamSpecs, type ModelConfig } from '../model/params';
import { buildAdaptedModel } from './adapt';
import { defaultConfig, type RunConfig } from './config';
import type { RunEvent } from './events';
import { train } from './trainer';

const TEXT = 'the cat sat on the mat. the dog sat on the log. '.repeat(12);
const vocab = Vocab.fromText(TEXT);
const modelConfig: ModelConfig = { vocabSize: vocab.size, contextLength: 16, nLayer: 1, nHead: 2, nEmbd: 8 };
const base = { config: modelConfig, params: initParams(baseParamSpecs(modelConfig), 1) };
const config: RunConfig = { ...defaultConfig(), task: 'cats', method: 'prefix', prefixLength: 2, prefixInit: 'random', steps: 8, batch: 2, seqLen: 8, warmup: 1, evalEvery: 4, evalBatches: 1, seed: 3, lr: 1e-2 };
const task = () => new TextTask('cats', TEXT, { tokenizer: vocab, seed: 1, seqLen: 8 });

describe('a device lost mid-run', () => {
  it('ends the run with a device-lost message, keeps the steps recorded so far, and a new device trains again', async () => {
    const LOSE_AFTER = 5;
    const gpu = await createNodeGpu();
    const model = await buildAdaptedModel(gpu, base, config, task());
    const events: RunEvent[] = [];
    const summary = await train({
      gpu, model, task: task(), config, runId: 'lost',
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'step' && e.step === LOSE_AFTER) gpu.device.destroy();
      },
    });
    expect(summary.state).toBe('error');
    expect(summary.message).toMatch(/GPU device was lost.*start again/);
    expect(gpu.lostError?.kind).toBe('device-lost');
    const steps = events.filter((e) => e.type === 'step');
    expect(steps.map((e) => e.step)).toEqual([1, 2, 3, 4, 5]);
    expect(steps.every((e) => Number.isFinite(e.trainLoss))).toBe(true);
    // The eval at step 4 came before the loss and stays; the last event says why it ended.
    expect(events.filter((e) => e.type === 'eval').map((e) => e.step)).toEqual([4]);
    expect(events.at(-1)).toMatchObject({ type: 'status', state: 'error', message: summary.message });

    // Start again: a fresh device, the same base from host memory, a run to the end.
    const again = await createNodeGpu();
    try {
      const model2 = await buildAdaptedModel(again, base, config, task());
      const losses: number[] = [];
      const done = await train({ gpu: again, model: model2, task: task(), config, runId: 'again', onEvent: (e) => void (e.type === 'step' && losses.push(e.trainLoss)) });
      expect(done.state).toBe('done');
      expect(losses).toHaveLength(config.steps);
      // The same seed gives the same first steps as the lost run (nothing carried over).
      expect(losses.slice(0, LOSE_AFTER)).toEqual(steps.map((e) => e.trainLoss));
      model2.destroy();
    } finally {
      again.destroy();
    }
  });
});
