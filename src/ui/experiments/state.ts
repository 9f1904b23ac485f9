// The experiment panels' state and actions (a small zustand store beside the app's): the
// approximation-error and NTK-regime jobs with their streamed points and progress, the
// prefix-length sweep (a chain of ordinary runs through the app store), and generated text.
// Commands go to the engine worker through engineLink.ts; replies come back through
// route.ts → handleExperimentMessage. The sweep drives the app store (setConfig, startRun);
// the app store does not import this one (route.ts composes them).
import { create } from 'zustand';
import type { ApproxPoint } from '../../experiments/approx_error';
import type { NtkRegimePoint } from '../../experiments/ntk_regime';
import { isActive } from '../runs';
import { sendToEngine } from '../engineLink';
import { setConfig, startRun, useApp } from '../store';
import { approxConfigOf, lastAdaptedRun, ntkConfigOf, sweepLengths, type ApproxForm, type NtkForm, type Parsed } from './logic';
import type { ToWorker } from '../worker/protocol';
import type { ExperimentFromWorker } from './messages';

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
  requestId: number | null;
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
  return { id: null, status: 'idle', note: '', points: [], done: 0, total: 0, label: '', startedAt: null, elapsedMs: null, errors: [] };
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
let jobCounter = 0;

const NO_ENGINE = 'The training engine is not running (WebGPU is unavailable in this browser).';

export function isBusy(s: JobStatus): boolean {
  return s === 'queued' || s === 'running';
}

function patchJob(slot: Slot, p: Partial<JobState<never>>) {
  setX((s) => ({ [slot]: { ...s[slot], ...p } }) as Partial<ExperimentsState>);
}

// ------------------------------------------------------------------ experiments

/** Starts an experiment job in `slot` from parsed settings: their errors, or a queued job
 *  and the worker message `start` builds; false when nothing started. */
function startJob<C>(slot: Slot, parsed: Parsed<C>, start: (jobId: string, config: C) => ToWorker): boolean {
  if (!parsed.ok) {
    patchJob(slot, { errors: parsed.errors });
    return false;
  }
  const jobId = `${slot}-${++jobCounter}`;
  setX({ [slot]: { ...idleJob(), id: jobId, status: 'queued' } } as Partial<ExperimentsState>);
  if (!sendToEngine(start(jobId, parsed.value))) {
    patchJob(slot, { status: 'failed', errors: [NO_ENGINE] });
    return false;
  }
  return true;
}

export function startApprox(form: ApproxForm): boolean {
  return startJob('approx', approxConfigOf(form), (jobId, config) => ({ type: 'experiment-start', jobId, kind: 'approx', config }));
}

export function startNtk(form: NtkForm): boolean {
  return startJob('ntk', ntkConfigOf(form), (jobId, config) => ({ type: 'experiment-start', jobId, kind: 'ntk-regime', config }));
}

export function stopJob(slot: Slot) {
  const j = getX()[slot];
  if (!j.id || !isBusy(j.status)) return;
  sendToEngine({ type: 'experiment-stop', jobId: j.id });
  // A queued job never starts; a running one ends after its current point or step.
  if (j.status === 'queued') patchJob(slot, { status: 'stopped' });
  else patchJob(slot, { label: 'stopping after the current step…' });
}

function slotOf(jobId: string): Slot | null {
  for (const slot of ['approx', 'ntk'] as const) if (getX()[slot].id === jobId) return slot;
  return null;
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
  const m = useApp.getState().config.prefixLength;
  if (status !== 'done' && m === sw.ms[sw.index] && m !== sw.max) setConfig({ prefixLength: sw.max });
}

function startSweepRun(i: number): boolean {
  const sw = getX().sweep;
  advancing = true;
  let id: string | null = null;
  try {
    setConfig({ method: 'prefix', prefixLength: sw.ms[i] });
    id = startRun();
  } finally {
    advancing = false;
  }
  if (!id) {
    endSweep('failed', useApp.getState().fileError ?? 'the run could not start (is WebGPU available?)');
    return false;
  }
  setX({ sweep: { ...getX().sweep, index: i, runIds: [...getX().sweep.runIds, id] } });
  return true;
}

/** Watches the sweep's current run: when it ends, the next m starts (or the sweep ends). */
function onAppChange() {
  const sw = getX().sweep;
  if (advancing || sw.status !== 'running') return;
  const id = sw.runIds[sw.index];
  const run = useApp.getState().runs.find((r) => r.id === id);
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
  const app = useApp.getState();
  if (getX().sweep.status === 'running') return false;
  const max = app.config.prefixLength;
  const ms = sweepLengths(max);
  if (app.gpu.state !== 'ok') {
    setX({ sweep: { ...getX().sweep, status: 'failed', message: 'WebGPU is not ready yet' } });
    return false;
  }
  if (!ms.length) {
    setX({ sweep: { ...getX().sweep, status: 'failed', message: 'set the prefix length m to 1 or more first: the sweep goes up to it' } });
    return false;
  }
  setX({ sweep: { status: 'running', ms, index: 0, runIds: [], max, message: null } });
  unsubscribe?.();
  unsubscribe = useApp.subscribe(onAppChange);
  return startSweepRun(0);
}

/** Stops the run going now, which ends the sweep. */
export function stopSweep() {
  const sw = getX().sweep;
  if (sw.status !== 'running') return;
  const id = sw.runIds[sw.index];
  const run = useApp.getState().runs.find((r) => r.id === id);
  if (run && isActive(run)) sendToEngine({ type: 'control', runId: id, action: 'stop' });
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

let requestCounter = 0;

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
  const run = lastAdaptedRun(useApp.getState().runs);
  const requestId = ++requestCounter;
  setX({ gen: { ...IDLE_GEN, requestId, status: 'queued', prompt: f.prompt, adaptedRun: run?.name ?? null } });
  if (!sendToEngine({ type: 'generate', requestId, runId: run?.id ?? null, prompt: f.prompt, ...r.value })) {
    setX({ gen: { ...getX().gen, status: 'failed', error: NO_ENGINE } });
    return false;
  }
  return true;
}

// ------------------------------------------------------------------ from the worker

export function handleExperimentMessage(m: ExperimentFromWorker) {
  switch (m.type) {
    case 'experiment-started': {
      const slot = slotOf(m.jobId);
      if (slot) patchJob(slot, { status: 'running', note: m.note, startedAt: performance.now(), label: 'starting' });
      break;
    }
    case 'experiment-progress': {
      const slot = slotOf(m.jobId);
      // A job being stopped keeps saying so until it ends.
      if (slot && getX()[slot].status === 'running') patchJob(slot, { done: m.done, total: m.total, label: getX()[slot].label.startsWith('stopping') ? getX()[slot].label : m.label });
      break;
    }
    case 'experiment-point': {
      if (m.kind === 'approx' && getX().approx.id === m.jobId) setX((s) => ({ approx: { ...s.approx, points: [...s.approx.points, m.point] } }));
      if (m.kind === 'ntk-regime' && getX().ntk.id === m.jobId) setX((s) => ({ ntk: { ...s.ntk, points: [...s.ntk.points, m.point] } }));
      break;
    }
    case 'experiment-finished': {
      const slot = slotOf(m.jobId);
      if (slot) patchJob(slot, { status: m.aborted ? 'stopped' : 'done', elapsedMs: m.elapsedMs, label: m.aborted ? 'stopped' : 'done' });
      break;
    }
    case 'experiment-failed': {
      const slot = slotOf(m.jobId);
      if (slot) patchJob(slot, { status: 'failed', errors: [m.message] });
      break;
    }
    case 'generate-started':
      if (getX().gen.requestId === m.requestId) setX((s) => ({ gen: { ...s.gen, status: 'running', adaptedMethod: m.adapted, unknown: m.unknown } }));
      break;
    case 'generate-token':
      if (getX().gen.requestId === m.requestId) setX((s) => ({ gen: { ...s.gen, [m.which]: s.gen[m.which] + m.text } }));
      break;
    case 'generated':
      if (getX().gen.requestId === m.requestId) setX((s) => ({ gen: { ...s.gen, status: 'done', base: m.base, adapted: m.adapted ?? '', adaptedError: m.adaptedError } }));
      break;
    case 'generate-failed':
      if (getX().gen.requestId === m.requestId) setX((s) => ({ gen: { ...s.gen, status: 'failed', error: m.message } }));
      break;
  }
}
