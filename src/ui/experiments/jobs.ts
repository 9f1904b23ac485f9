// The experiment jobs (approximation error, NTK regime) as requests to the engine client:
// each job's progress messages and its outcome land in its slot of the experiments state.
import { engine } from '../engineLink';
import type { Pending } from '../worker/client';
import type { EngineRequest, ProgressOf } from '../worker/protocol';
import { approxConfigOf, ntkConfigOf, type ApproxForm, type NtkForm, type Parsed } from './logic';
import { getExperiments, idleJob, isBusy, patchJob, setExperiments, type ExperimentsState, type Slot } from './state';

/** The request each slot is waiting on; replies of an older request are ignored. */
const jobs: Record<Slot, Pending<'experiment-start'> | null> = { approx: null, ntk: null };

/** What one progress message of a job changes in its slot. */
function jobProgress(slot: Slot, m: ProgressOf<'experiment-start'>) {
  const j = getExperiments()[slot];
  switch (m.type) {
    case 'experiment-started':
      patchJob(slot, { status: 'running', note: m.note, startedAt: performance.now(), label: j.stopping ? j.label : 'starting' });
      break;
    case 'experiment-progress':
      // A job being stopped keeps saying so until it ends.
      if (j.status === 'running') patchJob(slot, { done: m.done, total: m.total, label: j.stopping ? j.label : m.label });
      break;
    case 'experiment-point':
      if (m.kind === 'approx' && slot === 'approx') setExperiments((s) => ({ approx: { ...s.approx, points: [...s.approx.points, m.point] } }));
      if (m.kind === 'ntk-regime' && slot === 'ntk') setExperiments((s) => ({ ntk: { ...s.ntk, points: [...s.ntk.points, m.point] } }));
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
  setExperiments({ [slot]: { ...idleJob(), id: p.id, status: 'queued' } } as Partial<ExperimentsState>);
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
  const j = getExperiments()[slot];
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
