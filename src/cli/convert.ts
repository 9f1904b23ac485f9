// `npm run cli -- convert --adapter runs/p16 --out runs/p16-ntk`: a trained prefix becomes an
// NTK-Attention adapter in closed form (k = Σφ(p_j), Z = Σφ(p_j)w_jᵀ), and both are evaluated
// on the same validation batches: how far the converted model's loss is from the prefix's.
import { exportAdapter } from '../io/checkpoint';
import { jsonBytes } from '../io/bundle';
import { baseIdentity } from '../lab/run';
import { convertWithReport } from '../lab/convert';
import { ArgError, defineCommand } from './args';
import { fmt, loadModel, taskFor, writeCheckpoint } from './common';

export const command = defineCommand({
  name: 'convert',
  summary: 'turn a trained prefix into an NTK-Attention adapter (closed form) and compare losses',
  description: [
    'Reads a prefix-tuning adapter (PEFT folder or .zip) made for --base, computes the',
    'NTK-Attention adapter k = Σφ(p_j), Z = Σφ(p_j)w_jᵀ per layer and head (taylor2: e^t',
    'replaced by 1 + t + t²/2; k used as is), evaluates both on the same validation batches',
    'of --task and writes the NTK adapter and report.json to --out.',
  ].join('\n'),
  options: {
    base: { type: 'string', default: 'public/models/base', help: 'base model folder or .zip', placeholder: 'path' },
    adapter: { type: 'string', required: true, help: 'prefix adapter folder or .zip', placeholder: 'path' },
    out: { type: 'string', required: true, help: 'output folder (or .zip) for the NTK adapter', placeholder: 'path' },
    'feature-map': { type: 'enum', values: ['taylor2', 'elu1'], default: 'taylor2', help: 'φ (taylor2 approximates e^t; elu1 does not)' },
    task: { type: 'string', default: 'sotu', help: 'task the losses are measured on' },
    batches: { type: 'number', default: 8, min: 1, max: 10000, integer: true, help: 'validation batches' },
    seed: { type: 'number', default: 1, min: 0, max: 2 ** 31 - 1, integer: true, help: 'seed of the validation batches' },
  },
  async run({ options: o }, ctx) {
    const gpu = await ctx.gpu();
    const { base, model } = await loadModel(gpu, o.base, o.adapter);
    try {
      if (model.adapter.method !== 'prefix') throw new ArgError(`--adapter holds a ${model.adapter.method} adapter; convert takes a prefix-tuning adapter`);
      const task = await taskFor(o.task, base, base.config.contextLength, o.seed, ctx);
      const { conversion, report } = await convertWithReport(gpu, model, task, { featureMap: o['feature-map'] as 'taylor2' | 'elu1', batches: o.batches, seed: o.seed });
      const files = exportAdapter(baseIdentity(base), conversion.adapter, conversion.params);
      files.set('report.json', jsonBytes({ command: 'convert', from: o.adapter, task: o.task, ...report }));
      const written = await writeCheckpoint(o.out, files);
      ctx.out(
        `prefix m=${report.m} (${report.prefixParams} parameters): val loss ${fmt(report.prefix.loss)}; ` +
          `NTK-Attention ${report.featureMap} r=${report.r} (${report.ntkParams} parameters): val loss ${fmt(report.ntk.loss)}; ` +
          `gap ${fmt(report.lossGap, 5)}. Wrote ${written.join(', ')}`,
      );
    } finally {
      model.destroy();
    }
  },
});
