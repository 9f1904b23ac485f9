// The base model as the engine worker holds it: the one base-model type (src/model/base.ts)
// with what only the page needs beside it (the picked files it was opened from, the info the
// base-model line and the task picker show), and the one function that fills that info in.
// Every source of a base (base_shipped, base_pretrained, base_kept, base_picked) makes one.
import type { ReadText } from '../../data';
import type { BaseProgress } from '../../io/hf_gpt2';
import { summarise } from '../../lab/base';
import { taskIssuesFor } from '../../lab/task';
import type { BaseModel } from '../../model/base';
import type { BaseInfo, BaseSummaryInfo } from './protocol';

/** The files the user picked a base from: it is kept as these (OPFS), not as floats. */
export interface PickedFiles {
  files: File[];
  label: string;
}

export interface WorkerBase extends BaseModel {
  picked?: PickedFiles;
  info: BaseInfo;
}

/** What loading a base may need: the built-in corpora, public/ files, and a progress line. */
export interface BaseLoadOptions {
  readText: ReadText;
  /** Fetches a binary file relative to public/, or null when it is not there. */
  readBytes?: (path: string) => Promise<Uint8Array | null>;
  onProgress?: (message: string, fraction: number) => void;
}

/** The model summary of a base (sizes, tokenizer, weight bytes). */
export function summaryOf(b: Pick<BaseModel, 'config' | 'tokenizer' | 'fingerprint'>, name: string): BaseSummaryInfo {
  const s = summarise({ config: b.config, tokenizer: b.tokenizer, modelName: name, fingerprint: b.fingerprint });
  return { name: s.name, parameters: s.parameters, layers: s.layers, heads: s.heads, width: s.width, headDim: s.headDim, context: s.context, vocabulary: s.vocabulary, tokenizer: s.tokenizer, tokenizerKind: b.tokenizer.kind, weightBytes: s.weightBytes };
}

/** Fills in what the page shows about any base: its fingerprint, the summary and the tasks it cannot run. */
export function describeBase(b: WorkerBase, name: string): WorkerBase {
  b.info = { ...b.info, fingerprint: b.fingerprint, summary: summaryOf(b, name), taskIssues: taskIssuesFor(b) };
  return b;
}

const MB = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;

/** "123 MB of 498 MB, 45/149 tensors" */
export function describeLoad(p: BaseProgress): string {
  return `${MB(p.bytesDone)} of ${MB(p.bytesTotal)}, ${p.tensorsDone}/${p.tensorsTotal} tensors`;
}
