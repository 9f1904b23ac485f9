// `npm run cli -- pretrain --out models/base`: trains a base GPT from seeded random weights
// (every parameter trained) and writes it as a Hugging Face GPT-2 folder (or .zip) with the
// character vocabulary and a training.json that records every setting, so that the same
// command re-creates it. public/models/base (the app's shipped model) is made this way.
import { readFile } from 'node:fs/promises';
import { createTask, SYNTHETIC_TASKS, Vocab } from '../data';
import { nodeReader } from '../data/node';
import { describeAdapter } from '../gpu/device';
import { exportBase } from '../io/checkpoint';
import { jsonBytes } from '../io/bundle';
import { pretrain } from '../lab/pretrain';
import { baseParamSpecs, countParams, validateConfig, type ModelConfig } from '../model/params';
import type { RunFieldName } from '../train/config';
import { ArgError, defineCommand } from './args';
import { bpb, fmt, runConfigFrom, runOptions, taskFor, withProgress, writeCheckpoint } from './common';

const RUN: readonly RunFieldName[] = ['task', 'steps', 'batch', 'seqLen', 'lr', 'minLrRatio', 'warmup', 'weightDecay', 'gradClip', 'evalEvery', 'evalBatches', 'seed'];

/** Every character the built-in tasks use: the corpora and the synthetic tasks' alphabets. */
export async function builtInVocabText(): Promise<string> {
  const read = nodeReader();
  const parts = [await read('data/moby-dick.txt'), await read('data/sotu.txt')];
  for (const name of SYNTHETIC_TASKS) parts.push(((await createTask(name)).tokenizer as Vocab).chars.join(''));
  return parts.join('');
}

export const command = defineCommand({
  name: 'pretrain',
  summary: 'train a base model from scratch and save it (Hugging Face GPT-2 folder + vocab)',
  description: [
    'Trains a GPT-2-style model from seeded random weights on a task (a corpus by default),',
    'then writes config.json, model.safetensors, vocab.json and training.json (every setting',
    'of this run: the same command with the same settings gives the same model) to --out, a',
    'folder, or one .zip file when --out ends in .zip.',
    'The vocabulary covers every built-in corpus and synthetic task (--vocab builtin) so the',
    'model can be adapted to any of them, or only the training text (--vocab task).',
  ].join('\n'),
  options: {
    out: { type: 'string', required: true, help: 'output folder (or .zip file)', placeholder: 'path' },
    layers: { type: 'number', default: 2, min: 1, max: 48, integer: true, help: 'transformer blocks' },
    heads: { type: 'number', default: 4, min: 1, max: 64, integer: true, help: 'attention heads' },
    width: { type: 'number', default: 64, min: 1, max: 4096, integer: true, help: 'model width C (divisible by heads)' },
    context: { type: 'number', default: 64, min: 2, max: 4096, integer: true, help: 'context length (rows of the position embedding)' },
    vocab: { type: 'enum', values: ['builtin', 'task'], default: 'builtin', help: 'characters the model knows' },
    ...runOptions(RUN, { task: 'moby-dick', steps: 500, batch: 16, seqLen: 64, lr: 3e-3, warmup: 30, weightDecay: 0.01, evalEvery: 100 }),
  },
  async run({ options: o }, ctx) {
    const rc = runConfigFrom(o, RUN, { method: 'full' });
    const config0 = { contextLength: o.context, nLayer: o.layers, nHead: o.heads, nEmbd: o.width };
    if (rc.seqLen > o.context) throw new ArgError(`--seq-len ${rc.seqLen} exceeds --context ${o.context}`);
    let vocabText: string;
    if (o.vocab === 'builtin') vocabText = await builtInVocabText();
    else if (/[/\\]|\.txt$/i.test(rc.task)) vocabText = await readFile(rc.task, 'utf8');
    else vocabText = ((await createTask(rc.task, { readText: nodeReader() })).tokenizer as Vocab).chars.join('');
    const vocab = Vocab.fromText(vocabText);
    const config: ModelConfig = { vocabSize: vocab.size, ...config0 };
    const bad = validateConfig(config);
    if (bad) throw new ArgError(bad);

    const gpu = await ctx.gpu();
    const task = await taskFor(rc.task, { tokenizer: vocab, vocab, config }, rc.seqLen, rc.seed, ctx);
    ctx.err(`adapter: ${describeAdapter(gpu.report)}`);
    ctx.err(`model: ${config.nLayer} layers, ${config.nHead} heads, width ${config.nEmbd}, context ${config.contextLength}, vocabulary ${vocab.size}: ${countParams(baseParamSpecs(config)).toLocaleString('en')} parameters`);
    const { summary, params } = await withProgress(rc.steps, 'pretrain', ctx, ({ onEvent, signal }) => pretrain({ gpu, config, task, run: rc, runId: 'pretrain', onEvent, signal }));
    if (!params) throw new Error(`pretraining ${summary.state}: ${summary.message ?? 'no weights to write'}`);
    const files = await exportBase(config, vocab, params);
    const record = {
      command: 'pretrain',
      // Only the settings pretraining uses (the flags that re-create this model).
      settings: { ...Object.fromEntries(RUN.map((n) => [n, rc[n]])), layers: o.layers, heads: o.heads, width: o.width, context: o.context, vocab: o.vocab },
      result: { finalTrainLoss: summary.finalTrainLoss, finalValLoss: summary.finalValLoss, finalValBitsPerByte: summary.finalValBitsPerByte ?? null, msPerStep: summary.msPerStep, state: summary.state },
      adapter: describeAdapter(gpu.report),
    };
    files.set('training.json', jsonBytes(record));
    const written = await writeCheckpoint(o.out, files);
    ctx.out(`pretrained: train loss ${fmt(summary.finalTrainLoss)}, val loss ${fmt(summary.finalValLoss)}${bpb(summary.finalValBitsPerByte)} (${summary.state}); wrote ${written.join(', ')}`);
  },
});
