// `npm run cli -- adapt --base public/models/base --method prefix --prefix-length 16 --out runs/p16`:
// adapts a base model to a task with one of the four methods and writes the adapter (PEFT
// folder, or our NTK-Attention format) plus result.json (settings, loss, parameters).
import { describeAdapter } from '../gpu/device';
import { exportAdapter, exportBase } from '../io/checkpoint';
import { jsonBytes } from '../io/bundle';
import { adapterSpecOf, buildAdaptedModel, initialEffect, readTrained } from '../train/adapt';
import type { RunFieldName } from '../train/config';
import { defineCommand } from './args';
import { fmt, loadBase, runConfigFrom, runOptions, taskFor, trainWithProgress, writeCheckpoint } from './common';

export const ADAPT_FIELDS: readonly RunFieldName[] = [
  'method', 'task', 'prefixLength', 'prefixInit', 'featureMap', 'kParam', 'ntkRank', 'loraRank', 'loraAlpha',
  'steps', 'batch', 'seqLen', 'lr', 'minLrRatio', 'warmup', 'weightDecay', 'gradClip', 'evalEvery', 'evalBatches', 'seed',
];

export const command = defineCommand({
  name: 'adapt',
  summary: 'adapt a base model to a task (full, prefix, ntk, lora) and save the adapter',
  description: [
    'Loads a base model (a folder or .zip written by pretrain, or a Hugging Face GPT-2 export of',
    'ours), adapts it to --task with --method, and writes to --out: the adapter (prefix and',
    'LoRA as PEFT folders, NTK-Attention in our documented format, full fine-tuning as a new',
    'base model) and result.json with every setting and the final losses.',
    '--task takes a synthetic task (reverse, sort, add, copy-rule), a corpus (moby-dick, sotu)',
    'or a path to a UTF-8 text file.',
  ].join('\n'),
  options: {
    base: { type: 'string', default: 'public/models/base', help: 'base model folder or .zip', placeholder: 'path' },
    out: { type: 'string', required: true, help: 'output folder (or .zip file) for the adapter', placeholder: 'path' },
    ...runOptions(ADAPT_FIELDS),
  },
  async run({ options: o }, ctx) {
    const rc = runConfigFrom(o, ADAPT_FIELDS);
    const base = await loadBase(o.base);
    const gpu = await ctx.gpu();
    ctx.err(`adapter: ${describeAdapter(gpu.report)}`);
    const task = await taskFor(rc.task, base.tokenizer, rc.seqLen, rc.seed, ctx);
    const model = await buildAdaptedModel(gpu, base, rc, task);
    try {
      ctx.err(`${rc.method}: ${model.trainableCount().toLocaleString('en')} trainable parameters`);
      const T = Math.min(rc.seqLen, base.config.contextLength, task.maxSeqLen);
      const effect = await initialEffect(gpu, base, model, task, Math.min(rc.batch, 4), T, rc.seed);
      ctx.err(`untrained adapter vs base: logits differ by at most ${effect.maxAbs.toExponential(2)} (relative ${effect.rel.toExponential(2)})`);
      const summary = await trainWithProgress(gpu, model, task, rc, rc.method, ctx);
      const trained = await readTrained(model);
      const spec = adapterSpecOf(rc);
      if (spec.method === 'full' && !base.vocab) throw new Error(`exporting a fully fine-tuned ${base.tokenizer.describe()} base is not supported yet (only character-level bases export as a new base); adapt it with prefix, ntk or lora instead`);
      const files =
        spec.method === 'full'
          ? await exportBase(base.config, base.vocab!, trained)
          : exportAdapter({ config: base.config, fingerprint: base.fingerprint, name: base.modelName }, spec, trained);
      const result = {
        command: 'adapt',
        settings: rc,
        base: { path: o.base, fingerprint: base.fingerprint, config: base.config },
        trainableParams: model.trainableCount(),
        initialEffect: effect,
        result: {
          finalTrainLoss: summary.finalTrainLoss, finalValLoss: summary.finalValLoss, finalValAccuracy: summary.finalValAccuracy,
          prefixMass: summary.prefixMass, msPerStep: summary.msPerStep, state: summary.state,
        },
        adapter: describeAdapter(gpu.report),
      };
      files.set('result.json', jsonBytes(result));
      const written = await writeCheckpoint(o.out, files);
      const acc = summary.finalValAccuracy !== null ? `, val accuracy ${(100 * summary.finalValAccuracy).toFixed(1)}%` : '';
      ctx.out(`${rc.method}: val loss ${fmt(summary.finalValLoss)}${acc}, ${model.trainableCount()} trainable parameters; wrote ${written.join(', ')}`);
    } finally {
      model.destroy();
    }
  },
});
