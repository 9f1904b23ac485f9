// `npm run cli -- eval --base public/models/base [--adapter runs/p16] --task reverse`:
// validation loss (and exact-match accuracy on synthetic tasks) of a base model, with or
// without an adapter, on fixed validation batches; the same evaluate() training reports.
import { describeAdapter } from '../gpu/device';
import { evaluateOn } from '../lab/run';
import { runSeqLen } from '../lab/task';
import { defineCommand } from './args';
import { bpb, fmt, loadModel, taskFor, writeJson } from './common';

export const command = defineCommand({
  name: 'eval',
  summary: 'validation loss (and accuracy) of a base model, with or without an adapter',
  description: [
    'Evaluates on --batches fixed validation batches of --task (the same batches for the',
    'same --seed, so runs compare like for like). Prints the loss per token and, on text, in',
    'bits per byte (comparable across tokenizers), or for synthetic tasks the exact-match',
    'accuracy; --out writes them as JSON.',
  ].join('\n'),
  options: {
    base: { type: 'string', default: 'public/models/base', help: 'base model folder or .zip', placeholder: 'path' },
    adapter: { type: 'string', help: 'adapter folder or .zip (omit for the base model alone)', placeholder: 'path' },
    task: { type: 'string', default: 'sotu', help: 'task name or text file' },
    batches: { type: 'number', default: 8, min: 1, max: 10000, integer: true, help: 'validation batches' },
    batch: { type: 'number', default: 8, min: 1, max: 512, integer: true, help: 'batch size' },
    'seq-len': { type: 'number', default: 64, min: 1, max: 4096, integer: true, help: 'sequence length (capped at the context)' },
    seed: { type: 'number', default: 1, min: 0, max: 2 ** 31 - 1, integer: true, help: 'seed of the validation batches' },
    out: { type: 'string', help: 'write the result as JSON here', placeholder: 'file.json' },
  },
  async run({ options: o }, ctx) {
    const gpu = await ctx.gpu();
    const { base, model, label } = await loadModel(gpu, o.base, o.adapter);
    try {
      const task = await taskFor(o.task, base, o['seq-len'], o.seed, ctx);
      const T = runSeqLen({ seqLen: o['seq-len'] }, base.config, task);
      const r = await evaluateOn(gpu, model, task, { batch: o.batch, T, batches: o.batches, seed: o.seed });
      const acc = r.accuracy !== null ? `, accuracy ${(100 * r.accuracy).toFixed(1)}%` : '';
      const mass = r.prefixMass !== null ? `, prefix mass ${r.prefixMass.toFixed(3)}` : '';
      ctx.out(`${label} on ${o.task}: val loss ${fmt(r.loss)}${bpb(r.bitsPerByte)}${acc}${mass} (${o.batches}×${o.batch}×${T} tokens)`);
      if (o.out) await writeJson(o.out, { task: o.task, base: o.base, adapter: o.adapter ?? null, batches: o.batches, batch: o.batch, T, seed: o.seed, ...r, device: describeAdapter(gpu.report) });
    } finally {
      model.destroy();
    }
  },
});
