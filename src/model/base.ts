// The one type for "a base model": what every run adapts, whoever resolved it (a folder
// opened by src/lab/base.ts, the UI worker's shipped, pretrained or kept base, a pretraining
// run's result). It lives here, below src/io (which reads one) and src/train (which
// assembles one into a GptGpu); narrower uses take a Pick of it (assembly needs config and
// params, a task tokenizer and vocab) and hosts compose their extras around it.
import type { Tokenizer, Vocab } from '../data';
import type { ModelConfig } from './params';

export interface BaseModel {
  config: ModelConfig;
  /** Host copies of the base tensors by our name: every run (and a new device after a loss) uploads these. */
  params: Map<string, Float32Array>;
  /** What tasks and generation encode with: the character vocabulary or GPT-2's BPE. */
  tokenizer: Tokenizer;
  /** The character vocabulary when the base is character-level (our own bases), else null (BPE). */
  vocab: Vocab | null;
  /** Fingerprint of the tensors: what adapters record and are checked against. */
  fingerprint: string;
  /** The model's name where it has one ("gpt2", a folder's name): adapters record it as
   *  base_model_name_or_path. */
  modelName?: string;
  /** A BPE base's tokenizer files as read (file name → bytes): exporting the base, or a full
   *  fine-tune of it, writes them beside the weights. */
  tokenizerFiles?: Map<string, Uint8Array>;
}
