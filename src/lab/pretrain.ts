// Pretraining a base model from seeded random weights (GPT-2 initialisation, every
// parameter trained): the one loop behind the CLI's `pretrain`, the page's "Pretrain a new
// base model" (and the automatic base when none is shipped), and the experiments' bases.
import type { Task } from '../data';
import type { Gpu } from '../gpu/runtime';
import { initParams } from '../model/init';
import { baseParamSpecs, type ModelConfig } from '../model/params';
import { assembleModel } from '../train/adapt';
import type { RunConfig } from '../train/config';
import type { RunControl } from '../train/control';
import type { RunListener, RunSummary } from '../train/events';
import { train } from '../train/trainer';
import { controlFor } from './run';

export interface PretrainArgs {
  gpu: Gpu;
  config: ModelConfig;
  task: Task;
  /** The run's settings (method 'full'); run.seed seeds the initial weights and the batches. */
  run: RunConfig;
  runId?: string;
  onEvent?: RunListener;
  control?: RunControl;
  signal?: AbortSignal;
}

/** Trains a fresh base; `params` holds every base tensor when the run finished or was
 *  stopped (null when it diverged, failed or lost the device: `summary` says which). */
export async function pretrain(a: PretrainArgs): Promise<{ summary: RunSummary; params: Map<string, Float32Array> | null }> {
  const specs = baseParamSpecs(a.config);
  const model = assembleModel(a.gpu, { config: a.config, params: initParams(specs, a.run.seed) }, { method: 'full' });
  try {
    const summary = await train({ gpu: a.gpu, model, task: a.task, config: a.run, runId: a.runId ?? 'pretrain', onEvent: a.onEvent, control: controlFor(a.signal, a.control) });
    const ok = (summary.state === 'done' || summary.state === 'stopped') && !a.gpu.lostError;
    return { summary, params: ok ? await model.readParams(specs.map((s) => s.name)) : null };
  } finally {
    if (!a.gpu.lostError) model.destroy();
  }
}
