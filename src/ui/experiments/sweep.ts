// The prefix-length sweep: ordinary prefix-tuning runs at m = 1, 2, 4, … one after another,
// started and watched through the app port (appPort.ts); its progress is the experiments
// state's `sweep`.
import { app } from '../appPort';
import { engine } from '../engineLink';
import { isActive } from '../runs';
import { sweepLengths } from './logic';
import { getExperiments, setExperiments, type SweepState } from './state';

let unsubscribe: (() => void) | null = null;
/** True while the sweep itself starts a run (its store updates are not a run ending). */
let advancing = false;

function endSweep(status: SweepState['status'], message: string | null) {
  const sw = getExperiments().sweep;
  unsubscribe?.();
  unsubscribe = null;
  setExperiments({ sweep: { ...sw, status, message } });
  // Stopped early: the setting goes back to what the user had chosen (unless they changed it since).
  const m = app().config().prefixLength;
  if (status !== 'done' && m === sw.ms[sw.index] && m !== sw.max) app().setConfig({ prefixLength: sw.max });
}

function startSweepRun(i: number): boolean {
  const sw = getExperiments().sweep;
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
  setExperiments((s) => ({ sweep: { ...s.sweep, index: i, runIds: [...s.sweep.runIds, id] } }));
  return true;
}

/** Watches the sweep's current run: when it ends, the next m starts (or the sweep ends). */
function onRunsChange() {
  const sw = getExperiments().sweep;
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
  if (getExperiments().sweep.status === 'running') return false;
  const max = app().config().prefixLength;
  const ms = sweepLengths(max);
  const refuse = (message: string) => {
    setExperiments((s) => ({ sweep: { ...s.sweep, status: 'failed', message } }));
    return false;
  };
  if (!app().gpuReady()) return refuse('WebGPU is not ready yet');
  if (!ms.length) return refuse('set the prefix length m to 1 or more first: the sweep goes up to it');
  setExperiments({ sweep: { status: 'running', ms, index: 0, runIds: [], max, message: null } });
  unsubscribe?.();
  unsubscribe = app().onRunsChange(onRunsChange);
  return startSweepRun(0);
}

/** Stops the run going now, which ends the sweep. */
export function stopSweep() {
  const sw = getExperiments().sweep;
  if (sw.status !== 'running') return;
  const id = sw.runIds[sw.index];
  const run = app().runs().find((r) => r.id === id);
  if (run && isActive(run)) engine().send({ type: 'control', runId: id, action: 'stop' });
  endSweep('stopped', `stopped at m = ${sw.ms[sw.index]}`);
}
