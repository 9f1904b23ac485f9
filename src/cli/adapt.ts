// `npm run cli -- adapt --base public/models/base --method prefix --prefix-length 16 --out runs/p16`:
// adapts a base model to a task with one of the four methods and writes the adapter (PEFT
// folder, or our NTK-Attention format) plus result.json (settings, loss, parameters).
import { describeAdapter } from '../gpu/device';
import { jsonBytes } from '../io/bundle';
import { exportProblem, exportTrained, runAdaptation } from '../lab/run';
import { adapterSpecOf } from '../train/adapt';
import type { RunFieldName } from '../train/config';
import { defineCommand } from './args';
import { bpb, fitOn, fmt, loadBase, runConfigFrom, runOptions, taskFor, withProgress, writeCheckpoint } from './common';

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
    const gpu = await ctx.gpu();
    ctx.err(`adapter: ${describeAdapter(gpu.report)}`);
    const adapter = adapterSpecOf(rc);
    const base = await loadBase(o.base, fitOn(gpu, { adapter, batch: rc.batch, seqLen: rc.seqLen, training: true }));
    // Refused before training, not after: a run whose result cannot be written is wasted.
    const cannot = exportProblem(base, adapter);
    if (cannot) throw new Error(cannot);
    const task = await taskFor(rc.task, base, rc.seqLen, rc.seed, ctx);
    const run = await withProgress(rc.steps, rc.method, ctx, ({ onEvent, signal }) =>
      runAdaptation({
        gpu, base, config: rc, task, runId: rc.method, onEvent, signal, measureInitialEffect: true,
        onStart: (s) => {
          ctx.err(`${rc.method}: ${s.trainableParams.toLocaleString('en')} trainable parameters`);
          const e = s.initialEffect!;
          ctx.err(`untrained adapter vs base: logits differ by at most ${e.maxAbs.toExponential(2)} (relative ${e.rel.toExponential(2)})`);
        },
      }),
    );
    const { summary } = run;
    if (!run.trained) throw new Error(`the trained tensors could not be read back: ${run.trainedError ?? summary.state}`);
    const { files } = await exportTrained(base, run.adapter, run.trained);
    const result = {
      command: 'adapt',
      settings: rc,
      base: { path: o.base, fingerprint: base.fingerprint, config: base.config },
      trainableParams: run.trainableParams,
      initialEffect: run.initialEffect,
      result: {
        finalTrainLoss: summary.finalTrainLoss, finalValLoss: summary.finalValLoss, finalValBitsPerByte: summary.finalValBitsPerByte ?? null, finalValAccuracy: summary.finalValAccuracy,
        prefixMass: summary.prefixMass, msPerStep: summary.msPerStep, state: summary.state,
      },
      adapter: describeAdapter(gpu.report),
    };
    files.set('result.json', jsonBytes(result));
    const written = await writeCheckpoint(o.out, files);
    const acc = summary.finalValAccuracy !== null ? `, val accuracy ${(100 * summary.finalValAccuracy).toFixed(1)}%` : '';
    ctx.out(`${rc.method}: val loss ${fmt(summary.finalValLoss)}${bpb(summary.finalValBitsPerByte)}${acc}, ${run.trainableParams} trainable parameters; wrote ${written.join(', ')}`);
  },
});
