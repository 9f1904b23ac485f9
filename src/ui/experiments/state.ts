// The experiment panels' state (a small zustand store beside the app's): the approximation-
// error and NTK-regime jobs with their streamed points and progress, the prefix-length sweep,
// and generated text. The actions that change it live beside it: jobs.ts (experiment
// requests), sweep.ts (a chain of ordinary runs through the app port), generation.ts.
import { create } from 'zustand';
import type { ApproxPoint } from '../../experiments/approx_error';
import type { NtkRegimePoint } from '../../experiments/ntk_regime';

export type JobStatus = 'idle' | 'queued' | 'running' | 'done' | 'stopped' | 'failed';

export interface JobState<P> {
  id: string | null;
  status: JobStatus;
  /** What the job runs on (from the worker). */
  note: string;
  points: P[];
  done: number;
  total: number;
  label: string;
  /** Stop was pressed; the job ends after its current point or step. */
  stopping: boolean;
  /** performance.now() when the job left the queue. */
  startedAt: number | null;
  elapsedMs: number | null;
  /** Settings that could not be read, or why the job failed. */
  errors: string[];
}

export interface SweepState {
  status: 'idle' | 'running' | 'done' | 'stopped' | 'failed';
  ms: number[];
  /** Index into ms of the run going now (or the last one). */
  index: number;
  runIds: string[];
  /** The prefix-length setting when the sweep began (restored when it stops early). */
  max: number;
  message: string | null;
}

export interface GenerationState {
  requestId: string | null;
  status: 'idle' | 'queued' | 'running' | 'done' | 'failed';
  prompt: string;
  base: string;
  adapted: string;
  /** The adapted run's name in the runs list, and its method as the worker describes it. */
  adaptedRun: string | null;
  adaptedMethod: string | null;
  adaptedError: string | null;
  unknown: string[];
  error: string | null;
}

export interface ExperimentsState {
  approx: JobState<ApproxPoint>;
  ntk: JobState<NtkRegimePoint>;
  sweep: SweepState;
  gen: GenerationState;
}

/** The two experiment jobs' places in the state. */
export type Slot = 'approx' | 'ntk';

export function idleJob<P>(): JobState<P> {
  return { id: null, status: 'idle', note: '', points: [], done: 0, total: 0, label: '', stopping: false, startedAt: null, elapsedMs: null, errors: [] };
}

export const IDLE_GEN: Readonly<GenerationState> = Object.freeze<GenerationState>({
  requestId: null, status: 'idle', prompt: '', base: '', adapted: '', adaptedRun: null, adaptedMethod: null, adaptedError: null, unknown: [], error: null,
});

export const useExperiments = create<ExperimentsState>()(() => ({
  approx: idleJob<ApproxPoint>(),
  ntk: idleJob<NtkRegimePoint>(),
  sweep: { status: 'idle', ms: [], index: 0, runIds: [], max: 0, message: null },
  gen: { ...IDLE_GEN },
}));

export const getExperiments = useExperiments.getState;
export const setExperiments = useExperiments.setState;

export function isBusy(s: JobStatus): boolean {
  return s === 'queued' || s === 'running';
}

/** Changes some fields of one job's slot. */
export function patchJob(slot: Slot, p: Partial<JobState<never>>) {
  setExperiments((s) => ({ [slot]: { ...s[slot], ...p } }) as Partial<ExperimentsState>);
}
