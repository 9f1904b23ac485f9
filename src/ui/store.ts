// The page's state (zustand): the WebGPU status, the base model, the run configuration
// (mirrored in the URL), the user's file, notices, and every run with its recorded metrics.
// Commands go to the engine worker through the client (engineLink.ts); the worker's events
// (device, base model, runs) come back to handleEngineEvent, which route.ts subscribes.
// This store imports no other store; appPort is what the others may ask of it.
import { create } from 'zustand';
import { decodeTextBytes, DataError, minCharsForSeqLen } from '../data';
import type { AdapterReport } from '../gpu/device';
import { defaultConfig, describeChange, parseField, RUN_FIELDS, type RunConfig, type RunFieldName } from '../train/config';
import type { RunEvent } from '../train/events';
import { applyEvent, isActive, newRun, setPaused, type RunRecord } from './runs';
import { configFromUrl, FILE_TASK_PREFIX, fileTaskName, presetByName, urlQueryOf, type PresetName } from './settings';
import { formatBytes, isLargeModel, memoryBudgetHere, presetsWaitReason, runEta, runFit, sizePreset, type Budget, type Measured } from './sizing';
import type { AppPort } from './appPort';
import { engine } from './engineLink';
import { BASE_CHANGE_PREFIX, baseChangeRecord } from './exchange/records';
import type { ControlAction, BaseInfo, EngineEvent } from './worker/protocol';

export type GpuStatus =
  | { state: 'probing' }
  | { state: 'ok'; report: AdapterReport; description: string }
  | { state: 'unavailable'; reason: 'no-webgpu' | 'no-adapter' | 'device-request' | 'worker'; message: string };

export interface BaseStatus {
  state: 'waiting' | 'loading' | 'ready' | 'error';
  message: string;
  fraction: number;
  info: BaseInfo | null;
}

export interface Notice {
  id: number;
  kind: 'info' | 'warning' | 'error';
  text: string;
}

export interface UserFile {
  name: string;
  text: string;
  chars: number;
}

export interface AppState {
  gpu: GpuStatus;
  deviceLost: string | null;
  base: BaseStatus;
  config: RunConfig;
  userFile: UserFile | null;
  fileError: string | null;
  notices: Notice[];
  runs: RunRecord[];
  activeRunId: string | null;
  /** Paused because the tab was hidden (resumes when it is shown again). */
  autoPaused: boolean;
  logScale: boolean;
  metric: 'loss' | 'accuracy';
  /** Why the last Train press was refused (the run would not fit), with the numbers. */
  runRefusal: string | null;
}

export const useApp = create<AppState>()(() => ({
  gpu: { state: 'probing' },
  deviceLost: null,
  base: { state: 'waiting', message: '', fraction: 0, info: null },
  config: defaultConfig(),
  userFile: null,
  fileError: null,
  notices: [],
  runs: [],
  activeRunId: null,
  autoPaused: false,
  logScale: false,
  metric: 'loss',
  runRefusal: null,
}));

const get = useApp.getState;
const set = useApp.setState;

/** "Use the default base model": the worker forgets the chosen (imported or pretrained)
 *  base, here and in this browser's storage, and loads the shipped one. */
export function restoreDefaultBase() {
  if (engine().send({ type: 'reset-base' })) set((s) => ({ base: { ...s.base, state: 'loading', message: 'loading the default base model', fraction: 0 } }));
}

/** The GPU-memory budget runs are checked against, or null before the adapter is known. */
export function budgetOf(s: AppState = get()): Budget | null {
  return s.gpu.state === 'ok' ? memoryBudgetHere(s.gpu.report) : null;
}

/** The step time of the newest run on the current base with the current method that took
 *  steps (ETAs use it instead of the FLOP estimate). */
export function measuredFor(s: AppState = get()): Measured | null {
  const fp = s.base.info?.fingerprint;
  if (!fp) return null;
  for (let i = s.runs.length - 1; i >= 0; i--) {
    const r = s.runs[i];
    if (r.baseFingerprint !== fp || r.config.method !== s.config.method || r.intervals < 1) continue;
    return { msPerStep: r.activeMs / r.intervals, tokens: r.config.batch * (r.seqLen ?? r.config.seqLen), method: r.config.method };
  }
  return null;
}

/** The current settings' memory estimate, fit and ETA on the current base, or null before
 *  the adapter and the base are known. */
export function runOutlook(s: AppState = get()) {
  const budget = budgetOf(s);
  const model = s.base.info?.modelConfig;
  if (!budget || !model || s.gpu.state !== 'ok') return null;
  const fit = runFit(model, s.config, s.gpu.report, budget);
  const eta = runEta(model, s.config, s.gpu.report.isFallbackAdapter, measuredFor(s));
  return { budget, fit, eta };
}

let noticeId = 0;
export function addNotice(kind: Notice['kind'], text: string) {
  set((s) => ({ notices: [...s.notices, { id: ++noticeId, kind, text }] }));
}
export function dismissNotice(id: number) {
  set((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
}

function syncUrl(c: RunConfig) {
  if (typeof window === 'undefined' || typeof history === 'undefined') return;
  const url = `${window.location.pathname}${urlQueryOf(c)}${window.location.hash}`;
  if (url !== `${window.location.pathname}${window.location.search}${window.location.hash}`) history.replaceState(null, '', url);
}

/** Reads the config from a URL query; parse problems become one dismissible notice. */
export function loadConfigFromUrl(search: string) {
  const { config, issues } = configFromUrl(search);
  set({ config });
  if (issues.length) addNotice('warning', `Some settings in the link were changed: ${issues.map((i) => i.message).join('; ')}.`);
  if (config.task.startsWith(FILE_TASK_PREFIX)) {
    addNotice('info', `This link uses your own file (${config.task.slice(FILE_TASK_PREFIX.length)}); files are not part of links: pick it again below.`);
  }
}

/** Sets fields through the schema (clamped, validated) and mirrors the result in the URL. */
export function setConfig(patch: Partial<RunConfig>) {
  const next = { ...get().config } as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch)) {
    if (!(k in RUN_FIELDS)) continue;
    next[k] = parseField(k as RunFieldName, v).value;
  }
  const config = next as unknown as RunConfig;
  set({ config, runRefusal: null });
  syncUrl(config);
}

/** A preset, sized to the base model and the adapter in use (sizing.ts). */
export function presetValues(name: PresetName, s: AppState = get()): Partial<RunConfig> | null {
  const p = presetByName(name);
  if (!p) return null;
  const report = s.gpu.state === 'ok' ? s.gpu.report : null;
  const values = sizePreset(name, p.values(report?.isFallbackAdapter ?? false), s.config, s.base.info?.modelConfig ?? null, report, budgetOf(s));
  // A preset's prefix length only applies to prefix runs; other methods keep theirs.
  if (s.config.method !== 'prefix') delete values.prefixLength;
  return values;
}

/** Applies a preset; false (nothing changed) until the adapter is known (presetsWaitReason). */
export function applyPreset(name: PresetName): boolean {
  const s = get();
  if (presetsWaitReason(s.gpu.state === 'ok' ? s.gpu.report : null)) return false;
  const values = presetValues(name, s);
  if (values) setConfig(values);
  return values !== null;
}

/** A large base (a GPT-2) just became the base: on a software adapter the settings become
 *  the Tiny preset sized for it, and on any adapter a run that would not fit is resized;
 *  the page says which. */
function sizeForNewBase(info: BaseInfo) {
  const s = get();
  if (s.gpu.state !== 'ok' || !isLargeModel(info.modelConfig)) return;
  const software = s.gpu.report.isFallbackAdapter;
  const out = runOutlook(s);
  if (!software && !out?.fit.problem) return;
  const name: PresetName = software ? 'tiny' : 'quick';
  applyPreset(name);
  const c = get().config;
  const eta = runOutlook();
  addNotice(
    'info',
    `${info.summary?.name ?? 'This base model'} is large for ${software ? 'a software adapter (every step runs on the CPU)' : 'the current settings'}: the settings are now the ${software ? 'Tiny' : 'Quick demo'} preset sized for it (batch ${c.batch}, sequence length ${Math.min(c.seqLen, info.modelConfig.contextLength)}, ${c.steps} steps${eta ? `, ${eta.eta.kind === 'estimate' ? 'estimated' : 'about'} ${Math.max(1, Math.round(eta.eta.ms / 1000))} s, GPU memory about ${formatBytes(eta.fit.estimate.total)}` : ''}).`,
  );
}

let runCounter = 0;

export function activeRun(s: AppState = get()): RunRecord | undefined {
  return s.runs.find((r) => r.id === s.activeRunId);
}

/** Starts a run with the current config (a run still going is stopped by the worker). */
export function startRun(): string | null {
  const s = get();
  if (s.gpu.state !== 'ok' && s.gpu.state !== 'probing') return null;
  const config = { ...s.config };
  if (config.task.startsWith(FILE_TASK_PREFIX) && (!s.userFile || fileTaskName(s.userFile.name) !== config.task)) {
    set({ fileError: 'Pick or drop your .txt file first: the selected task is a file that is not loaded.' });
    return null;
  }
  // Refused here, with the numbers, rather than failing halfway through a 500 MB upload.
  const fit = runOutlook(s)?.fit;
  if (fit?.problem) {
    set({ runRefusal: fit.problem });
    return null;
  }
  const prev = s.runs[s.runs.length - 1];
  // A random tail: two tabs starting their first run in the same millisecond save two records.
  const id = `run-${++runCounter}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
  const run: RunRecord = { ...newRun(id, describeChange(prev?.config ?? null, config), config), baseFingerprint: s.base.info?.fingerprint };
  set({ runs: [...s.runs, run], activeRunId: id, autoPaused: false, deviceLost: null, runRefusal: null });
  const userText = config.task.startsWith(FILE_TASK_PREFIX) && s.userFile ? { name: s.userFile.name, text: s.userFile.text } : undefined;
  engine().send({ type: 'start', runId: id, config, userText });
  return id;
}

export function control(action: ControlAction) {
  const s = get();
  const run = activeRun(s);
  if (!run || !isActive(run)) return;
  engine().send({ type: 'control', runId: run.id, action });
  const now = performance.now();
  if (action === 'pause' || action === 'resume') {
    set({ runs: s.runs.map((r) => (r.id === run.id ? setPaused(r, action === 'pause', now) : r)), autoPaused: false });
  } else if (action === 'step' && run.state !== 'paused') {
    // Step means "pause, then one step": the worker lets exactly one through while paused.
    engine().send({ type: 'control', runId: run.id, action: 'pause' });
    engine().send({ type: 'control', runId: run.id, action: 'step' });
    set({ runs: s.runs.map((r) => (r.id === run.id ? setPaused(r, true, now) : r)) });
  }
}

/** The tab was hidden or shown: pause a running run while hidden, resume it after. */
export function visibilityChanged(hidden: boolean) {
  const s = get();
  const run = activeRun(s);
  if (hidden) {
    if (run && (run.state === 'running' || run.state === 'compiling')) {
      control('pause');
      set({ autoPaused: true });
    }
  } else if (s.autoPaused) {
    control('resume');
  }
}

/** A prefix-length change while a prefix run is on screen starts a run at the new length. */
export function commitPrefixLength(m: number) {
  setConfig({ prefixLength: m });
  const s = get();
  const last = s.runs[s.runs.length - 1];
  if (s.config.method === 'prefix' && last?.config.method === 'prefix' && last.config.prefixLength !== s.config.prefixLength) startRun();
}

export function clearRuns() {
  const s = get();
  set({ runs: s.runs.filter((r) => isActive(r)) });
}

/** A picked or dropped file: strict UTF-8 text, long enough for the sequence length. */
export function loadUserFile(name: string, bytes: Uint8Array) {
  try {
    if (!/\.txt$/i.test(name)) throw new DataError('binary', `${name} is not a .txt file: pick a plain-text (.txt) file`);
    const text = decodeTextBytes(bytes, name);
    const ctx = get().base.info?.modelConfig.contextLength ?? 64;
    const T = Math.min(get().config.seqLen, ctx);
    const chars = [...text].length;
    const needed = minCharsForSeqLen(T);
    if (chars < needed) {
      throw new DataError('too-short', `${name} has ${chars} characters; sequence length ${T} needs at least ${needed} (10% is held out for validation)`);
    }
    set({ userFile: { name, text, chars }, fileError: null });
    setConfig({ task: fileTaskName(name) });
  } catch (e) {
    set({ fileError: e instanceof Error ? e.message : String(e) });
  }
}

export function setChartOptions(o: Partial<Pick<AppState, 'logScale' | 'metric'>>) {
  set(o);
}

// ------------------------------------------------------------------ from the worker

export function handleEvents(events: RunEvent[]) {
  const now = performance.now();
  set((s) => {
    let runs = s.runs;
    for (const e of events) runs = runs.map((r) => (r.id === e.runId ? applyEvent(r, e, now) : r));
    return { runs };
  });
}

const updateRun = (id: string, f: (r: RunRecord) => RunRecord) => set((s) => ({ runs: s.runs.map((r) => (r.id === id ? f(r) : r)) }));

export function handleEngineEvent(m: EngineEvent) {
  switch (m.type) {
    case 'run-events':
      handleEvents(m.events);
      break;
    case 'adapter':
      set({ gpu: { state: 'ok', report: m.report, description: m.description } });
      break;
    case 'unavailable':
      set({ gpu: { state: 'unavailable', reason: m.kind === 'no-webgpu' || m.kind === 'no-adapter' ? m.kind : 'device-request', message: m.message } });
      break;
    case 'base-progress':
      set({ base: { ...get().base, state: 'loading', message: m.message, fraction: m.fraction } });
      break;
    case 'base-ready': {
      const before = get().base.info?.fingerprint;
      set({ base: { state: 'ready', message: '', fraction: 1, info: m.info } });
      if (m.info.fingerprint !== before) {
        sizeForNewBase(m.info);
        // A task the new base cannot run is left for one it can, saying why.
        const old = get().config.task;
        const issue = m.info.taskIssues?.[old];
        if (issue) {
          setConfig({ task: defaultConfig().task });
          addNotice('warning', `The task is now ${defaultConfig().task}: this base model cannot run ${old} (${issue}).`);
        }
      }
      break;
    }
    case 'base-failed':
      set({ base: { ...get().base, state: 'error', message: m.message } });
      break;
    case 'run-started':
      updateRun(m.runId, (r) => ({ ...r, state: r.state === 'queued' ? 'starting' : r.state, trainableParams: m.trainableParams, totalParams: m.totalParams, seqLen: m.seqLen, taskLabel: m.taskLabel }));
      break;
    case 'run-finished':
      updateRun(m.summary.runId, (r) => ({ ...r, summary: m.summary, mass: m.mass, state: m.summary.state, message: m.summary.message ?? r.message }));
      break;
    case 'run-failed':
      if (m.replaced) set((s) => ({ runs: s.runs.filter((r) => r.id !== m.runId) }));
      else updateRun(m.runId, (r) => ({ ...r, state: 'error', message: m.message }));
      break;
    case 'device-lost':
      set({ deviceLost: m.message });
      break;
    case 'crashed':
      engineCrashed(m.message);
      break;
    default: {
      const unhandled: never = m;
      throw new Error(`unknown engine event ${JSON.stringify(unhandled)}`);
    }
  }
}

export function engineCrashed(message: string) {
  const s = get();
  if (s.gpu.state === 'probing') set({ gpu: { state: 'unavailable', reason: 'worker', message } });
  else addNotice('error', `The training engine stopped: ${message}. Reload the page to start it again.`);
  const run = activeRun(s);
  if (run && isActive(run)) updateRun(run.id, (r) => ({ ...r, state: 'error', message }));
}

// ------------------------------------------------------------------ for the other stores

let noteCounter = 0;

/** What the exchange, experiment, pretraining and base-opening stores may ask of this one. */
export const appPort: AppPort = {
  runs: () => get().runs,
  addRuns: (runs, where) => set((s) => ({ runs: where === 'first' ? [...runs, ...s.runs] : [...s.runs, ...runs] })),
  removeRuns: (ids) => set((s) => ({ runs: s.runs.filter((r) => !ids.has(r.id) || isActive(r)) })),
  onRunsChange: (f) =>
    useApp.subscribe((s, prev) => {
      if (s.runs !== prev.runs) f(s.runs);
    }),
  config: () => get().config,
  setConfig,
  userText: () => {
    const { config, userFile } = get();
    return config.task.startsWith(FILE_TASK_PREFIX) && userFile && fileTaskName(userFile.name) === config.task ? { name: userFile.name, text: userFile.text } : undefined;
  },
  startRun: () => {
    const runId = startRun();
    return runId ? { ok: true, runId } : { ok: false, error: get().fileError ?? get().runRefusal ?? 'the run could not start (is WebGPU available?)' };
  },
  gpuReady: () => get().gpu.state === 'ok',
  baseInfo: () => get().base.info,
  notify: addNotice,
  noteBaseChange: (name, previous, fingerprint) => {
    const id = `${BASE_CHANGE_PREFIX}${++noteCounter}-${Date.now().toString(36)}`;
    set((s) => ({ runs: [...s.runs, baseChangeRecord(id, { ...s.config }, name, previous, fingerprint)] }));
  },
};
