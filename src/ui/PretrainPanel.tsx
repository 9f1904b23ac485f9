// "Pretrain a new base model": choose the sizes, the run length, the corpus and the seed,
// pretrain in the worker (progress, ETA, Stop), and the new model replaces the base.
// The fields are only in the page while the panel is open, so their labels (Steps, Seed)
// never compete with the run settings' for a screen reader or a test.
import { useId, useState } from 'react';
import { formatDuration, isActive } from './runs';
import { startPretrain, stopPretrain, usePretrain } from './pretrainState';
import {
  CORPUS_LABELS,
  defaultPretrainSettings,
  describeSizes,
  PRETRAIN_BOUNDS,
  PRETRAIN_CORPORA,
  validatePretrain,
  type PretrainErrors,
  type PretrainNumberField,
  type PretrainSettings,
} from './pretrainSettings';
import { useApp } from './store';

type Form = Record<keyof PretrainSettings, string>;

const FIELD_ORDER: PretrainNumberField[] = ['nLayer', 'nHead', 'nEmbd', 'contextLength', 'steps', 'seed'];
const HELP: Record<PretrainNumberField, string> = {
  nLayer: 'transformer blocks',
  nHead: 'attention heads per block',
  nEmbd: 'channels; divisible by the heads, at most 64 per head',
  contextLength: 'longest sequence the model reads',
  steps: 'training steps from random weights',
  seed: 'random seed of the initial weights and the batches',
};

function toForm(s: PretrainSettings): Form {
  return { nLayer: String(s.nLayer), nHead: String(s.nHead), nEmbd: String(s.nEmbd), contextLength: String(s.contextLength), steps: String(s.steps), seed: String(s.seed), corpus: s.corpus };
}

function fmtLoss(x: number | null): string {
  return x === null || !Number.isFinite(x) ? '—' : x.toFixed(3);
}

function PretrainForm() {
  const software = useApp((s) => s.gpu.state === 'ok' && s.gpu.report.isFallbackAdapter);
  const baseReady = useApp((s) => s.base.state === 'ready');
  const p = usePretrain();
  const [form, setForm] = useState<Form>(() => toForm(defaultPretrainSettings(software)));
  const [errors, setErrors] = useState<PretrainErrors>({});
  const id = useId();
  const busy = p.state === 'running' || p.state === 'stopping';

  const update = (k: keyof Form, v: string) => {
    setForm((f) => ({ ...f, [k]: v }));
    // Messages already shown go away as soon as they are fixed (fixing Heads can fix Width's).
    if (Object.keys(errors).length) {
      const now = validatePretrain({ ...form, [k]: v }).errors;
      setErrors(Object.fromEntries(Object.entries(now).filter(([f]) => f in errors)));
    }
  };
  const submit = () => {
    const r = validatePretrain(form);
    setErrors(r.errors);
    if (r.settings) startPretrain(r.settings, { waitsForRun: useApp.getState().runs.some(isActive) });
  };

  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <p className="help">
        Trains a new base model from random weights on a built-in corpus, in this tab. When it finishes it replaces the current base model: runs so far stay on the list, and
        later runs adapt the new one. {software && 'On this software adapter keep it tiny: each step takes about a second.'}
      </p>
      <div className="pretrain-fields" style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(11rem, 1fr))', columnGap: '1rem' }}>
        {FIELD_ORDER.map((k) => {
          const b = PRETRAIN_BOUNDS[k];
          const fid = `${id}-${k}`;
          return (
            <div className="field" key={k}>
              <label htmlFor={fid}>{b.label}</label>
              <input
                id={fid}
                type="number"
                inputMode="numeric"
                min={b.min}
                max={b.max}
                step={1}
                value={form[k]}
                disabled={busy}
                aria-invalid={errors[k] ? true : undefined}
                aria-describedby={`${fid}-help`}
                onChange={(e) => update(k, e.target.value)}
              />
              <small id={`${fid}-help`} className={errors[k] ? 'field-issue' : 'help'} role={errors[k] ? 'alert' : undefined}>
                {errors[k] ?? HELP[k]}
              </small>
            </div>
          );
        })}
        <div className="field">
          <label htmlFor={`${id}-corpus`}>Corpus</label>
          <select id={`${id}-corpus`} value={form.corpus} disabled={busy} onChange={(e) => update('corpus', e.target.value)}>
            {PRETRAIN_CORPORA.map((c) => (
              <option key={c} value={c}>
                {CORPUS_LABELS[c]}
              </option>
            ))}
          </select>
          {errors.corpus && (
            <small className="field-issue" role="alert">
              {errors.corpus}
            </small>
          )}
        </div>
      </div>
      <div className="buttons">
        <button type="submit" disabled={busy || !baseReady}>
          Pretrain base model
        </button>
        {busy && (
          <button type="button" disabled={p.state === 'stopping'} onClick={() => stopPretrain()}>
            Stop pretraining
          </button>
        )}
      </div>
      {!baseReady && !busy && <p className="help">Available once the current base model is ready.</p>}
      {busy && p.settings && (
        <div className="progress-row" role="status">
          <progress aria-label="Pretraining progress" max={Math.max(1, p.totalSteps)} value={p.step} />
          <span data-testid="pretrain-progress">
            {describeSizes(p.settings)}: step {p.step} / {p.totalSteps} · loss {fmtLoss(p.loss)}
            {p.etaMs !== null && ` · about ${formatDuration(p.etaMs)} left`}
            {p.step === 0 && ` · ${p.message}`}
          </span>
        </div>
      )}
      {p.state === 'done' && (
        <p className="ok-line" role="status">
          {p.message} Final training loss {fmtLoss(p.loss)}.
        </p>
      )}
      {p.state === 'stopped' && <p role="status">{p.message}</p>}
      {p.state === 'failed' && (
        <p role="alert" className="error-line">
          Pretraining failed: {p.message}
        </p>
      )}
    </form>
  );
}

export function PretrainPanel() {
  const [open, setOpen] = useState(false);
  return (
    <details className="card pretrain-panel" open={open} onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>
        <h2 style={{ display: 'inline', fontSize: '1.05rem' }}>Pretrain a new base model</h2>
      </summary>
      {open && <PretrainForm />}
    </details>
  );
}
