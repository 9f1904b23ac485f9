// Exports as downloads: a run's adapter (or fully fine-tuned model) zip, the base model's
// folder zipped, every result as JSON, and zips kept from earlier visits again.
import { zipFiles } from '../../io/checkpoint';
import { download as saveFile } from '../charts/export';
import { app } from '../appPort';
import { engine } from '../engineLink';
import type { RunRecord } from '../runs';
import { baseBundleName, resultsDocument, runBundle, runBundleName } from './bundle';
import { keepFile, keptBytes } from './persistence';
import { BASE_CHANGE_PREFIX } from './records';
import { formatBytes, setExchange, useExchange, withBusy, type SavedFileInfo } from './state';

let fileCounter = 0;

/** The page's one way to save a file (charts/export.ts): Uint8Array data as a Blob of `type`. */
function download(name: string, data: Uint8Array | string, type: string) {
  saveFile(typeof data === 'string' ? data : new Blob([data as BlobPart], { type }), name, type);
}

/** Runs whose trained tensors can be downloaded: finished in this visit, or with a kept zip. */
export function exportableRuns(runs: readonly RunRecord[], files: SavedFileInfo[]): RunRecord[] {
  const withFile = new Set(files.map((f) => f.runId));
  return runs.filter((r) => (r.state === 'done' || r.state === 'stopped' || withFile.has(r.id)) && !r.id.startsWith(BASE_CHANGE_PREFIX));
}

/** "Export adapter": the run's adapter (or, after full fine-tuning, its model) as one zip. */
export function exportRunAdapter(runId: string) {
  const run = app().runs().find((r) => r.id === runId);
  if (!run) return;
  void withBusy(`Exporting ${run.name}…`, async () => {
    let zip: Uint8Array;
    let name = runBundleName(run);
    const r = await engine().request({ type: 'export-adapter', runId }).result;
    if (r.ok) {
      zip = runBundle(r.value.files, run, r.value.fingerprint);
    } else {
      // A run from an earlier visit: its kept zip is the same download.
      const kept = [...useExchange.getState().files].reverse().find((f) => f.runId === runId);
      const bytes = kept && keptBytes(kept.id);
      if (!kept || !bytes) throw new Error(`Could not export ${run.name}: ${r.error.message}`);
      zip = bytes;
      name = kept.name;
    }
    download(name, zip, 'application/zip');
    setExchange({ message: { kind: 'ok', text: `Downloaded ${name} (${formatBytes(zip.byteLength)}).` } });
    if (!useExchange.getState().files.some((f) => f.runId === runId && f.name === name)) {
      await keepFile({ id: `file-${Date.now().toString(36)}-e${++fileCounter}`, runId, name, kind: run.config.method === 'full' ? 'base' : 'adapter', origin: 'exported', bytes: zip, savedAt: Date.now() });
    }
  });
}

/** "Export base model": config.json, model.safetensors and vocab.json of the base now loaded. */
export function exportBaseModel() {
  void withBusy('Exporting the base model…', async () => {
    const r = await engine().request({ type: 'export-base' }).result;
    if (!r.ok) throw new Error(r.error.message);
    const zip = zipFiles(r.value.files);
    const name = baseBundleName(r.value.fingerprint);
    download(name, zip, 'application/zip');
    setExchange({ message: { kind: 'ok', text: `Downloaded ${name} (${formatBytes(zip.byteLength)}).` } });
  });
}

/** "Export results": every run on the list (settings, curves, summaries) as JSON. */
export function exportResults() {
  const runs = app().runs();
  const info = app().baseInfo();
  const base = info ? { config: info.modelConfig, fingerprint: info.fingerprint ?? null, source: info.importedFrom ? `imported from ${info.importedFrom}` : info.source } : null;
  const now = new Date();
  const name = `prefix-lab-results-${now.toISOString().slice(0, 19).replace(/[:T]/g, '-')}.json`;
  download(name, resultsDocument([...runs], base, now), 'application/json');
  setExchange({ message: { kind: 'ok', text: `Downloaded ${name} (${runs.length} run${runs.length === 1 ? '' : 's'}).` } });
}

/** A kept zip, downloaded again. */
export function downloadSavedFile(id: string) {
  const f = useExchange.getState().files.find((x) => x.id === id);
  const bytes = keptBytes(id);
  if (f && bytes) download(f.name, bytes, 'application/zip');
}
