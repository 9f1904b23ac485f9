// Small pieces the experiment panels share: a labelled number field that keeps the text as
// typed, a group of labelled checkboxes, and a job's progress line with its time left.
import { useEffect, useId, useRef, type RefObject } from 'react';
import { formatDuration } from '../runs';
import { etaMs } from './logic';
import type { JobState } from './state';

export function TextNumber(p: { label: string; value: string; onChange: (v: string) => void; min?: number; max?: number; step?: number | 'any'; int?: boolean; disabled?: boolean }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{p.label}</label>
      <input
        id={id}
        type="number"
        inputMode={p.int === false ? 'decimal' : 'numeric'}
        min={p.min}
        max={p.max}
        step={p.step ?? (p.int === false ? 'any' : 1)}
        value={p.value}
        disabled={p.disabled}
        onChange={(e) => p.onChange(e.target.value)}
      />
    </div>
  );
}

export function CheckGroup<T extends string>(p: { legend: string; options: readonly (readonly [T, string])[]; value: readonly T[]; onChange: (v: T[]) => void; disabled?: boolean }) {
  return (
    <fieldset className="exp-checks" disabled={p.disabled}>
      <legend>{p.legend}</legend>
      {p.options.map(([v, text]) => (
        <label key={v}>
          <input
            type="checkbox"
            checked={p.value.includes(v)}
            onChange={(e) => p.onChange(e.target.checked ? [...p.value.filter((x) => x !== v), v] : p.value.filter((x) => x !== v))}
          />{' '}
          {text}
        </label>
      ))}
    </fieldset>
  );
}

/** Progress bar, what is running, the time left, and the end state of a job. */
export function JobProgress(p: { name: string; job: JobState<unknown>; waitingForRun: boolean; unit: string }) {
  const { job } = p;
  if (job.status === 'idle') return null;
  const busy = job.status === 'queued' || job.status === 'running';
  const eta = job.status === 'running' && job.startedAt !== null ? etaMs(job.done, job.total, performance.now() - job.startedAt) : null;
  const n = job.points.length;
  const points = `${n} ${p.unit}${n === 1 ? '' : 's'}`;
  let text: string;
  switch (job.status) {
    case 'queued':
      text = p.waitingForRun ? 'Waiting for the training run to finish (one job on the GPU at a time)…' : 'Starting…';
      break;
    case 'running':
      text = `${job.label || 'running'} · ${points}${eta !== null ? ` · about ${formatDuration(eta)} left` : ''}`;
      break;
    case 'done':
      text = `Done: ${points}${job.elapsedMs !== null ? ` in ${formatDuration(job.elapsedMs)}` : ''}.`;
      break;
    case 'stopped':
      text = `Stopped: ${points} kept.`;
      break;
    default:
      text = '';
  }
  return (
    <div className="exp-progress" data-export-ignore="">
      {busy && (
        <div className="progress-row">
          <progress aria-label={`${p.name} progress`} max={job.total > 0 ? job.total : 1} value={job.total > 0 ? job.done : undefined} />
        </div>
      )}
      {job.status !== 'failed' && (
        <p className="exp-status" data-testid={`${p.name.toLowerCase().replace(/[^a-z]+/g, '-')}-status`}>
          {text}
        </p>
      )}
      {job.note && busy && <p className="help">Runs on {job.note}.</p>}
    </div>
  );
}

/** Problems with the settings, or why a job failed: one alert listing them. */
export function Errors(p: { errors: string[]; failed: boolean }) {
  if (!p.errors.length) return null;
  return (
    <div role="alert" className="error-line" data-export-ignore="">
      {p.failed ? 'It failed: ' : 'Check the settings: '}
      {p.errors.length === 1 ? (
        p.errors[0]
      ) : (
        <ul>
          {p.errors.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Keyboard users keep their place: when a job starts from the Run button (which is then
 *  disabled) focus moves to Stop, and back to Run when Stop goes away with focus on it.
 *  Only on a change of `busy`, never on the first render. */
export function useSwapFocus(busy: boolean, run: RefObject<HTMLButtonElement | null>, stop: RefObject<HTMLButtonElement | null>) {
  const prev = useRef(busy);
  useEffect(() => {
    if (prev.current === busy) return;
    prev.current = busy;
    const a = document.activeElement;
    const onBody = !a || a === document.body;
    if (busy && (onBody || a === run.current)) stop.current?.focus();
    else if (!busy && onBody) run.current?.focus();
  }, [busy, run, stop]);
}
