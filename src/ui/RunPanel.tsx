// The current run at a glance: progress with ETA, speed (first step excluded: it compiles
// the shaders), losses, and plain messages when a run diverges or the device is lost.
import { activeRun, restoreDefaultBase, runOutlook, useApp } from './store';
import type { BaseInfo } from './worker/protocol';
import { RunButtons } from './Controls';
import { formatDuration, progressOf } from './runs';

const STATE_TEXT: Record<string, string> = {
  queued: 'waiting for the engine',
  starting: 'starting',
  compiling: 'compiling shaders (the first step takes longest)',
  running: 'training',
  paused: 'paused',
  stopped: 'stopped',
  done: 'done',
  diverged: 'diverged',
  error: 'failed',
};

function fmt(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}

/** Where the base model came from, in words. */
export function baseOrigin(i: BaseInfo): string {
  const kept = i.kept ? '; kept from an earlier visit' : '';
  if (i.openedFrom) {
    const what = i.format === 'huggingface' ? 'a Hugging Face GPT-2' : 'a Prefix Lab base folder';
    return `${i.summary?.name ?? i.openedFrom}, ${what} opened from ${i.openedFrom} (${i.summary?.tokenizer ?? `${i.vocabSize} tokens`}; fingerprint ${i.fingerprint}${kept})`;
  }
  if (i.importedFrom) return `imported from ${i.importedFrom} (fingerprint ${i.fingerprint}${kept})`;
  if (i.source === 'files') {
    return `pretrained on Moby Dick${i.steps ? ` for ${i.steps} steps` : ''}${i.finalLoss !== undefined ? ` to validation loss ${fmt(i.finalLoss)}` : ''}, loaded from models/base (fingerprint ${i.fingerprint})`;
  }
  return `pretrained here on ${i.corpus ?? 'Moby Dick'} (${i.steps} steps, loss ${fmt(i.finalLoss)}${i.fingerprint ? `, fingerprint ${i.fingerprint}` : ''}${i.cached || i.kept ? '; kept from an earlier visit' : ''})`;
}

function BaseStatusLine() {
  const base = useApp((s) => s.base);
  if (base.state === 'ready' && base.info) {
    const i = base.info;
    const c = i.modelConfig;
    return (
      <>
        <p className="base-line">
          Base model: {c.nLayer} {c.nLayer === 1 ? 'layer' : 'layers'}, {c.nHead} {c.nHead === 1 ? 'head' : 'heads'}, width {c.nEmbd}, context {c.contextLength}, {i.params.toLocaleString()} parameters, {baseOrigin(i)}.
          {i.chosen && (
            <>
              {' '}
              <button type="button" className="link-button" onClick={restoreDefaultBase}>
                Use the default base model
              </button>
            </>
          )}
        </p>
        {i.notKept &&
          (i.openedFrom ? (
            <p role="status" className="warn-line">
              Kept for this visit only: {i.notKept}. After a reload, open the folder again.
            </p>
          ) : (
            <p role="status" className="warn-line">
              This base model works now but will not be here after a reload: {i.notKept}. Export it to keep it.
            </p>
          ))}
      </>
    );
  }
  if (base.state === 'error') {
    return (
      <p role="alert" className="error-line">
        The base model could not be prepared: {base.message}
      </p>
    );
  }
  if (base.state === 'loading') {
    return (
      <div className="base-line">
        <label>
          Preparing the base model: {base.message}
          <progress aria-label="Base model" max={1} value={base.fraction} />
        </label>
      </div>
    );
  }
  return null;
}

export function RunPanel() {
  const run = useApp((s) => activeRun(s));
  const deviceLost = useApp((s) => s.deviceLost);
  const autoPaused = useApp((s) => s.autoPaused);
  const p = run ? progressOf(run) : null;
  const lastVal = run?.evals[run.evals.length - 1];
  const refusal = useApp((s) => s.runRefusal);
  // Before a run has measured its own steps, its time left is the FLOP estimate, said so.
  const estimate = useApp((s) => {
    const r = activeRun(s);
    if (!r || r.intervals > 0 || !(r.state === 'running' || r.state === 'compiling' || r.state === 'starting')) return null;
    const o = runOutlook({ ...s, config: r.config });
    return o ? o.eta.ms * (1 - (r.last?.step ?? 0) / Math.max(1, r.config.steps)) : null;
  });
  return (
    <section className="card run-panel" aria-labelledby="run-panel-title">
      <h2 id="run-panel-title">Run</h2>
      <BaseStatusLine />
      <RunButtons />
      {refusal && (
        <p role="alert" className="error-line" data-testid="run-refusal">
          Not started: {refusal}.
        </p>
      )}
      {run && p ? (
        <>
          <p className="run-name">
            <strong>{run.name}</strong> on {run.taskLabel} · <span data-testid="run-state">{STATE_TEXT[run.state] ?? run.state}</span>
            {autoPaused && ' (the tab was hidden; it resumes when you come back)'}
          </p>
          <div className="progress-row">
            <progress aria-label="Training progress" max={p.total} value={p.step} />
            <span data-testid="progress-text">
              step {p.step} / {p.total}
              {run.state === 'running' && p.etaMs !== null && ` · about ${formatDuration(p.etaMs)} left`}
              {p.etaMs === null && estimate !== null && ` · about ${formatDuration(estimate)} left (estimate)`}
            </span>
          </div>
          <dl className="stats">
            <div>
              <dt>train loss</dt>
              <dd>{fmt(run.last?.trainLoss)}</dd>
            </div>
            <div>
              <dt>val loss</dt>
              <dd>{fmt(lastVal?.val)}</dd>
            </div>
            {lastVal?.acc !== null && lastVal?.acc !== undefined && (
              <div>
                <dt>exact match</dt>
                <dd>{(lastVal.acc * 100).toFixed(1)}%</dd>
              </div>
            )}
            <div>
              <dt>tokens/s</dt>
              <dd>{run.last?.tokensPerSec ? Math.round(run.last.tokensPerSec).toLocaleString() : '—'}</dd>
            </div>
            <div>
              <dt>ms/step</dt>
              <dd>{fmt(run.last?.msPerStep, 1)}</dd>
            </div>
            <div>
              <dt>trainable params</dt>
              <dd>{run.trainableParams?.toLocaleString() ?? '—'}</dd>
            </div>
          </dl>
          {run.state === 'diverged' && (
            <p role="alert" className="error-line">
              Stopped: {run.message ?? 'the loss is no longer finite'}. The curve up to that point is kept.
            </p>
          )}
          {run.state === 'error' && (
            <p role="alert" className="error-line">
              The run stopped: {run.message}
            </p>
          )}
        </>
      ) : (
        <p className="help">Choose a task and a method, then press Train.</p>
      )}
      {deviceLost && run?.message !== deviceLost && (
        <p role="alert" className="error-line">
          {deviceLost}
        </p>
      )}
    </section>
  );
}
