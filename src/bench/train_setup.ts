// The training benchmarks' common setting: the app's default base model (the shipped
// public/models/base, its weights), Moby Dick batches at the run defaults, and the
// trainer's AdamW settings. Shared by train.bench.ts and profile.bench.ts so that the
// profile is of exactly the step the throughput table times.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTask } from '../data';
import { nodeReader, PUBLIC_DIR } from '../data/node';
import type { Gpu } from '../gpu/runtime';
import { importBase } from '../io/checkpoint';
import type { StepHyper } from '../model/gpt';
import type { AdapterSpec } from '../model/params';
import { assembleFresh } from '../train/adapt';
import { defaultConfig } from '../train/config';
import type { BatchBuffers } from '../train/trainer';
import { Rng } from '../util/rng';

/** The app's default base model. */
const SHIPPED = join(PUBLIC_DIR, 'models/base');
export const SEED = 1234;

export async function defaultTrainSetting() {
  const run = defaultConfig();
  const B = run.batch;
  const T = run.seqLen;
  const shipped = await importBase(new Map(readdirSync(SHIPPED).map((f) => [f, new Uint8Array(readFileSync(join(SHIPPED, f)))])));
  const { config, vocab } = shipped;
  if (T > config.contextLength) throw new Error(`train bench: seqLen ${T} exceeds the default model's context ${config.contextLength}`);
  const task = await createTask('moby-dick', { readText: nodeReader(), tokenizer: vocab, seed: SEED, seqLen: T });
  const dataRng = new Rng(SEED);
  const batches = Array.from({ length: 4 }, () => task.nextBatch('train', B, T, dataRng));
  // The trainer's AdamW settings (betas/eps as trainer.ts passes them), constant lr. Weight
  // decay 0.1 (the app's default is 0) so that the decoupled-decay path runs.
  const hyper: StepHyper = { lr: run.lr, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: run.gradClip };
  return { run, B, T, config, vocab, base: shipped.params, batches, hyper };
}

export type TrainSetting = Awaited<ReturnType<typeof defaultTrainSetting>>;

export type StepSetting = Pick<TrainSetting, 'config' | 'base' | 'batches' | 'B' | 'T' | 'hyper'>;

/** Our model with adapter `a` on the setting's base weights, and one training step of it. */
export function oursStep(gpu: Gpu, s: StepSetting, a: AdapterSpec, buf: BatchBuffers) {
  const model = assembleFresh(gpu, { config: s.config, params: s.base }, a, SEED + 1);
  const record = (i: number) => {
    const b = s.batches[i % s.batches.length];
    buf.upload(b.inputs, b.targets);
    model.forward(buf.tokens, buf.targets, s.B, s.T);
    model.backward();
    model.optimizerStep(s.hyper);
  };
  const step = async (i: number) => {
    record(i);
    return (await gpu.read(model.stats, 1))[0];
  };
  return { model, record, step };
}
