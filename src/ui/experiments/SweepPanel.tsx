// "Sweep prefix lengths": prefix tuning at m = 1, 2, 4, … up to the prefix-length setting,
// one ordinary run after another with the current settings, so "Loss against prefix length"
// fills point by point. Stop (here or in the run panel) ends the sweep.
import { useRef } from 'react';
import { useApp } from '../store';
import { useSwapFocus } from './parts';
import { useExperiments } from './state';
import { startSweep, stopSweep } from './sweep';
import { sweepLengths } from './logic';

export function SweepPanel() {
  const sweep = useExperiments((s) => s.sweep);
  const gpuOk = useApp((s) => s.gpu.state === 'ok');
  const max = useApp((s) => s.config.prefixLength);
  const running = sweep.status === 'running';
  const runRef = useRef<HTMLButtonElement>(null);
  const stopRef = useRef<HTMLButtonElement>(null);
  useSwapFocus(running, runRef, stopRef);
  const ms = running ? sweep.ms : sweepLengths(max);
  const doneCount = running ? sweep.index : sweep.status === 'done' ? sweep.ms.length : 0;
  return (
    <section className="card exp-sweep" aria-labelledby="sweep-title">
      <h2 id="sweep-title">Prefix-length sweep</h2>
      <p className="help">
        {ms.length
          ? `Prefix tuning at m = ${ms.join(', ')} (up to the prefix length setting), one run after another with the settings on the left; each finished run adds its point to “Loss against prefix length”.`
          : 'Set the prefix length m to 1 or more: the sweep runs m = 1, 2, 4, … up to it.'}
      </p>
      <div className="button-row">
        <button ref={runRef} type="button" className="primary" disabled={!gpuOk || running || !ms.length} onClick={() => startSweep()}>
          Sweep prefix lengths
        </button>
        {running && (
          <button ref={stopRef} type="button" onClick={stopSweep}>
            Stop sweep
          </button>
        )}
      </div>
      {running && (
        <div className="progress-row">
          <progress aria-label="Sweep progress" max={sweep.ms.length} value={doneCount} />
          <span data-testid="sweep-status">
            run {sweep.index + 1} of {sweep.ms.length}: m = {sweep.ms[sweep.index]}
          </span>
        </div>
      )}
      <div aria-live="polite">
        {sweep.status === 'done' && (
          <p className="ok-line" data-testid="sweep-status">
            Sweep done: {sweep.ms.length} runs, m = {sweep.ms.join(', ')}.
          </p>
        )}
        {sweep.status === 'stopped' && (
          <p className="help" data-testid="sweep-status">
            Sweep stopped{sweep.message ? `: ${sweep.message}` : ''}. Finished runs keep their points.
          </p>
        )}
        {sweep.status === 'failed' && (
          <p role="alert" className="error-line" data-testid="sweep-status">
            The sweep stopped: {sweep.message}
          </p>
        )}
      </div>
    </section>
  );
}
