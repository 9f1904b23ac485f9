// The data layer's public surface (browser and Node). Node-only file helpers: ./node.ts.

import { loadCorpus, type ReadText } from './corpus';
import { DataError } from './errors';
import { isSyntheticName, syntheticTask, SYNTHETIC_TASKS, type SyntheticOptions } from './synthetic';
import type { Task } from './task';
import { TextTask } from './text';
import type { Tokenizer } from './tokenizer';

export * from './errors';
export * from './vocab';
export * from './tokenizer';
export * from './bpe';
export * from './task';
export * from './text';
export * from './synthetic';
export * from './byo';
export * from './corpus';

export interface CreateTaskOptions {
  /** Reads files under public/ (fetchReader in the browser, nodeReader in Node); needed for corpora. */
  readText?: ReadText;
  /** The base model's tokenizer (adaptation): the task encodes with it. */
  tokenizer?: Tokenizer;
  /** Fixes a text task's validation blocks. */
  seed?: number;
  /** Checked up front for text tasks (DataError 'too-short' with the tokens needed). */
  seqLen?: number;
  /** Options for synthetic tasks (lengths, alphabet, symbols). */
  synthetic?: SyntheticOptions;
}

/** A task by name: a synthetic task (reverse, sort, add, copy-rule) or a built-in corpus
 *  (moby-dick, sotu). A user's own file goes through textTaskFromBytes instead. */
export async function createTask(name: string, opts: CreateTaskOptions = {}): Promise<Task> {
  if (isSyntheticName(name)) return syntheticTask(name, { ...opts.synthetic, tokenizer: opts.tokenizer ?? opts.synthetic?.tokenizer });
  if (!opts.readText) {
    throw new DataError('unknown-task', `'${name}' is not a synthetic task (${SYNTHETIC_TASKS.join(', ')}), and no reader was given to load it as a corpus`, { name });
  }
  const { text } = await loadCorpus(name, opts.readText);
  return new TextTask(name, text, { tokenizer: opts.tokenizer, seed: opts.seed, seqLen: opts.seqLen });
}
