// Export, import and what this browser keeps: download a finished run's adapter (the
// same zip the CLI writes), the base model or every result; load an adapter (evaluated on
// the current task) or a base model; list and clear the runs and zips kept between visits.
import { useEffect, useId, useMemo, useState } from 'react';
import { downloadSavedFile, exportableRuns, exportBaseModel, exportResults, exportRunAdapter } from './exchange/downloads';
import { importPicked } from './exchange/importing';
import { clearSaved, initExchange } from './exchange/persistence';
import { formatBytes, useExchange } from './exchange/state';
import { methodLabel } from './runs';
import { useApp } from './store';

function ExportPart() {
  const runs = useApp((s) => s.runs);
  const baseReady = useApp((s) => s.base.state === 'ready');
  const files = useExchange((s) => s.files);
  const choices = useMemo(() => exportableRuns(runs, files), [runs, files]);
  const [picked, setPicked] = useState<string | null>(null);
  const selectId = useId();
  // The newest finished run unless the user chose another that is still there.
  const runId = picked && choices.some((r) => r.id === picked) ? picked : (choices[choices.length - 1]?.id ?? null);
  const run = choices.find((r) => r.id === runId);
  return (
    <fieldset>
      <legend>Export</legend>
      <div className="field">
        <label htmlFor={selectId}>Run to export</label>
        <select id={selectId} value={runId ?? ''} disabled={!choices.length} onChange={(e) => setPicked(e.target.value)}>
          {!choices.length && <option value="">no finished run yet</option>}
          {choices.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name} ({methodLabel(r.config)}, {r.state})
            </option>
          ))}
        </select>
      </div>
      <div className="button-row">
        <button type="button" disabled={!run} onClick={() => run && exportRunAdapter(run.id)}>
          Export adapter
        </button>
        <button type="button" disabled={!baseReady} onClick={exportBaseModel}>
          Export base model
        </button>
        <button type="button" disabled={!runs.length} onClick={exportResults}>
          Export results
        </button>
      </div>
      <p className="help">
        {run?.config.method === 'full'
          ? 'Full fine-tuning changes the whole model: its export is a base-model folder (config.json, model.safetensors, vocab.json).'
          : 'An adapter downloads as a PEFT folder in one .zip (prefix and LoRA load with PEFT; NTK-Attention in our format), with result.json holding the settings and losses.'}
      </p>
    </fieldset>
  );
}

function ImportPart() {
  const inputId = useId();
  const read = async (list: FileList | null) => {
    if (!list?.length) return;
    const picked = await Promise.all([...list].map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
    await importPicked(picked);
  };
  return (
    <fieldset>
      <legend>Import</legend>
      <div className="field">
        <label htmlFor={inputId}>Import adapter or checkpoint</label>
        <input
          id={inputId}
          type="file"
          multiple
          accept=".zip,.safetensors,.json,application/zip"
          onChange={(e) => {
            void read(e.target.files);
            e.target.value = '';
          }}
        />
      </div>
      <p className="help">
        A .zip from Export (or a folder&apos;s adapter_config.json + adapter_model.safetensors, or config.json + model.safetensors + vocab.json). An adapter is checked against
        the base model it was trained on and scored on the current task; a base model replaces the current one after you confirm.
      </p>
    </fieldset>
  );
}

function SavedPart() {
  const persistent = useExchange((s) => s.persistent);
  const fallbackReason = useExchange((s) => s.fallbackReason);
  const savedRuns = useExchange((s) => s.savedRunIds.length);
  const files = useExchange((s) => s.files);
  const restored = useExchange((s) => s.restoredIds.length);
  if (persistent === null) return <p className="help">Reading what this browser kept…</p>;
  return (
    <fieldset>
      <legend>Kept in this browser</legend>
      {persistent ? (
        <p className="help" data-testid="saved-summary">
          {savedRuns} saved run{savedRuns === 1 ? '' : 's'}
          {restored ? ` (${restored} from earlier visits)` : ''}, {files.length} file{files.length === 1 ? '' : 's'}. Finished runs are saved as they end.
        </p>
      ) : (
        <p className="help" data-testid="saved-summary">
          Not saved: this browser does not let the page store data ({fallbackReason}). Runs last until you leave the page.
        </p>
      )}
      {files.length > 0 && (
        <ul aria-label="Saved files">
          {files.map((f) => (
            <li key={f.id} style={{ overflowWrap: 'anywhere' }}>
              {f.name} ({f.origin}, {formatBytes(f.size)}){' '}
              <button type="button" aria-label={`Download ${f.name}`} onClick={() => downloadSavedFile(f.id)}>
                Download
              </button>
            </li>
          ))}
        </ul>
      )}
      <button
        type="button"
        disabled={!savedRuns && !files.length}
        onClick={() => {
          if (window.confirm('Delete every saved run and file from this browser? Runs of earlier visits leave the list; this cannot be undone.')) void clearSaved();
        }}
      >
        Clear saved runs
      </button>
    </fieldset>
  );
}

export function ExchangePanel() {
  useEffect(() => {
    void initExchange();
  }, []);
  const busy = useExchange((s) => s.busy);
  const message = useExchange((s) => s.message);
  return (
    <section className="card" aria-labelledby="exchange-title">
      <h2 id="exchange-title">Export and import</h2>
      <ExportPart />
      <ImportPart />
      {busy && (
        <p role="status" className="help" data-testid="exchange-busy">
          {busy}
        </p>
      )}
      {message &&
        (message.kind === 'error' ? (
          <p role="alert" className="error-line" data-testid="exchange-message" style={{ overflowWrap: 'anywhere' }}>
            {message.text}
          </p>
        ) : (
          <p role="status" className="ok-line" data-testid="exchange-message" style={{ overflowWrap: 'anywhere' }}>
            {message.text}
          </p>
        ))}
      <SavedPart />
    </section>
  );
}
