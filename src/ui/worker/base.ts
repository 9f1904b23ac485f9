// Which base model every adaptation run starts from, behind one function: the one the user
// chose on an earlier visit if this browser kept it (base_kept.ts: picked files in OPFS, or
// tensors in IndexedDB), else the shipped checkpoint (base_shipped.ts), else a short
// pretraining run right here (base_pretrained.ts). The worker and the page see a
// WorkerBase (worker_base.ts): the one base-model type with the page's info beside it.
import type { Gpu } from '../../gpu/runtime';
import { loadKeptFiles, loadKeptTensors } from './base_kept';
import { defaultPretrainSpec, pretrainBase } from './base_pretrained';
import { loadShippedBase } from './base_shipped';
import type { BaseLoadOptions, WorkerBase } from './worker_base';

export async function loadBaseModel(gpu: Gpu, opts: BaseLoadOptions): Promise<WorkerBase> {
  const opened = await loadKeptFiles(opts);
  if (opened) return opened;
  const kept = await loadKeptTensors();
  if (kept) return kept;
  const shipped = opts.readBytes ? await loadShippedBase({ ...opts, readBytes: opts.readBytes }) : null;
  return shipped ?? pretrainBase(gpu, opts, defaultPretrainSpec(gpu.report.isFallbackAdapter));
}
