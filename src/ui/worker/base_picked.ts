// A base from files the user picked or dropped (a Hugging Face GPT-2 folder's files, or one
// .zip of them), opened through src/lab/base.ts and read through File.slice so that only
// the float32 weights are held.
import { fileSource } from '../../io/byte_source';
import type { BaseProgress, OpenBaseOptions } from '../../io/hf_gpt2';
import { folderFromPicked, type FolderBase, openLabBase } from '../../lab/base';
import { baseParamSpecs, countParams } from '../../model/params';
import type { BaseInfo } from './protocol';
import { describeBase, type PickedFiles, type WorkerBase } from './worker_base';

export interface OpenPickedOptions {
  onProgress?: (p: BaseProgress) => void;
  signal?: AbortSignal;
  /** Refuse, as soon as config.json is read, a model that cannot fit this device. */
  fit?: OpenBaseOptions['fit'];
}

/** The picked files' base. Throws the loader's CheckpointError (its message is what the page
 *  shows); nothing else changes. */
export async function openPickedBase(files: File[], label: string, opts: OpenPickedOptions = {}): Promise<WorkerBase> {
  const t0 = performance.now();
  const folder = await folderFromPicked(files.map((f) => ({ name: f.name, source: fileSource(f) })));
  const opened = await openLabBase(folder, label, { onProgress: opts.onProgress, signal: opts.signal, fit: opts.fit, folderName: label.replace(/\.zip$/i, '') });
  return workerBaseFromFolder(opened, { source: 'files', openedFrom: label, format: opened.format, ms: performance.now() - t0 }, { files, label });
}

/** A base opened from a folder as the worker keeps it (described for the page). */
export function workerBaseFromFolder(f: FolderBase, info: Omit<BaseInfo, 'modelConfig' | 'params' | 'vocabSize'>, picked?: PickedFiles): WorkerBase {
  const b: WorkerBase = {
    config: f.config,
    tokenizer: f.tokenizer,
    vocab: f.vocab,
    params: f.params,
    fingerprint: f.fingerprint,
    modelName: f.modelName,
    tokenizerFiles: f.tokenizerFiles,
    ...(picked ? { picked } : {}),
    info: { ...info, modelConfig: f.config, params: countParams(baseParamSpecs(f.config)), vocabSize: f.config.vocabSize },
  };
  return describeBase(b, f.modelName);
}
