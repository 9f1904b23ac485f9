// `npm run bench` section: does a 'from-text' prefix (the base model's own keys and values on
// text) start closer to the base than a random one? A measurement, not a test: it needs a
// base that has learnt something (a random base barely uses attention), so it first trains
// a small base on Moby Dick, then compares the first-forward validation loss of several
// seeds of each initialisation on the same fixed batches. Moved here from an opt-in test
// (PREFIX_LAB_SLOW) so that the suite has no test that is skipped by default.
import { createTask } from '../data';
import { nodeReader } from '../data/node';
import { initParams } from '../model/init';
import { type ModelConfig, baseParamSpecs } from '../model/params';
import { initPrefix } from '../model/prefix_init';
import { assembleModel } from '../train/adapt';
import { defaultConfig } from '../train/config';
import { BatchBuffers, evaluate, train } from '../train/trainer';
import { table, type Bench } from './bench';

const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

export const bench: Bench = {
  name: 'prefix_init',
  async run(gpu, { quick }) {
    const task = await createTask('moby-dick', { readText: nodeReader() });
    const cfg: ModelConfig = { vocabSize: task.tokenizer.size, contextLength: 16, nLayer: 2, nHead: 2, nEmbd: 16 };
    const steps = quick ? 10 : 40;
    const seeds = quick ? 2 : 4;
    const m = 8;
    const seed = 1234;
    const base = assembleModel(gpu, { config: cfg, params: initParams(baseParamSpecs(cfg), seed) }, { method: 'full' });
    await train({ gpu, model: base, task, runId: 'base', config: { ...defaultConfig(), steps, batch: 8, seqLen: 16, lr: 1e-2, warmup: 4, evalEvery: steps, evalBatches: 1, seed } });
    const values = await base.readParams();
    const prefixed = { config: cfg, params: values };
    const buf = new BatchBuffers(gpu, 8, 16);
    try {
      const loss = async (prefix: Map<string, Float32Array>) => {
        const model = assembleModel(gpu, prefixed, { method: 'prefix', prefixLength: m }, prefix);
        try {
          return (await evaluate(gpu, model, task, buf, 2, 77)).loss;
        } finally {
          model.destroy();
        }
      };
      const baseLoss = (await evaluate(gpu, base, task, buf, 2, 77)).loss;
      const fromText: number[] = [];
      const random: number[] = [];
      for (let s = 0; s < seeds; s++) {
        fromText.push(await loss(await initPrefix(gpu, base, m, { kind: 'from-text', task, seed: seed + s })));
        random.push(await loss(await initPrefix(gpu, base, m, { kind: 'random', seed: seed + s })));
      }
      console.log(`  prefix init (m=${m}): base ${baseLoss.toFixed(4)}, from-text mean ${mean(fromText).toFixed(4)}, random mean ${mean(random).toFixed(4)}`);
      const markdown = [
        `A base (${cfg.nLayer} layers, width ${cfg.nEmbd}, character vocabulary) trained ${steps} steps on Moby Dick, then a prefix of m = ${m}`,
        `initialised ${seeds} ways each; first-forward validation loss on the same 2 fixed batches (lower = closer to the base).`,
        '',
        table(['initialisation', 'loss per seed', 'mean'], [
          ['none (the base)', baseLoss.toFixed(4), baseLoss.toFixed(4)],
          ['from-text', fromText.map((x) => x.toFixed(4)).join(', '), mean(fromText).toFixed(4)],
          ['random N(0, 1)', random.map((x) => x.toFixed(4)).join(', '), mean(random).toFixed(4)],
        ]),
        '',
        'Reproduce: `npm run bench -- --only prefix_init` (`--quick`: 10 training steps, 2 seeds).',
      ].join('\n');
      return { title: 'Prefix initialisation: from-text against random', markdown, data: { cfg, steps, m, baseLoss, fromText, random } };
    } finally {
      buf.release();
      base.destroy();
    }
  },
};
