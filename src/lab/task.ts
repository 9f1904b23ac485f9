// The task a run trains and evaluates on, built for its base's tokenizer: one taskFor() for
// the CLI, the UI worker and the experiments, so the same settings give the same batches
// everywhere. A synthetic task on a character vocabulary writes its format with the
// punctuation that vocabulary has; a corpus or the user's own text is encoded as it is
// (characters a character vocabulary lacks read as the unknown token).
import {
  createTask,
  DataError,
  isSyntheticName,
  SYNTHETIC_TASKS,
  syntheticTask,
  TextTask,
  textTaskFromBytes,
  type ReadText,
  type SyntheticSymbols,
  type SyntheticTask,
  type Task,
  type Vocab,
} from '../data';
import type { BaseModel } from '../model/base';
import type { ModelConfig } from '../model/params';
import { runSeqLen } from '../train/trainer';

/** What a task needs of its base model: the tokenizer, the character vocabulary (null for
 *  BPE), the context (a run's sequence length is capped at it) and, to key the cache (a task
 *  is encoded with its base's tokenizer), the fingerprint. */
export type TaskBase = Pick<BaseModel, 'tokenizer' | 'vocab'> & Partial<Pick<BaseModel, 'fingerprint'>> & { config: Pick<ModelConfig, 'contextLength'> };

export interface TaskSettings {
  task: string;
  seed: number;
  seqLen: number;
}

/** The user's own text (a file they picked, or one named on the command line). */
export type OwnText = { name: string; text: string } | { name: string; bytes: Uint8Array };

export interface TaskOptions {
  /** Reads the built-in corpora (fetchReader in the browser, nodeReader in Node). */
  readText?: ReadText;
  /** The text of a task that is the user's own file. */
  ownText?: OwnText;
  /** Built tasks by base, name and seed (encoding a corpus takes a moment; runs reuse it). */
  cache?: Map<string, Task>;
}

/** Characters the synthetic tasks need besides letters and digits (their default symbols). */
export const SYNTHETIC_SYMBOLS = '>+=.';

/** Synthetic-task format characters that exist in a base vocabulary (a shipped model's may
 *  lack '>' or '+'); null when no candidate fits. */
export function symbolsFor(vocab: Vocab): SyntheticSymbols | null {
  const pick = (cands: string) => [...cands].find((c) => vocab.has(c)) ?? null;
  const sep = pick('>:|;-');
  const plus = pick('+&,');
  const equals = pick('=:;');
  const end = pick('.!;');
  if (!sep || !plus || !equals || !end) return null;
  return { sep, plus, equals, end };
}

/** A synthetic task on this base's tokenizer: a character vocabulary writes the format with
 *  the default symbols when it has those the task uses, else with the punctuation it has;
 *  BPE writes any string (the data layer refuses what does not fit). */
export function syntheticFor(name: string, b: Pick<BaseModel, 'tokenizer' | 'vocab'>): SyntheticTask {
  if (!isSyntheticName(name)) throw new DataError('unknown-task', `'${name}' is not a synthetic task`, { name });
  if (b.vocab) {
    // The default symbols where the vocabulary has the ones this task writes (reverse needs
    // no '+'), else the vocabulary's own punctuation for every symbol.
    try {
      return syntheticTask(name, { tokenizer: b.vocab });
    } catch (e) {
      if (!(e instanceof DataError && e.code === 'vocab-missing-chars')) throw e;
    }
    const symbols = symbolsFor(b.vocab);
    if (!symbols) throw new DataError('vocab-missing-chars', `the base model's vocabulary lacks the punctuation the synthetic task '${name}' needs`, { task: name });
    return syntheticTask(name, { tokenizer: b.vocab, symbols });
  }
  return syntheticTask(name, { tokenizer: b.tokenizer });
}

/** The synthetic tasks this base cannot run, with the reason (the task picker shows it). */
export function taskIssuesFor(b: Pick<BaseModel, 'tokenizer' | 'vocab'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SYNTHETIC_TASKS) {
    try {
      syntheticFor(name, b);
    } catch (e) {
      out[name] = e instanceof Error ? e.message : String(e);
    }
  }
  return out;
}

/** The sequence length a run of these settings uses on this base before the task is known:
 *  the asked one, capped at the base's context. */
export function requestedSeqLen(s: Pick<TaskSettings, 'seqLen'>, config: Pick<ModelConfig, 'contextLength'>): number {
  return Math.min(s.seqLen, config.contextLength);
}

/** The T a run trains and evaluates at, once the task is known (train/trainer.ts). */
export { runSeqLen };

/** Whether a task name is the user's own file (the page's "file:" tasks). */
export const isOwnFileTask = (name: string) => name.startsWith('file:');

/**
 * The task for these settings on this base: the user's own text when `ownText` is given, a
 * synthetic task, or a built-in corpus. Refuses a sequence length (capped at the context)
 * longer than the task's data allows, saying what it allows.
 */
export async function taskFor(base: TaskBase, s: TaskSettings, o: TaskOptions = {}): Promise<Task> {
  const T = requestedSeqLen(s, base.config);
  let task: Task;
  if (o.ownText) {
    const t = o.ownText;
    task = 'bytes' in t ? textTaskFromBytes(t.bytes, t.name, { tokenizer: base.tokenizer, seed: s.seed }) : new TextTask(t.name, t.text, { tokenizer: base.tokenizer, seed: s.seed });
  } else {
    if (isOwnFileTask(s.task)) throw new DataError('file-not-kept', `the task '${s.task}' is your own file: pick or drop it again (files are not kept between visits)`, { name: s.task });
    const key = `${base.fingerprint ?? ''}|${s.task}|${s.seed}`;
    const hit = o.cache?.get(key);
    if (hit) task = hit;
    else {
      task = isSyntheticName(s.task) ? syntheticFor(s.task, base) : await createTask(s.task, { readText: o.readText, tokenizer: base.tokenizer, seed: s.seed });
      o.cache?.set(key, task);
    }
  }
  if (T > task.maxSeqLen) {
    throw new DataError('too-short', `sequence length ${T} is longer than the task '${o.ownText?.name ?? s.task}' allows (at most ${task.maxSeqLen}); lower the sequence length or use a longer text`, { seqLen: T, max: task.maxSeqLen });
  }
  return task;
}
