// What the page keeps about each run, and the pure functions that fold the worker's event
// stream into it and derive the charts' data (loss curves, loss vs prefix length, ETA).
// No React and no worker here, so the rules are unit-tested in Node (runs.test.ts).
import type { RunConfig, RunFieldName } from '../train/config';
import type { RunEvent, RunState, RunSummary, StepMetrics } from '../train/events';

export type RunRecordState = RunState | 'queued';

export interface RunRecord {
  id: string;
  /** What differs from the previous run (describeChange), e.g. "m 16→64". */
  name: string;
  config: RunConfig;
  taskLabel: string;
  state: RunRecordState;
  message?: string;
  train: { step: number; loss: number }[];
  evals: { step: number; val: number; acc: number | null; mass: number | null }[];
  last: StepMetrics | null;
  trainableParams: number | null;
  totalParams: number | null;
  /** Sequence length actually used (capped by the model's context and the task). */
  seqLen: number | null;
  /** ETA bookkeeping: wall time of the last step event, and the sum/count of the gaps
   *  between consecutive step events while running (evaluations included, pauses not). */
  lastStepAt: number | null;
  activeMs: number;
  intervals: number;
  summary: RunSummary | null;
  /** Mean prefix mass per [layer][head] at the end (prefix / NTK runs). */
  mass: number[][] | null;
  /** Most GPU memory held by live tensors at any step. */
  peakBytes: number | null;
  /** Fingerprint of the base it adapted, when known at the start (ETAs of later runs on the
   *  same base use its measured step time). */
  baseFingerprint?: string;
}

export function newRun(id: string, name: string, config: RunConfig): RunRecord {
  return {
    id, name, config, taskLabel: config.task, state: 'queued', train: [], evals: [], last: null,
    trainableParams: null, totalParams: null, seqLen: null, lastStepAt: null, activeMs: 0, intervals: 0, summary: null, mass: null, peakBytes: null,
  };
}

export const ACTIVE_STATES: readonly RunRecordState[] = ['queued', 'starting', 'compiling', 'running', 'paused'];

export function isActive(r: RunRecord | undefined | null): boolean {
  return !!r && ACTIVE_STATES.includes(r.state);
}

/** Folds one event into a run (returns a new record; the input is not changed). */
export function applyEvent(run: RunRecord, e: RunEvent, now: number): RunRecord {
  if (e.runId !== run.id) return run;
  switch (e.type) {
    case 'step': {
      const r = { ...run, last: e, train: [...run.train, { step: e.step, loss: e.trainLoss }], peakBytes: Math.max(run.peakBytes ?? 0, e.gpuBytes) };
      // Gaps across a pause would make the ETA wrong: only count gaps while running.
      if (run.lastStepAt !== null && run.state === 'running' && e.step > 1) {
        r.activeMs = run.activeMs + Math.max(0, now - run.lastStepAt);
        r.intervals = run.intervals + 1;
      }
      r.lastStepAt = now;
      return r;
    }
    case 'eval':
      return { ...run, evals: [...run.evals, { step: e.step, val: e.valLoss, acc: e.valAccuracy, mass: e.prefixMass }] };
    case 'status': {
      // A paused run keeps saying paused while the trainer reports it is still running.
      const state = e.state === 'running' && run.state === 'paused' ? 'paused' : e.state;
      return { ...run, state, message: e.message ?? (state === run.state ? run.message : undefined) };
    }
  }
}

/** Marks a run paused/resumed on the page (RunControl emits no event for these). */
export function setPaused(run: RunRecord, paused: boolean, now: number): RunRecord {
  if (paused) return run.state === 'running' || run.state === 'compiling' ? { ...run, state: 'paused' } : run;
  // Resuming: restart the gap clock so the pause is not counted as a slow step.
  return run.state === 'paused' ? { ...run, state: run.last ? 'running' : 'compiling', lastStepAt: run.last ? now : null } : run;
}

export interface Progress {
  step: number;
  total: number;
  fraction: number;
  /** Milliseconds left, from the mean wall time per step so far; null until two steps ran. */
  etaMs: number | null;
}

export function progressOf(run: RunRecord): Progress {
  const total = run.config.steps;
  const step = run.last?.step ?? 0;
  const perStep = run.intervals > 0 ? run.activeMs / run.intervals : null;
  return { step, total, fraction: total ? step / total : 0, etaMs: perStep === null ? null : perStep * (total - step) };
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** The loss-curve chart's series (shape of charts/types.ts RunSeries). */
export interface SeriesPoint {
  step: number;
  train?: number;
  val?: number;
  acc?: number | null;
}
export interface Series {
  id: string;
  name: string;
  points: SeriesPoint[];
  diverged?: { step: number; message: string };
}

/** Non-finite values are dropped from the points (the chart cannot draw them); a diverged
 *  run carries the step and message instead. */
export function seriesOf(run: RunRecord): Series {
  const byStep = new Map<number, SeriesPoint>();
  const at = (step: number) => {
    let p = byStep.get(step);
    if (!p) byStep.set(step, (p = { step }));
    return p;
  };
  for (const t of run.train) if (Number.isFinite(t.loss)) at(t.step).train = t.loss;
  for (const v of run.evals) {
    const p = at(v.step);
    if (Number.isFinite(v.val)) p.val = v.val;
    p.acc = v.acc;
  }
  const points = [...byStep.values()].filter((p) => p.train !== undefined || p.val !== undefined || (p.acc !== undefined && p.acc !== null));
  const s: Series = { id: run.id, name: run.name, points: points.sort((a, b) => a.step - b.step) };
  if (run.state === 'diverged') s.diverged = { step: run.last?.step ?? 0, message: run.message ?? 'training diverged' };
  return s;
}

/** Final validation loss of a finished run (the last evaluation), or null. */
export function finalValLoss(run: RunRecord): number | null {
  if (run.state !== 'done') return null;
  const v = run.summary?.finalValLoss ?? run.evals[run.evals.length - 1]?.val;
  return v !== undefined && Number.isFinite(v) ? v : null;
}

/** Settings that must match for two runs to sit on one loss-vs-prefix-length plot: all but
 *  the method and the method's own knobs. */
const METHOD_FIELDS: RunFieldName[] = ['method', 'prefixLength', 'prefixInit', 'featureMap', 'kParam', 'ntkRank', 'loraRank', 'loraAlpha'];
export function comparableKey(c: RunConfig): string {
  const rest: Record<string, unknown> = { ...c };
  for (const k of METHOD_FIELDS) delete rest[k];
  return JSON.stringify(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export interface PrefixPoint {
  m: number;
  valLoss: number;
  params: number;
}
export interface RefPoint {
  label: string;
  valLoss: number;
  params: number;
}

/** Final validation loss per prefix length m (the latest finished run per m), for the runs
 *  comparable with the most recent finished prefix run; other finished methods with the same
 *  settings become reference lines. */
export function prefixSweep(runs: RunRecord[]): { points: PrefixPoint[]; refs: RefPoint[] } {
  const lastPrefix = [...runs].reverse().find((r) => r.config.method === 'prefix' && finalValLoss(r) !== null);
  if (!lastPrefix) return { points: [], refs: [] };
  const key = comparableKey(lastPrefix.config);
  const byM = new Map<number, PrefixPoint>();
  const refs: RefPoint[] = [];
  for (const r of runs) {
    const v = finalValLoss(r);
    if (v === null || comparableKey(r.config) !== key) continue;
    const params = r.trainableParams ?? 0;
    if (r.config.method === 'prefix') byM.set(r.config.prefixLength, { m: r.config.prefixLength, valLoss: v, params });
    else refs.push({ label: methodLabel(r.config), valLoss: v, params });
  }
  return { points: [...byM.values()].sort((a, b) => a.m - b.m), refs };
}

export interface CostPoint {
  method: 'prefix' | 'ntk' | 'base';
  m: number;
  msPerStep: number | null;
  peakBytes: number | null;
}

/** Time per step and peak memory of finished runs comparable with the latest finished prefix
 *  run: prefix runs by m, NTK-Attention as a flat reference, prefix m = 0 as the base model. */
export function costPoints(runs: RunRecord[]): CostPoint[] {
  const lastPrefix = [...runs].reverse().find((r) => r.config.method === 'prefix' && finalValLoss(r) !== null);
  if (!lastPrefix) return [];
  const key = comparableKey(lastPrefix.config);
  const out: CostPoint[] = [];
  for (const r of runs) {
    if (r.state !== 'done' || comparableKey(r.config) !== key) continue;
    const c = { msPerStep: r.summary?.msPerStep ?? r.last?.msPerStep ?? null, peakBytes: r.peakBytes };
    if (r.config.method === 'prefix') out.push({ method: r.config.prefixLength > 0 ? 'prefix' : 'base', m: r.config.prefixLength, ...c });
    else if (r.config.method === 'ntk') out.push({ method: 'ntk', m: 0, ...c });
  }
  return out;
}

export function methodLabel(c: RunConfig): string {
  switch (c.method) {
    case 'full':
      return 'full fine-tuning';
    case 'prefix':
      return `prefix m=${c.prefixLength}`;
    case 'ntk':
      return `NTK ${c.featureMap}${c.ntkRank ? ` rank ${c.ntkRank}` : ''}`;
    case 'lora':
      return `LoRA r=${c.loraRank}`;
  }
}
