// Run records as they are kept between visits (IndexedDB), and the two kinds of entry the
// runs list gets from importing: an imported adapter evaluated on the current task, and a
// note that the base model was replaced. Pure, so the rules are unit-tested in Node.
import type { AdapterSpec } from '../../model/params';
import { parseConfig, type RunConfig } from '../../train/config';
import type { RunSummary } from '../../train/events';
import { methodLabel, newRun, type RunRecord, type RunRecordState } from '../runs';
import { configForAdapter } from './bundle';

export const SAVED_RUN_VERSION = 1;

/** What IndexedDB keeps of a run (structured-cloned, so NaN and nested arrays survive). */
export interface SavedRun {
  version: number;
  id: string;
  savedAt: number;
  run: RunRecord;
}

/** Finished states worth keeping (a failed or queued run has nothing to show later). */
export const SAVED_STATES: readonly RunRecordState[] = ['done', 'stopped', 'diverged'];

/** Ids of the runs list's base-change notes: not kept, since a reload brings back the
 *  original base model. */
export const BASE_CHANGE_PREFIX = 'base-change-';

export function shouldSave(run: RunRecord): boolean {
  return SAVED_STATES.includes(run.state) && !run.id.startsWith(BASE_CHANGE_PREFIX);
}

/** The record without the ETA bookkeeping (meaningless after a reload). */
export function toSavedRun(run: RunRecord, now: number): SavedRun {
  return { version: SAVED_RUN_VERSION, id: run.id, savedAt: now, run: { ...run, lastStepAt: null, activeMs: 0, intervals: 0 } };
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number';
const numOrNull = (x: unknown): number | null => (isNum(x) ? x : null);

/**
 * A saved run back as a RunRecord, or null when it is not one this version understands
 * (another version, a damaged entry): such entries are skipped, not trusted. The config
 * goes through the schema (train/config.ts), so fields added since are filled with defaults.
 */
export function fromSavedRun(x: unknown): RunRecord | null {
  if (!isObj(x) || x.version !== SAVED_RUN_VERSION || typeof x.id !== 'string' || !isObj(x.run)) return null;
  const r = x.run;
  if (r.id !== x.id || typeof r.name !== 'string' || !isObj(r.config) || typeof r.state !== 'string' || !SAVED_STATES.includes(r.state as RunRecordState)) return null;
  if (!Array.isArray(r.train) || !Array.isArray(r.evals)) return null;
  const { config } = parseConfig(r.config);
  const train = r.train.filter((t): t is { step: number; loss: number } => isObj(t) && isNum(t.step) && isNum(t.loss));
  const evals = r.evals
    .filter((e): e is Record<string, unknown> => isObj(e) && isNum(e.step) && isNum(e.val))
    .map((e) => ({ step: e.step as number, val: e.val as number, acc: numOrNull(e.acc), mass: numOrNull(e.mass) }));
  const mass = Array.isArray(r.mass) && r.mass.every((row) => Array.isArray(row) && row.every(isNum)) ? (r.mass as number[][]) : null;
  const run: RunRecord = {
    ...newRun(x.id, r.name, config),
    taskLabel: typeof r.taskLabel === 'string' ? r.taskLabel : config.task,
    state: r.state as RunRecordState,
    message: typeof r.message === 'string' ? r.message : undefined,
    train,
    evals,
    last: isObj(r.last) && r.last.type === 'step' && isNum(r.last.step) ? (r.last as unknown as RunRecord['last']) : null,
    trainableParams: numOrNull(r.trainableParams),
    totalParams: numOrNull(r.totalParams),
    seqLen: numOrNull(r.seqLen),
    summary: isObj(r.summary) && isNum(r.summary.finalValLoss) ? ({ ...(r.summary as unknown as RunSummary), config } as RunSummary) : null,
    mass,
    peakBytes: numOrNull(r.peakBytes),
  };
  return run;
}

/** Saved runs in the order they were first saved (oldest first), damaged ones left out. */
export function restoreRuns(saved: unknown[]): RunRecord[] {
  const ok = saved.filter((s): s is SavedRun => fromSavedRun(s) !== null).sort((a, b) => a.savedAt - b.savedAt);
  return ok.map((s) => fromSavedRun(s)!);
}

export interface ImportedEval {
  adapter: AdapterSpec;
  trainableParams: number;
  totalParams: number;
  seqLen: number;
  taskLabel: string;
  valLoss: number;
  valAccuracy: number | null;
  prefixMass: number | null;
  /** Mean prefix mass per [layer][head] on the last validation batch (prefix / NTK). */
  mass: number[][] | null;
}

/**
 * An imported adapter, evaluated (not trained) on the current task: a finished run with one
 * validation point at step 0, named "imported prefix m=16". Its config is the current one
 * with the adapter's own settings, so the loss sits beside runs with the same settings.
 */
export function importedRunRecord(id: string, current: RunConfig, e: ImportedEval): RunRecord {
  const config = configForAdapter(current, e.adapter);
  const summary: RunSummary = {
    runId: id,
    config,
    trainableParams: e.trainableParams,
    finalTrainLoss: Number.NaN,
    finalValLoss: e.valLoss,
    finalValAccuracy: e.valAccuracy,
    prefixMass: e.prefixMass,
    msPerStep: null,
    state: 'done',
    message: 'imported: evaluated on the current task, not trained here',
  };
  return {
    ...newRun(id, `imported ${methodLabel(config)}`, config),
    taskLabel: e.taskLabel,
    state: 'done',
    message: summary.message,
    evals: [{ step: 0, val: e.valLoss, acc: e.valAccuracy, mass: e.prefixMass }],
    trainableParams: e.trainableParams,
    totalParams: e.totalParams,
    seqLen: e.seqLen,
    summary,
    mass: e.mass,
  };
}

/** The runs list's note that the base model changed: no metrics, so no chart shows it. */
export function baseChangeRecord(id: string, current: RunConfig, fileName: string, previous: string | null, next: string): RunRecord {
  return {
    ...newRun(id, `base model replaced: ${fileName} (${previous ?? '?'} → ${next})`, { ...current }),
    taskLabel: '—',
    state: 'done',
    message: `runs after this one use the base model from ${fileName} (fingerprint ${next})`,
  };
}
