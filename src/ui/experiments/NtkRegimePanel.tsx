// "NTK regime": only the prefix of the frozen base model trains, at several lengths m, under
// NTK scaling and naive scaling (experiments/ntk_regime.ts). In the lazy regime a longer
// prefix moves less (≈ m^−1/2) and the loss curves bunch together. Runs in the engine
// worker with tiny defaults; each finished run adds its curve and its movement point.
import { useId, useMemo, useRef, useState } from 'react';
import type { Scaling } from '../../experiments/ntk_regime';
import { ChartCard, NtkRegimeChart } from '../charts';
import { SelectField } from '../fields';
import { TASK_LABELS } from '../settings';
import { activeRun, useApp } from '../store';
import { isActive } from '../runs';
import { NTK_LABELS, ntkChartData, ntkExportRows, TINY_NTK, type NtkForm } from './logic';
import { CheckGroup, Errors, JobProgress, TextNumber, useSwapFocus } from './parts';
import { startNtk, stopJob } from './jobs';
import { isBusy, useExperiments } from './state';

const SCALINGS: readonly (readonly [Scaling, string])[] = [
  ['ntk', 'NTK scaling (values √m larger, step η·m)'],
  ['naive', 'naive scaling'],
];
const TASKS = ['reverse', 'sort', 'copy-rule', 'add', 'moby-dick', 'sotu'] as const;
const TASK_OPTIONS = TASKS.map((t) => [t, TASK_LABELS[t] ?? t] as const);

type NumKey = Exclude<keyof NtkForm, 'scalings' | 'task' | 'ms'>;
const FIELDS: readonly { key: NumKey; min: number; max: number; int?: boolean }[] = [
  { key: 'steps', min: 1, max: 1_000_000 },
  { key: 'lr', min: 0, max: 1000, int: false },
  { key: 'batch', min: 1, max: 512 },
  { key: 'seqLen', min: 2, max: 64 },
  { key: 'seed', min: 0, max: 2 ** 31 - 1 },
];

export function NtkRegimePanel() {
  const job = useExperiments((s) => s.ntk);
  const gpuOk = useApp((s) => s.gpu.state === 'ok');
  const runGoing = useApp((s) => isActive(activeRun(s)));
  const [form, setForm] = useState<NtkForm>(() => ({ ...TINY_NTK, scalings: [...TINY_NTK.scalings] }));
  const data = useMemo(() => ntkChartData(job.points), [job.points]);
  const rows = useMemo(() => ntkExportRows(job.points), [job.points]);
  const busy = isBusy(job.status);
  const runRef = useRef<HTMLButtonElement>(null);
  const stopRef = useRef<HTMLButtonElement>(null);
  useSwapFocus(busy, runRef, stopRef);
  const set = (patch: Partial<NtkForm>) => setForm((f) => ({ ...f, ...patch }));
  const msId = useId();
  return (
    <ChartCard
      title="NTK regime of prefix learning"
      description="Only the prefix of the frozen base model trains, by plain gradient descent, at each m. Under NTK scaling a longer prefix moves less (theory: slope −1/2 on the right) and the loss curves approach one limit; under naive scaling they drift with m."
      filename="ntk-regime"
      rows={rows}
    >
      <form
        className="exp-form"
        noValidate
        aria-label="NTK-regime settings"
        data-export-ignore=""
        onSubmit={(e) => {
          e.preventDefault();
          if (!busy) startNtk(form);
        }}
      >
        <div className="exp-grid">
          <SelectField label="Task adapted to" value={form.task} options={TASK_OPTIONS} onChange={(task) => set({ task })} />
          <div className="field">
            <label htmlFor={msId}>{NTK_LABELS.ms}</label>
            <input id={msId} type="text" inputMode="numeric" value={form.ms} disabled={busy} aria-describedby={`${msId}-help`} onChange={(e) => set({ ms: e.target.value })} />
            <small id={`${msId}-help`} className="help">
              comma-separated, e.g. 4, 16, 64
            </small>
          </div>
          {FIELDS.map((f) => (
            <TextNumber key={f.key} label={NTK_LABELS[f.key]} value={form[f.key]} min={f.min} max={f.max} int={f.int} disabled={busy} onChange={(v) => set({ [f.key]: v } as Partial<NtkForm>)} />
          ))}
        </div>
        <CheckGroup legend="Parameterisations" options={SCALINGS} value={form.scalings} disabled={busy} onChange={(scalings) => set({ scalings })} />
        <div className="button-row">
          <button ref={runRef} type="submit" className="primary" disabled={!gpuOk || busy}>
            Run NTK regime
          </button>
          {busy && (
            <button ref={stopRef} type="button" onClick={() => stopJob('ntk')}>
              Stop NTK regime
            </button>
          )}
          <button type="button" disabled={busy} onClick={() => setForm({ ...TINY_NTK, scalings: [...TINY_NTK.scalings] })}>
            Default settings
          </button>
        </div>
        <p className="help">The default settings take about half a minute on a CPU adapter; “Random draw” seeds the prefix and the batches. The step size η suits a pretrained base; larger values leave the lazy regime.</p>
      </form>
      <JobProgress name="NTK regime" unit="run" job={job} waitingForRun={runGoing} />
      <Errors errors={job.errors} failed={job.status === 'failed'} />
      <NtkRegimeChart curves={data.curves} movement={data.movement} />
    </ChartCard>
  );
}
