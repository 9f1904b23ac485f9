// The contract between the data layer and the trainer.
//
// A batch is row-major [B, T]: inputs[b*T + t] is the token at position t of row b, and
// targets[b*T + t] is the token the model should predict there (the next token), or
// IGNORE_INDEX (−1) where nothing is predicted (prompt positions and padding of synthetic
// tasks). The loss is the mean cross-entropy over the positions whose target is not −1.

import type { Rng } from '../util/rng';
import { DataError } from './errors';
import type { Tokenizer } from './tokenizer';

export const IGNORE_INDEX = -1;

export type Split = 'train' | 'val';

export interface Batch {
  B: number;
  T: number;
  /** [B*T] token ids. */
  inputs: Int32Array;
  /** [B*T] next-token ids, IGNORE_INDEX where the position does not count. */
  targets: Int32Array;
}

interface TaskBase {
  readonly name: string;
  /** What the task encodes with: the base model's tokenizer (a character Vocab or GPT-2 BPE). */
  readonly tokenizer: Tokenizer;
  /** Smallest sequence length T that nextBatch accepts. */
  readonly minSeqLen: number;
  /** Largest T that nextBatch accepts (text: the shortest split must hold T+1 tokens). */
  readonly maxSeqLen: number;
  /** Fraction of the task's characters that are outside a character vocabulary and map to
   *  UNK_ID (0 for BPE, which covers every string, and for synthetic tasks, whose characters
   *  are checked up front). */
  readonly unknownFraction: number;
  /** A random batch from one split; deterministic given the rng's state. To get the same
   *  validation batches at every evaluation, pass a fresh `new Rng(fixedSeed)` each time. */
  nextBatch(split: Split, B: number, T: number, rng: Rng): Batch;
}

export interface TextTaskApi extends TaskBase {
  readonly kind: 'text';
  /** The whole encoded corpus. */
  readonly tokens: Int32Array;
  /** Half-open [start, end) ranges of `tokens` that form each split (disjoint, sorted). */
  splitRanges(split: Split): ReadonlyArray<readonly [number, number]>;
  /** Number of tokens in a split. */
  splitSize(split: Split): number;
  /** UTF-8 bytes of the text that a split's tokens stand for (for bits per byte). */
  splitBytes(split: Split): number;
  /** Characters outside a character vocabulary with their counts, most frequent first
   *  (always empty for BPE). */
  readonly unknownChars: ReadonlyArray<readonly [string, number]>;
}

export interface SyntheticExample {
  /** e.g. "123+45=" */
  prompt: string;
  /** e.g. "168." (ends with the task's end mark, so the model learns to stop) */
  answer: string;
}

/** Greedy decoder supplied by the trainer: given the prompt's ids, return the generated ids
 *  (at most `maxNew`; it may stop early, e.g. after the end mark). */
export type GreedyDecoder = (promptTokens: number[], maxNew: number) => Promise<number[]>;

export interface ExactMatch {
  correct: number;
  total: number;
  /** correct / total, 0 when total is 0. */
  accuracy: number;
}

export interface GreedyExactMatch extends ExactMatch {
  /** The first few examples with what the model produced, for display. */
  samples: { prompt: string; answer: string; predicted: string; ok: boolean }[];
}

export interface SyntheticTaskApi extends TaskBase {
  readonly kind: 'synthetic';
  /** Token id of the end mark that closes every answer. */
  readonly endId: number;
  /** Longest prompt+answer in tokens, an upper bound (minSeqLen = maxExampleLen − 1). */
  readonly maxExampleLen: number;
  /** Longest answer in tokens, an upper bound (the decoder's maxNew). */
  readonly maxAnswerLen: number;
  /** One example from a split; train and val never share a prompt. */
  sample(split: Split, rng: Rng): SyntheticExample;
  /** A batch built from the given examples (in order), padded with id 0. */
  batchOf(examples: SyntheticExample[], T: number): Batch;
  /** Exact match by greedy generation: n examples from `split`, each decoded from its prompt;
   *  right iff the output's text, cut after the first end mark, equals the answer. */
  greedyExactMatch(decode: GreedyDecoder, n: number, rng: Rng, split?: Split): Promise<GreedyExactMatch>;
}

export type Task = TextTaskApi | SyntheticTaskApi;

export function checkShape(B: number, T: number, minT: number, maxT: number): void {
  if (!Number.isInteger(B) || B < 1) throw new DataError('bad-shape', `batch size must be a positive integer, got ${B}`);
  if (!Number.isInteger(T) || T < 1) throw new DataError('bad-shape', `sequence length must be a positive integer, got ${T}`);
  if (T < minT) throw new DataError('bad-shape', `sequence length ${T} is too short for this task: examples need at least ${minT}`, { needed: minT });
  if (T > maxT) throw new DataError('too-short', `sequence length ${T} is longer than this task's data allows (at most ${maxT})`, { max: maxT });
}

/** Row-wise argmax of logits [N, V] (first index on ties). */
export function argmaxRows(logits: ArrayLike<number>, N: number, V: number): Int32Array {
  const out = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    let best = 0;
    let bv = logits[i * V];
    for (let j = 1; j < V; j++) {
      const x = logits[i * V + j];
      if (x > bv) {
        bv = x;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}

/** Teacher-forced exact match: a row is right iff the argmax prediction equals the target at
 *  EVERY counted position (target ≠ −1), i.e. the whole answer span is right given the true
 *  prefix. Rows with no counted position are not scored. No generation needed, so it is
 *  cheap enough to compute on every validation batch; it is an upper bound on greedy exact
 *  match (a greedy decoder feeds back its own mistakes). */
export function teacherForcedExactMatch(predicted: ArrayLike<number>, targets: ArrayLike<number>, B: number, T: number): ExactMatch {
  if (predicted.length < B * T || targets.length < B * T) throw new DataError('bad-shape', `expected at least ${B * T} predictions and targets`);
  let correct = 0;
  let total = 0;
  for (let b = 0; b < B; b++) {
    let counted = 0;
    let ok = true;
    for (let t = 0; t < T; t++) {
      const y = targets[b * T + t];
      if (y === IGNORE_INDEX) continue;
      counted++;
      if (predicted[b * T + t] !== y) ok = false;
    }
    if (counted === 0) continue;
    total++;
    if (ok) correct++;
  }
  return { correct, total, accuracy: total ? correct / total : 0 };
}

/** Fraction of counted positions where the prediction equals the target. */
export function tokenAccuracy(predicted: ArrayLike<number>, targets: ArrayLike<number>): ExactMatch {
  let correct = 0;
  let total = 0;
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] === IGNORE_INDEX) continue;
    total++;
    if (predicted[i] === targets[i]) correct++;
  }
  return { correct, total, accuracy: total ? correct / total : 0 };
}

/** Bits per byte of a text task's split from a mean loss in nats per token: the same text
 *  costs the same bits whichever tokenizer cut it, so a character model and a BPE model
 *  compare on this (not on loss per token, whose tokens differ in size). */
export function bitsPerByte(lossNatsPerToken: number, task: Pick<TextTaskApi, 'splitSize' | 'splitBytes'>, split: Split = 'val'): number {
  const bytes = task.splitBytes(split);
  if (!(bytes > 0)) throw new DataError('split-empty', `the ${split} split has no bytes, so bits per byte is undefined`);
  return (lossNatsPerToken * task.splitSize(split)) / (bytes * Math.LN2);
}
