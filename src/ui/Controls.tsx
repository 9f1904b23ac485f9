// The settings panel: task (built-in or your own .txt), method and its knobs, training
// sizes, presets, and the run buttons. Native inputs and buttons only, each with a label.
import { useId, useMemo, useState } from 'react';
import type { FeatureMapName, KParam, Method, PrefixInit } from '../train/config';
import { NumberField, SelectField } from './fields';
import { PrefixLength } from './PrefixLength';
import { activeRun, applyPreset, control, loadUserFile, runOutlook, setConfig, startRun, useApp } from './store';
import { formatBytes, presetsWaitReason } from './sizing';
import { BUILTIN_TASKS, fileTaskName, PRESETS, TASK_LABELS } from './settings';
import { formatDuration, isActive } from './runs';

const METHODS: readonly (readonly [Method, string])[] = [
  ['prefix', 'Prefix tuning'],
  ['ntk', 'NTK-Attention'],
  ['lora', 'LoRA'],
  ['full', 'Full fine-tuning'],
];
const PREFIX_INITS: readonly (readonly [PrefixInit, string])[] = [
  ['random', 'random N(0, 1)'],
  ['from-text', "the base model's keys and values on task text"],
];
const FEATURE_MAPS: readonly (readonly [FeatureMapName, string])[] = [
  ['elu1', 'ELU+1 (r = d)'],
  ['taylor2', 'Taylor-2 (r = 1 + d + d²)'],
];
const K_PARAMS: readonly (readonly [KParam, string])[] = [
  ['exp', 'exp(κ)'],
  ['softplus', 'softplus(κ)'],
  ['abs', '|κ|'],
  ['identity', 'κ (as is)'],
];

async function readFile(file: File) {
  loadUserFile(file.name, new Uint8Array(await file.arrayBuffer()));
}

function TaskField() {
  const task = useApp((s) => s.config.task);
  const userFile = useApp((s) => s.userFile);
  const fileError = useApp((s) => s.fileError);
  const id = useId();
  const [dragging, setDragging] = useState(false);
  // Tasks the base cannot run (the worker asked the data layer): shown, not selectable.
  const issues = useApp((s) => s.base.info?.taskIssues);
  const blocked = new Set(Object.keys(issues ?? {}));
  const options: [string, string][] = BUILTIN_TASKS.map((t) => [t, blocked.has(t) ? `${TASK_LABELS[t] ?? t}: not with this base model` : (TASK_LABELS[t] ?? t)]);
  if (userFile) options.push([fileTaskName(userFile.name), `Your file: ${userFile.name}`]);
  if (!options.some(([v]) => v === task)) options.push([task, `${task} (not loaded)`]);
  return (
    <fieldset>
      <legend>Task</legend>
      <SelectField
        label="Task"
        value={task}
        options={options}
        disabled={blocked}
        onChange={(v) => setConfig({ task: v })}
        help={blocked.size ? `Not with this base model: ${Object.entries(issues!).map(([t, why]) => `${t} (${why})`).join('; ')}.` : undefined}
      />
      <div
        className={`drop${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          const f = e.dataTransfer.files[0];
          if (f) void readFile(f);
        }}
      >
        <label htmlFor={id}>Your own text (.txt, UTF-8)</label>
        <input
          id={id}
          type="file"
          accept=".txt,text/plain"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void readFile(f);
            e.target.value = '';
          }}
        />
        <small className="help">or drop a file here; it stays in this tab and is never uploaded.</small>
      </div>
      {userFile && !fileError && (
        <p className="ok-line">
          Loaded {userFile.name}: {userFile.chars.toLocaleString()} characters.
        </p>
      )}
      {fileError && (
        <p role="alert" className="error-line">
          {fileError}
        </p>
      )}
    </fieldset>
  );
}

function MethodFields() {
  const c = useApp((s) => s.config);
  return (
    <fieldset>
      <legend>Adaptation</legend>
      <SelectField label="Method" value={c.method} options={METHODS} onChange={(v) => setConfig({ method: v })} />
      {c.method === 'prefix' && (
        <>
          <PrefixLength />
          <SelectField
            label="Prefix initialisation"
            value={c.prefixInit}
            options={PREFIX_INITS}
            onChange={(v) => setConfig({ prefixInit: v })}
          />
        </>
      )}
      {c.method === 'ntk' && (
        <>
          <SelectField label="Feature map φ" value={c.featureMap} options={FEATURE_MAPS} onChange={(v) => setConfig({ featureMap: v })} />
          <NumberField name="ntkRank" label="Rank of Z (0 = full)" />
          <SelectField label="k parameterisation" value={c.kParam} options={K_PARAMS} onChange={(v) => setConfig({ kParam: v })} />
        </>
      )}
      {c.method === 'lora' && (
        <>
          <NumberField name="loraRank" label="LoRA rank" />
          <NumberField name="loraAlpha" label="LoRA alpha" />
        </>
      )}
    </fieldset>
  );
}

/** The current settings on this base and adapter: time and GPU memory, said how they were got. */
function Outlook() {
  // Selected piece by piece (stable references), then computed: a selector returning a new
  // object on every call would re-render forever.
  const config = useApp((s) => s.config);
  const gpu = useApp((s) => s.gpu);
  const info = useApp((s) => s.base.info);
  const runs = useApp((s) => s.runs);
  const o = useMemo(() => runOutlook({ ...useApp.getState(), config, gpu, runs, base: { ...useApp.getState().base, info } }), [config, gpu, info, runs]);
  const base = info?.summary?.name;
  if (!o) return null;
  const { eta, fit, budget } = o;
  return (
    <p className="help" data-testid="run-outlook">
      These settings{base ? ` on ${base}` : ''}: {eta.kind === 'estimate' ? 'estimated' : 'about'} {formatDuration(eta.ms)} ({eta.note}); GPU memory about {formatBytes(fit.estimate.total)} of a{' '}
      {formatBytes(budget.bytes)} budget ({budget.source}).
      {fit.problem && <strong className="field-issue"> Too big: {fit.problem}.</strong>}
    </p>
  );
}

function Presets() {
  // Presets are sized for the adapter: until it is known they would guess, so they wait.
  const wait = useApp((s) => presetsWaitReason(s.gpu.state === 'ok' ? s.gpu.report : null));
  const waitId = useId();
  return (
    <fieldset>
      <legend>Presets</legend>
      <div className="button-row">
        {PRESETS.map((p) => (
          <button key={p.name} type="button" title={p.help} disabled={wait !== null} aria-describedby={wait ? waitId : undefined} onClick={() => applyPreset(p.name)}>
            {p.label}
          </button>
        ))}
      </div>
      {wait && (
        <p className="help" id={waitId}>
          {wait}
        </p>
      )}
      <Outlook />
    </fieldset>
  );
}

export function RunButtons() {
  const gpuOk = useApp((s) => s.gpu.state === 'ok');
  const run = useApp((s) => activeRun(s));
  const going = isActive(run);
  const paused = run?.state === 'paused';
  return (
    <div className="button-row run-buttons">
      <button type="button" className="primary" disabled={!gpuOk} onClick={() => startRun()}>
        Train
      </button>
      <button type="button" disabled={!going || paused} onClick={() => control('pause')}>
        Pause
      </button>
      <button type="button" disabled={!paused} onClick={() => control('resume')}>
        Resume
      </button>
      <button type="button" disabled={!going} onClick={() => control('step')}>
        Step
      </button>
      <button type="button" disabled={!going} onClick={() => control('stop')}>
        Stop
      </button>
    </div>
  );
}

export function Controls() {
  return (
    <form className="controls" aria-label="Run settings" onSubmit={(e) => e.preventDefault()}>
      <TaskField />
      <MethodFields />
      <fieldset>
        <legend>Training</legend>
        <div className="grid2">
          <NumberField name="steps" label="Steps" />
          <NumberField name="batch" label="Batch size" />
          <NumberField name="seqLen" label="Sequence length" />
          <NumberField name="lr" label="Learning rate" />
          <NumberField name="seed" label="Seed" />
          <NumberField name="evalEvery" label="Validate every" />
        </div>
      </fieldset>
      <Presets />
    </form>
  );
}
