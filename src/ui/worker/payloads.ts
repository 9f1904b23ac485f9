// Plain data that several message groups carry (protocol.ts, exchange/messages.ts). Kept
// apart from protocol.ts, which composes those groups, so a group can use these types
// without importing the file that imports it.
import type { BaseSummary } from '../../lab/base';
import type { ModelConfig } from '../../model/params';

/** A user's own text, already decoded and checked on the page (src/data/byo.ts). */
export interface UserText {
  name: string;
  text: string;
}

/** Where a picked base folder's load is: reading the small files, then the weights
 *  (hf_gpt2.ts BaseProgress), then copying the files into this browser's storage. */
export interface OpenBaseProgress {
  phase: 'reading' | 'weights' | 'keeping';
  bytesDone: number;
  bytesTotal: number;
  tensorsDone: number;
  tensorsTotal: number;
}

/** The base's sizes and tokenizer in words (src/lab/base.ts summarise()). */
export type BaseSummaryInfo = Omit<BaseSummary, 'fingerprint'> & { tokenizerKind: 'char' | 'bpe' };

export interface BaseInfo {
  /** Where the weights came from: shipped files, or a short pretraining run in this worker. */
  source: 'files' | 'pretrained';
  modelConfig: ModelConfig;
  params: number;
  vocabSize: number;
  /** Steps of the pretraining run and its last loss (validation loss for shipped files,
   *  training loss for the in-worker run). */
  steps?: number;
  finalLoss?: number;
  /** Shipped files: the fingerprint of the weights (adapters record it). */
  fingerprint?: string;
  /** Set when the user imported this base model (the file's name): it replaced the shipped or pretrained one. */
  importedFrom?: string;
  /** Pretrained earlier and read back from this browser's IndexedDB. */
  cached?: boolean;
  /** The user chose this base (imported it, or pretrained it with the panel): it replaced
   *  the default one, and "Use the default base model" brings that back. */
  chosen?: boolean;
  /** A chosen base read back from this browser on a later visit. */
  kept?: boolean;
  /** Why a chosen base could not be kept for the next visit (it works for this one). */
  notKept?: string;
  /** Pretrained here: the corpus it was trained on (for the base-model line). */
  corpus?: string;
  /** Opened from a picked folder (a Hugging Face GPT-2's files, or a zip of them): its name. */
  openedFrom?: string;
  /** 'huggingface' when config.json is transformers' own (not exported by Prefix Lab). */
  format?: 'prefix-lab' | 'huggingface';
  /** Sizes and tokenizer for the model summary. */
  summary?: BaseSummaryInfo;
  /** Built-in tasks this base cannot run, with the data layer's reason (the task picker
   *  disables them instead of failing at Train). */
  taskIssues?: Record<string, string>;
  ms: number;
}
