// The experiment panels' state and actions (a small zustand store beside the app's): the
// approximation-error and NTK-regime jobs with their streamed points and progress, the
// prefix-length sweep (a chain of ordinary runs through the app store), and generated text.
// Jobs and generation are requests to the engine client, whose progress and outcome land
// here. The sweep drives the app store's runs through the app port (appPort.ts).
import { create } from 'zustand';
import type { ApproxPoint } from '../../experiments/approx_error';
import type { NtkRegimePoint } from '../../experiments/ntk_regime';
import { app } from '../appPort';
import { isActive } from '../runs';
import { engine } from '../engineLink';
import type { Pending } from '../worker/client';
import type { EngineRequest, ProgressOf } from '../worker/protocol';
import { approxConfigOf, lastAdaptedRun, ntkConfigOf, sweepLengths, type ApproxForm, type NtkForm, type Parsed } from './logic';

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

function idleJob<P>(): JobState<P> {
  return { id: null, status: 'idle', note: '', points: [], done: 0, total: 0, label: '', stopping: false, startedAt: null, elapsedMs: null, errors: [] };
}

const IDLE_GEN: GenerationState = { requestId: null, status: 'idle', prompt: '', base: '', adapted: '', adaptedRun: null, adaptedMethod: null, adaptedError: null, unknown: [], error: null };

export const useExperiments = create<ExperimentsState>()(() => ({
  approx: idleJob<ApproxPoint>(),
  ntk: idleJob<NtkRegimePoint>(),
  sweep: { status: 'idle', ms: [], index: 0, runIds: [], max: 0, message: null },
  gen: IDLE_GEN,
}));

const getX = useExperiments.getState;
const setX = useExperiments.setState;

type Slot = 'approx' | 'ntk';
const jobs: Record<Slot, Pending<'experiment-start'> | null> = { approx: null, ntk: null };

export function isBusy(s: JobStatus): boolean {
  return s === 'queued' || s === 'running';
}

function patchJob(slot: Slot, p: Partial<JobState<never>>) {
  setX((s) => ({ [slot]: { ...s[slot], ...p } }) as Partial<ExperimentsState>);
}

// ------------------------------------------------------------------ experiments

/** What one progress message of a job changes in its slot. */
function jobProgress(slot: Slot, m: ProgressOf<'experiment-start'>) {
  const j = getX()[slot];
  switch (m.type) {
    case 'experiment-started':
      patchJob(slot, { status: 'running', note: m.note, startedAt: performance.now(), label: j.stopping ? j.label : 'starting' });
      break;
    case 'experiment-progress':
      // A job being stopped keeps saying so until it ends.
      if (j.status === 'running') patchJob(slot, { done: m.done, total: m.total, label: j.stopping ? j.label : m.label });
      break;
    case 'experiment-point':
      if (m.kind === 'approx' && slot === 'approx') setX((s) => ({ approx: { ...s.approx, points: [...s.approx.points, m.point] } }));
      if (m.kind === 'ntk-regime' && slot === 'ntk') setX((s) => ({ ntk: { ...s.ntk, points: [...s.ntk.points, m.point] } }));
      break;
  }
}

/** Starts an experiment job in `slot` from parsed settings: their errors, or a queued job
 *  whose progress and outcome fill the slot; false when the settings were refused. */
function startJob<C>(slot: Slot, parsed: Parsed<C>, request: (config: C) => Extract<EngineRequest, { type: 'experiment-start' }>): boolean {
  if (!parsed.ok) {
    patchJob(slot, { errors: parsed.errors });
    return false;
  }
  const p = engine().request(request(parsed.value), (m) => {
    if (jobs[slot] === p) jobProgress(slot, m);
  });
  jobs[slot] = p;
  setX({ [slot]: { ...idleJob(), id: p.id, status: 'queued' } } as Partial<ExperimentsState>);
  void p.result.then((r) => {
    if (jobs[slot] !== p) return;
    jobs[slot] = null;
    if (r.ok) patchJob(slot, { status: 'done', elapsedMs: r.value.elapsedMs, label: 'done', stopping: false });
    else if (r.error.kind === 'cancelled') patchJob(slot, { status: 'stopped', label: 'stopped', stopping: false });
    else patchJob(slot, { status: 'failed', errors: [r.error.message], stopping: false });
  });
  return true;
}

export function startApprox(form: ApproxForm): boolean {
  return startJob('approx', approxConfigOf(form), (config) => ({ type: 'experiment-start', kind: 'approx', config }));
}

export function startNtk(form: NtkForm): boolean {
  return startJob('ntk', ntkConfigOf(form), (config) => ({ type: 'experiment-start', kind: 'ntk-regime', config }));
}

export function stopJob(slot: Slot) {
  const j = getX()[slot];
  const p = jobs[slot];
  if (!p || !isBusy(j.status)) return;
  p.cancel();
  // A queued job never starts; a running one ends after its current point or step.
  if (j.status === 'queued') {
    jobs[slot] = null;
    patchJob(slot, { status: 'stopped' });
  } else {
    patchJob(slot, { label: 'stopping after the current step…', stopping: true });
  }
}

// ------------------------------------------------------------------ prefix-length sweep

let unsubscribe: (() => void) | null = null;
/** True while the sweep itself starts a run (its store updates are not a run ending). */
let advancing = false;

function endSweep(status: SweepState['status'], message: string | null) {
  const sw = getX().sweep;
  unsubscribe?.();
  unsubscribe = null;
  setX({ sweep: { ...sw, status, message } });
  // Stopped early: the setting goes back to what the user had chosen (unless they changed it since).
  const m = app().config().prefixLength;
  if (status !== 'done' && m === sw.ms[sw.index] && m !== sw.max) app().setConfig({ prefixLength: sw.max });
}

function startSweepRun(i: number): boolean {
  const sw = getX().sweep;
  advancing = true;
  let started: ReturnType<ReturnType<typeof app>['startRun']>;
  try {
    app().setConfig({ method: 'prefix', prefixLength: sw.ms[i] });
    started = app().startRun();
  } finally {
    advancing = false;
  }
  if (!started.ok) {
    endSweep('failed', started.error);
    return false;
  }
  const id = started.runId;
  setX({ sweep: { ...getX().sweep, index: i, runIds: [...getX().sweep.runIds, id] } });
  return true;
}

/** Watches the sweep's current run: when it ends, the next m starts (or the sweep ends). */
function onRunsChange() {
  const sw = getX().sweep;
  if (advancing || sw.status !== 'running') return;
  const id = sw.runIds[sw.index];
  const run = app().runs().find((r) => r.id === id);
  if (!run) {
    endSweep('stopped', 'another run replaced the sweep');
    return;
  }
  if (isActive(run)) return;
  if (run.state === 'done' || run.state === 'diverged') {
    // A diverged run is still a result at its m; the sweep goes on.
    if (sw.index + 1 < sw.ms.length) startSweepRun(sw.index + 1);
    else endSweep('done', null);
  } else if (run.state === 'stopped') {
    endSweep('stopped', `stopped at m = ${sw.ms[sw.index]}`);
  } else {
    endSweep('failed', `the run at m = ${sw.ms[sw.index]} failed: ${run.message ?? 'unknown error'}`);
  }
}

/** Prefix tuning at m = 1, 2, 4, … up to the prefix-length setting, one run after another
 *  with the current settings; each finished run adds its point to "Loss against prefix length". */
export function startSweep(): boolean {
  if (getX().sweep.status === 'running') return false;
  const max = app().config().prefixLength;
  const ms = sweepLengths(max);
  if (!app().gpuReady()) {
    setX({ sweep: { ...getX().sweep, status: 'failed', message: 'WebGPU is not ready yet' } });
    return false;
  }
  if (!ms.length) {
    setX({ sweep: { ...getX().sweep, status: 'failed', message: 'set the prefix length m to 1 or more first: the sweep goes up to it' } });
    return false;
  }
  setX({ sweep: { status: 'running', ms, index: 0, runIds: [], max, message: null } });
  unsubscribe?.();
  unsubscribe = app().onRunsChange(onRunsChange);
  return startSweepRun(0);
}

/** Stops the run going now, which ends the sweep. */
export function stopSweep() {
  const sw = getX().sweep;
  if (sw.status !== 'running') return;
  const id = sw.runIds[sw.index];
  const run = app().runs().find((r) => r.id === id);
  if (run && isActive(run)) engine().send({ type: 'control', runId: id, action: 'stop' });
  endSweep('stopped', `stopped at m = ${sw.ms[sw.index]}`);
}

// ------------------------------------------------------------------ generation

export interface GenerateForm {
  prompt: string;
  maxNewTokens: string;
  temperature: string;
  topK: string;
  seed: string;
}

export const DEFAULT_GENERATE: Readonly<GenerateForm> = Object.freeze({ prompt: 'Call me ', maxNewTokens: '40', temperature: '0.8', topK: '0', seed: '1' });

let generation: Pending<'generate'> | null = null;

function readGenerateForm(f: GenerateForm): { ok: true; value: { maxNewTokens: number; temperature: number; topK: number; seed: number } } | { ok: false; error: string } {
  const num = (raw: string) => (raw.trim() === '' ? NaN : Number(raw));
  const maxNewTokens = num(f.maxNewTokens);
  const temperature = num(f.temperature);
  const topK = num(f.topK);
  const seed = num(f.seed);
  if (f.prompt.length === 0) return { ok: false, error: 'Prompt: type some text for the models to continue' };
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1 || maxNewTokens > 1000) return { ok: false, error: 'Characters to generate: a whole number from 1 to 1000' };
  if (!Number.isFinite(temperature) || temperature < 0 || temperature > 100) return { ok: false, error: 'Temperature: a number from 0 (always the likeliest character) to 100' };
  if (!Number.isInteger(topK) || topK < 0) return { ok: false, error: 'Top-k: a whole number, 0 for all characters' };
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) return { ok: false, error: 'Random draw: a whole number ≥ 0' };
  return { ok: true, value: { maxNewTokens, temperature, topK, seed } };
}

export function generateText(f: GenerateForm): boolean {
  const r = readGenerateForm(f);
  if (!r.ok) {
    setX({ gen: { ...getX().gen, status: getX().gen.status === 'running' || getX().gen.status === 'queued' ? getX().gen.status : 'failed', error: r.error } });
    return false;
  }
  const run = lastAdaptedRun(app().runs());
  const mine = (s: ExperimentsState) => generation === p && s.gen.requestId === p.id;
  const p = engine().request({ type: 'generate', runId: run?.id ?? null, prompt: f.prompt, ...r.value }, (m) => {
    if (!mine(getX())) return;
    if (m.type === 'generate-started') setX((s) => ({ gen: { ...s.gen, status: 'running', adaptedMethod: m.adapted, unknown: m.unknown } }));
    else setX((s) => ({ gen: { ...s.gen, [m.which]: s.gen[m.which] + m.text } }));
  });
  generation = p;
  setX({ gen: { ...IDLE_GEN, requestId: p.id, status: 'queued', prompt: f.prompt, adaptedRun: run?.name ?? null } });
  void p.result.then((res) => {
    if (!mine(getX())) return;
    generation = null;
    if (res.ok) setX((s) => ({ gen: { ...s.gen, status: 'done', base: res.value.base, adapted: res.value.adapted ?? '', adaptedError: res.value.adaptedError } }));
    else setX((s) => ({ gen: { ...s.gen, status: 'failed', error: res.error.message } }));
  });
  return true;
}
