// "Approximation error against prefix length": how well NTK-Attention's (Z, k) stand in for
// attention to a prefix of m keys and values, as m grows (paper §4.4, corrected protocol of
// docs/ntk-attention.md §11). Runs experiments/approx_error.ts in the engine worker with tiny
// defaults; points stream in and are plotted as they come, log-log with fitted slopes.
import { useMemo, useRef, useState } from 'react';
import type { ApproxMethod } from '../../experiments/approx_config';
import type { FeatureMapName } from '../../train/config';
import { ApproxChart, ChartCard } from '../charts';
import { activeRun, useApp } from '../store';
import { isActive } from '../runs';
import { overfitPoints } from '../../experiments/approx_points';
import { APPROX_LABELS, approxExportRows, TINY_APPROX, type ApproxForm } from './logic';
import { CheckGroup, Errors, JobProgress, TextNumber, useSwapFocus } from './parts';
import { startApprox, stopJob } from './jobs';
import { isBusy, useExperiments } from './state';

const MAPS: readonly (readonly [FeatureMapName, string])[] = [
  ['elu1', 'ELU+1'],
  ['taylor2', 'Taylor-2'],
];
const METHODS: readonly (readonly [ApproxMethod, string])[] = [
  ['closed', 'closed form from the prefix'],
  ['paper', "trained, paper's k = |κ|"],
  ['robust', 'trained, k = exp(κ)'],
];

type NumKey = Exclude<keyof ApproxForm, 'maps' | 'methods'>;
const FIELDS: readonly { key: NumKey; min: number; max: number; int?: boolean }[] = [
  { key: 'd', min: 1, max: 64 },
  { key: 'L', min: 1, max: 4096 },
  { key: 'heads', min: 1, max: 64 },
  { key: 'maxM', min: 1, max: 2 ** 22 },
  { key: 'trainMaxM', min: 1, max: 2 ** 22 },
  { key: 'trainSeqs', min: 1, max: 1024 },
  { key: 'steps', min: 0, max: 1_000_000 },
  { key: 'lr', min: 0, max: 10, int: false },
  { key: 'seeds', min: 1, max: 1000 },
  { key: 'seed', min: 0, max: 2 ** 32 - 1 },
];

export function ApproxPanel() {
  const job = useExperiments((s) => s.approx);
  const gpuOk = useApp((s) => s.gpu.state === 'ok');
  const runGoing = useApp((s) => isActive(activeRun(s)));
  const [form, setForm] = useState<ApproxForm>(() => ({ ...TINY_APPROX, maps: [...TINY_APPROX.maps], methods: [...TINY_APPROX.methods] }));
  const [metric, setMetric] = useState<'rel' | 'maxAbs'>('rel');
  const rows = useMemo(() => approxExportRows(job.points), [job.points]);
  const overfit = useMemo(() => overfitPoints(job.points), [job.points]);
  const busy = isBusy(job.status);
  const runRef = useRef<HTMLButtonElement>(null);
  const stopRef = useRef<HTMLButtonElement>(null);
  useSwapFocus(busy, runRef, stopRef);
  const set = (patch: Partial<ApproxForm>) => setForm((f) => ({ ...f, ...patch }));
  return (
    <ChartCard
      title="Approximation error against prefix length"
      description="NTK-Attention in place of attention to m prefix rows: its error relative to the prefix's effect (1 = nothing captured), against m on log-log axes, for (Z, k) in closed form from the prefix and trained by Adam. Random attention inputs, no model: it runs in seconds."
      filename="approx-error"
      rows={rows}
    >
      <form
        className="exp-form"
        noValidate
        aria-label="Approximation-error settings"
        data-export-ignore=""
        onSubmit={(e) => {
          e.preventDefault();
          if (!busy) startApprox(form);
        }}
      >
        <div className="exp-grid">
          {FIELDS.map((f) => (
            <TextNumber key={f.key} label={APPROX_LABELS[f.key]} value={form[f.key]} min={f.min} max={f.max} int={f.int} disabled={busy} onChange={(v) => set({ [f.key]: v } as Partial<ApproxForm>)} />
          ))}
        </div>
        <div className="exp-grid">
          <CheckGroup legend="Feature maps" options={MAPS} value={form.maps} disabled={busy} onChange={(maps) => set({ maps })} />
          <CheckGroup legend="Approximations" options={METHODS} value={form.methods} disabled={busy} onChange={(methods) => set({ methods })} />
        </div>
        <div className="button-row">
          <button ref={runRef} type="submit" className="primary" disabled={!gpuOk || busy}>
            Run approximation sweep
          </button>
          {busy && (
            <button ref={stopRef} type="button" onClick={() => stopJob('approx')}>
              Stop approximation sweep
            </button>
          )}
          <button type="button" disabled={busy} onClick={() => setForm({ ...TINY_APPROX, maps: [...TINY_APPROX.maps], methods: [...TINY_APPROX.methods] })}>
            Default settings
          </button>
        </div>
        <p className="help">
          The default settings finish in well under a minute on a CPU adapter; “Random draw” seeds the random inputs. The closed form sweeps m = 1, 2, 4, … up to its largest m; trained points (Adam, per point) stop at their
          own, smaller, largest m because each costs a training run.
        </p>
      </form>
      <JobProgress name="Approximation sweep" unit="point" job={job} waitingForRun={runGoing} />
      <Errors errors={job.errors} failed={job.status === 'failed'} />
      <div className="chart-options" data-export-ignore="">
        <label>
          Error measure{' '}
          <select value={metric} onChange={(e) => setMetric(e.target.value as 'rel' | 'maxAbs')}>
            <option value="rel">relative error ‖T − Y‖ / ‖T − Y₀‖</option>
            <option value="maxAbs">max absolute error</option>
          </select>
        </label>
      </div>
      <ApproxChart points={job.points} metric={metric} />
      {overfit.length > 0 && (
        <p className="help" role="note" data-testid="approx-overfit">
          {overfit.length} trained point{overfit.length > 1 ? 's' : ''} ({[...new Set(overfit.map((p) => `${p.method} ${p.map} m=${p.m}`))].join(', ')}) fit the training
          sequences (training error at most half its start) yet ended with a larger error on the evaluation sequences than they started with: overfitting, since a head has r·d
          entries of Z to fit (Taylor-2: (1 + d + d²)·d). More training sequences fix that; it is not a failure to train.
        </p>
      )}
    </ChartCard>
  );
}
