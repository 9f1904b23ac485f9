// The engine worker's run job: the page's settings → src/lab (the task for the base's
// tokenizer, then runAdaptation: model + adapter, training, prefix mass, trained tensors)
// → messages. The CLI's `adapt` calls the same lab functions, so a run here and there with
// the same settings and base gives the same losses and the same exported files.
// engine.worker.ts owns the device, the base and the queue and passes them in, so this
// runs in Node too (src/lab/paths.test.ts).
import type { ReadText, Task } from '../../data';
import type { Gpu } from '../../gpu/runtime';
import { runAdaptation, type RunStart } from '../../lab/run';
import { taskFor } from '../../lab/task';
import type { AdapterSpec } from '../../model/params';
import type { RunConfig } from '../../train/config';
import type { RunControl } from '../../train/control';
import { memoryBudgetHere, runFit } from '../sizing';
import type { WorkerBase } from './worker_base';
import type { FromWorker, UserText } from './protocol';

export interface RunDeps {
  post: (m: FromWorker) => void;
  ensureGpu: () => Promise<Gpu>;
  ensureBase: (g: Gpu) => Promise<WorkerBase>;
  readText: ReadText;
  /** Keeps a finished run's trained tensors for "Export adapter" (exchange/worker.ts). */
  keepRun: (runId: string, adapter: AdapterSpec, params: Map<string, Float32Array>, base: WorkerBase) => void;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function createRuns(d: RunDeps) {
  /** Built tasks by base, name and seed (encoding a corpus takes a moment; runs reuse it). */
  const taskCache = new Map<string, Task>();

  async function buildTask(c: RunConfig, b: WorkerBase, userText?: UserText): Promise<{ task: Task; label: string }> {
    const task = await taskFor(b, c, { readText: d.readText, ownText: userText, cache: taskCache });
    return { task, label: userText?.name ?? c.task };
  }

  /** One run: posts run-started, the trainer's events, then run-finished (or run-failed). */
  async function start(runId: string, config: RunConfig, userText: UserText | undefined, control: RunControl, onModel?: (s: RunStart) => void) {
    let g: Gpu | null = null;
    try {
      g = await d.ensureGpu();
      const b = await d.ensureBase(g);
      // The page refuses runs that will not fit; a run that reaches here anyway (a link, a
      // base that changed meanwhile) is refused with the same numbers before any upload.
      const fit = runFit(b.config, config, g.report, memoryBudgetHere(g.report));
      if (fit.problem) throw new Error(fit.problem);
      const { task, label } = await buildTask(config, b, userText);
      const gpu = g;
      const r = await runAdaptation({
        gpu, base: b, config, task, runId, control,
        onEvent: (event) => d.post({ type: 'event', event }),
        onStart: (s) => {
          onModel?.(s);
          d.post({ type: 'run-started', runId, trainableParams: s.trainableParams, totalParams: s.totalParams, seqLen: s.seqLen, taskLabel: label });
        },
      });
      // Kept for "Export adapter" before the page hears the run finished (a failed read only
      // means this run cannot be exported).
      if (r.trained) d.keepRun(runId, r.adapter, r.trained, b);
      d.post({ type: 'run-finished', summary: r.summary, mass: r.mass });
    } catch (e) {
      // A lost device can surface as a failed map or submit before device.lost resolves:
      // give it a moment so the user reads "device lost", not a buffer-mapping error.
      const lost = g ? g.lostError ?? (await Promise.race([g.lost, new Promise<null>((r) => setTimeout(() => r(null), 1000))])) : null;
      d.post({ type: 'run-failed', runId, message: lost ? lost.message : errorMessage(e) });
    }
  }

  return { buildTask, start, clearTasks: () => taskCache.clear() };
}
