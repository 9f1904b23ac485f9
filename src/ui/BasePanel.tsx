// The base model: its summary (sizes, tokenizer, GPU bytes of the weights and of a run with
// the current settings, against which budget), and "Open a Hugging Face GPT-2 folder": a
// folder picker, a files picker (or one .zip), or a drop onto the panel. Loading shows bytes
// and tensors, Cancel (or Escape) stops it, and a failure says why while the current base
// stays. Where the browser cannot keep the files for the next visit, the page says so.
import { useEffect, useId, useMemo, useState, type InputHTMLAttributes } from 'react';
import { cancelOpenBase, describeProgress, filesFromDrop, openBaseFiles, useBaseOpen } from './baseOpen';
import { formatBytes } from './sizing';
import { runOutlook, useApp } from './store';

function fmtCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}

function Summary() {
  const info = useApp((s) => s.base.info);
  const config = useApp((s) => s.config);
  const gpu = useApp((s) => s.gpu);
  const runs = useApp((s) => s.runs);
  const outlook = useMemo(() => runOutlook({ ...useApp.getState(), config, gpu, runs, base: { ...useApp.getState().base, info } }), [config, gpu, info, runs]);
  const sm = info?.summary;
  if (!info || !sm) return null;
  return (
    <div>
      <h3 style={{ fontSize: '1rem', margin: '0.5rem 0' }}>Model summary: {sm.name}</h3>
      <dl className="stats" aria-label="Model summary" data-testid="base-summary">
        <div>
          <dt>parameters</dt>
          <dd>{fmtCount(sm.parameters)}</dd>
        </div>
        <div>
          <dt>layers</dt>
          <dd data-testid="summary-layers">{sm.layers}</dd>
        </div>
        <div>
          <dt>heads</dt>
          <dd>
            {sm.heads} (d {sm.headDim})
          </dd>
        </div>
        <div>
          <dt>width</dt>
          <dd>{sm.width}</dd>
        </div>
        <div>
          <dt>context</dt>
          <dd>{sm.context}</dd>
        </div>
        <div>
          <dt>vocabulary</dt>
          <dd data-testid="summary-vocabulary">{sm.vocabulary}</dd>
        </div>
        <div>
          <dt>weights on the GPU</dt>
          <dd>{formatBytes(sm.weightBytes)}</dd>
        </div>
        {outlook && (
          <div>
            <dt>this run on the GPU</dt>
            <dd data-testid="summary-run-bytes">{formatBytes(outlook.fit.estimate.total)}</dd>
          </div>
        )}
      </dl>
      <p className="help">
        Tokenizer: {sm.tokenizer}.
        {outlook && (
          <>
            {' '}
            A run with the current settings (batch {config.batch}, sequence {Math.min(config.seqLen, sm.context)}, {config.method}) needs about{' '}
            {formatBytes(outlook.fit.estimate.total)}: parameters {formatBytes(outlook.fit.estimate.params)}, optimizer {formatBytes(outlook.fit.estimate.optimizer)}, activations{' '}
            {formatBytes(outlook.fit.estimate.activations)}, scratch {formatBytes(outlook.fit.estimate.scratch)}. Budget {formatBytes(outlook.budget.bytes)}: {outlook.budget.source}.
          </>
        )}
      </p>
      {outlook?.fit.problem && (
        <p role="alert" className="error-line">
          Will not fit: {outlook.fit.problem}.
        </p>
      )}
    </div>
  );
}

// React does not know webkitdirectory; passed through as a plain attribute.
const FOLDER_PICKER = { webkitdirectory: '', directory: '' } as unknown as InputHTMLAttributes<HTMLInputElement>;

function OpenFolder() {
  const folderId = useId();
  const filesId = useId();
  const helpId = useId();
  const o = useBaseOpen();
  const gpuOk = useApp((s) => s.gpu.state === 'ok');
  const [dragging, setDragging] = useState(false);
  const loading = o.state === 'loading';
  const keeping = o.progress?.phase === 'keeping';

  // Escape cancels a load wherever the focus is (the progress has no focusable part).
  useEffect(() => {
    if (!loading) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') cancelOpenBase();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [loading]);

  const pick = (list: FileList | null) => {
    if (list?.length) openBaseFiles([...list]);
  };
  const p = o.progress;
  return (
    <fieldset
      className={`drop${dragging ? ' dragging' : ''}`}
      aria-describedby={helpId}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        void filesFromDrop(e.dataTransfer).then(({ files, folderName }) => files.length && openBaseFiles(files, folderName));
      }}
    >
      <legend>Open a Hugging Face GPT-2 folder</legend>
      <div className="grid2">
        <div className="field">
          <label htmlFor={folderId}>GPT-2 folder</label>
          <input id={folderId} type="file" {...FOLDER_PICKER} disabled={!gpuOk || loading} onChange={(e) => (pick(e.target.files), (e.target.value = ''))} />
        </div>
        <div className="field">
          <label htmlFor={filesId}>GPT-2 files or one .zip</label>
          <input
            id={filesId}
            type="file"
            multiple
            accept=".json,.safetensors,.txt,.zip,application/zip"
            disabled={!gpuOk || loading}
            onChange={(e) => (pick(e.target.files), (e.target.value = ''))}
          />
        </div>
      </div>
      <p id={helpId} className="help">
        config.json, model.safetensors, and tokenizer.json or vocab.json + merges.txt, as the model&apos;s Files tab on Hugging Face has them (gpt2, distilgpt2, gpt2-medium…);
        or drop the folder here. The weights are read from your disk tensor by tensor and never uploaded anywhere.
      </p>
      {loading && (
        <div className="progress-row">
          <progress
            aria-label="Opening the base model"
            max={Math.max(1, p?.bytesTotal ?? 1)}
            value={p?.bytesDone ?? 0}
            aria-valuenow={p?.bytesDone ?? 0}
            aria-valuemin={0}
            aria-valuemax={Math.max(1, p?.bytesTotal ?? 1)}
            aria-valuetext={describeProgress(p)}
          />
          <span role="status" data-testid="open-base-progress">
            Opening {o.label}: {describeProgress(p)}
          </span>
          {!keeping && (
            <button type="button" onClick={cancelOpenBase} aria-keyshortcuts="Escape">
              Cancel loading
            </button>
          )}
        </div>
      )}
      {o.state === 'failed' && (
        <p role="alert" className="error-line" data-testid="open-base-error" style={{ overflowWrap: 'anywhere' }}>
          Could not open {o.label}: {o.message}
          {/[.!?]$/.test(o.message ?? '') ? '' : '.'} The current base model is unchanged.
        </p>
      )}
      {o.state === 'cancelled' && (
        <p role="status" data-testid="open-base-error">
          Opening {o.label} was cancelled: the current base model is unchanged.
        </p>
      )}
    </fieldset>
  );
}

export function BasePanel() {
  return (
    <section className="card" aria-labelledby="base-panel-title">
      <h2 id="base-panel-title">Base model</h2>
      <Summary />
      <OpenFolder />
    </section>
  );
}
