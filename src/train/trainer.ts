// The training loop: batches from a task, forward, backward, clipping, AdamW with warm-up
// and cosine decay, periodic validation, a metrics stream, pause/resume/step/stop, and a
// clear stop when the loss stops being finite. Deterministic given the seed and adapter.
import type { Gpu, Tensor } from '../gpu/runtime';
import { GpuError } from '../gpu/errors';
import { argmaxRows, bitsPerByte, teacherForcedExactMatch, type Task } from '../data';
import type { GptGpu } from '../model/gpt';
import { Rng } from '../util/rng';
import type { RunConfig } from './config';
import { RunControl } from './control';
import type { RunEvent, RunListener, RunSummary, RunState } from './events';
import { learningRate } from './schedule';

export interface EvalResult {
  /** Mean cross-entropy in nats per token. */
  loss: number;
  /** The same loss as bits per UTF-8 byte of the validation text (text tasks; null for
   *  synthetic ones): comparable across tokenizers, which loss per token is not. */
  bitsPerByte: number | null;
  accuracy: number | null;
  prefixMass: number | null;
}

/** The sequence length T a run trains and evaluates at: the asked one, capped at the
 *  model's context and the task's longest window. */
export function runSeqLen(s: { seqLen: number }, config: { contextLength: number }, task: { maxSeqLen: number }): number {
  return Math.min(s.seqLen, config.contextLength, task.maxSeqLen);
}

/** The seed of the validation batches for a run seeded `seed`: every evaluation of a run
 *  (the trainer's, an imported adapter's, an experiment's base line) draws the same batches. */
export function validationSeed(seed: number): number {
  return (seed ^ 0x5eed5eed) >>> 0;
}

/** Uploads a batch into reusable token/target tensors. */
export class BatchBuffers {
  readonly tokens: Tensor;
  readonly targets: Tensor;
  constructor(private gpu: Gpu, readonly B: number, readonly T: number) {
    this.tokens = gpu.tensor([B, T], undefined, 'tokens');
    this.targets = gpu.tensor([B, T], undefined, 'targets');
  }
  upload(inputs: Int32Array, targets: Int32Array) {
    this.gpu.write(this.tokens, new Uint32Array(inputs.buffer, inputs.byteOffset, inputs.length));
    this.gpu.write(this.targets, targets);
  }
  release() {
    this.gpu.release(this.tokens, this.targets);
  }
}

/** Mean of every prefix-mass (β) value of the last forward pass, or null without a prefix. */
async function meanPrefixMass(gpu: Gpu, model: GptGpu): Promise<number | null> {
  if (model.adapter.method !== 'prefix' && model.adapter.method !== 'ntk') return null;
  if (model.adapter.method === 'prefix' && model.adapter.prefixLength === 0) return 0;
  let sum = 0;
  let n = 0;
  for (const t of model.prefixMassTensors()) {
    const v = await gpu.read(t);
    for (const x of v) sum += x;
    n += v.length;
  }
  return n ? sum / n : null;
}

/** Validation loss (and exact match for synthetic tasks) over `batches` fixed batches. */
export async function evaluate(gpu: Gpu, model: GptGpu, task: Task, buf: BatchBuffers, batches: number, seed: number): Promise<EvalResult> {
  const rng = new Rng(seed); // the same validation batches at every evaluation
  let loss = 0;
  let correct = 0;
  let total = 0;
  let mass = 0;
  let massN = 0;
  for (let i = 0; i < batches; i++) {
    const b = task.nextBatch('val', buf.B, buf.T, rng);
    buf.upload(b.inputs, b.targets);
    // Exact match needs every position's argmax; loss-only evaluation no logits at all.
    model.forward(buf.tokens, buf.targets, buf.B, buf.T, { logits: task.kind === 'synthetic' ? 'all' : 'none' });
    loss += (await gpu.read(model.stats, 1))[0];
    if (task.kind === 'synthetic') {
      const logits = await gpu.read(model.logitsTensor());
      const ids = argmaxRows(logits, buf.B * buf.T, model.config.vocabSize);
      const em = teacherForcedExactMatch(ids, b.targets, buf.B, buf.T);
      correct += em.correct;
      total += em.total;
    }
    const pm = await meanPrefixMass(gpu, model);
    if (pm !== null) {
      mass += pm;
      massN++;
    }
  }
  const mean = loss / batches;
  return {
    loss: mean,
    bitsPerByte: task.kind === 'text' && Number.isFinite(mean) ? bitsPerByte(mean, task, 'val') : null,
    accuracy: task.kind === 'synthetic' ? (total ? correct / total : 0) : null,
    prefixMass: massN ? mass / massN : null,
  };
}

export interface TrainArgs {
  gpu: Gpu;
  model: GptGpu;
  task: Task;
  config: RunConfig;
  runId: string;
  onEvent?: RunListener;
  control?: RunControl;
}

/** Trains for config.steps steps; resolves with a summary (also when stopped or diverged). */
export async function train({ gpu, model, task, config, runId, onEvent, control = new RunControl() }: TrainArgs): Promise<RunSummary> {
  const emit = (e: RunEvent) => onEvent?.(e);
  const B = config.batch;
  const T = runSeqLen(config, model.config, task);
  if (T < task.minSeqLen) {
    throw new GpuError('shape', `task '${task.name}' needs sequences of at least ${task.minSeqLen} tokens, but this run uses ${T} (seqLen ${config.seqLen}, model context ${model.config.contextLength}); raise seqLen`);
  }
  const buf = new BatchBuffers(gpu, B, T);
  const rng = new Rng(config.seed);
  const valSeed = validationSeed(config.seed);
  const schedule = { lr: config.lr, minLr: config.lr * config.minLrRatio, warmup: config.warmup, steps: config.steps };
  let state: RunState = 'running';
  let message: string | undefined;
  let lastTrain = NaN;
  let lastEval: EvalResult = { loss: NaN, bitsPerByte: null, accuracy: null, prefixMass: null };
  let msEma: number | null = null;
  emit({ type: 'status', runId, state: 'compiling', message: 'compiling shaders (first step)' });
  try {
    for (let step = 0; step < config.steps; step++) {
      if (!(await control.checkpoint())) {
        state = 'stopped';
        break;
      }
      const t0 = performance.now();
      const b = task.nextBatch('train', B, T, rng);
      buf.upload(b.inputs, b.targets);
      model.forward(buf.tokens, buf.targets, B, T);
      model.backward();
      const lr = learningRate(schedule, step);
      model.optimizerStep({ lr, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: config.weightDecay, gradClip: config.gradClip });
      const [loss] = await gpu.read(model.stats, 1);
      const [gradNorm] = await gpu.read(model.normOut, 1);
      const ms = performance.now() - t0;
      // The first step compiles every shader: keep it out of the speed figures.
      if (step > 0) msEma = msEma === null ? ms : 0.8 * msEma + 0.2 * ms;
      if (step === 0) emit({ type: 'status', runId, state: 'running' });
      lastTrain = loss;
      emit({
        type: 'step', runId, step: step + 1, totalSteps: config.steps, trainLoss: loss, lr, gradNorm,
        tokensPerSec: msEma === null ? null : (B * T * 1000) / msEma, msPerStep: msEma, gpuBytes: gpu.memory().liveBytes,
      });
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
        state = 'diverged';
        message = `training diverged at step ${step + 1}: the loss is ${loss} (gradient norm ${gradNorm}); lower the learning rate`;
        break;
      }
      if ((step + 1) % config.evalEvery === 0 || step + 1 === config.steps) {
        lastEval = await evaluate(gpu, model, task, buf, config.evalBatches, valSeed);
        emit({ type: 'eval', runId, step: step + 1, valLoss: lastEval.loss, valAccuracy: lastEval.accuracy, prefixMass: lastEval.prefixMass });
      }
    }
    if (state === 'running') state = 'done';
  } catch (e) {
    state = 'error';
    message = (e as Error).message;
    if (!(e instanceof GpuError && e.kind === 'device-lost')) throw e;
  } finally {
    if (!gpu.lostError) buf.release();
    emit({ type: 'status', runId, state, message });
  }
  return {
    runId, config, trainableParams: model.trainableCount(), finalTrainLoss: lastTrain, finalValLoss: lastEval.loss,
    finalValAccuracy: lastEval.accuracy, finalValBitsPerByte: lastEval.bitsPerByte, prefixMass: lastEval.prefixMass, msPerStep: msEma, state, message,
  };
}
