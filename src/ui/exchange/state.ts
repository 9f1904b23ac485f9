// The page's export / import / persistence actions and their state (a small zustand store
// beside the app's). Talks to the engine worker through engineLink.ts (replies come back
// through route.ts → handleExchangeMessage), and keeps finished runs and exported /
// imported run zips in IndexedDB (persist/db.ts). It reads and extends the app store's runs
// list; the app store does not import this one (route.ts composes them).
import { create } from 'zustand';
import { importBase, zipFiles } from '../../io/checkpoint';
import { openSavedStore, type SavedFile, type SavedStore } from '../persist/db';
import { isActive, type RunRecord } from '../runs';
import { sendToEngine } from '../engineLink';
import { addNotice, useApp } from '../store';
import { FILE_TASK_PREFIX, fileTaskName } from '../settings';
import type { ExchangeFromWorker, ExchangeToWorker } from './messages';
import {
  baseBundleName,
  classifyCheckpoint,
  importErrorText,
  keepableZip,
  type PickedFile,
  readPicked,
  resultsDocument,
  runBundle,
  runBundleName,
} from './bundle';
import { BASE_CHANGE_PREFIX, baseChangeRecord, importedRunRecord, restoreRuns, shouldSave, toSavedRun } from './records';

export interface ExchangeMessage {
  kind: 'ok' | 'error';
  text: string;
}

export interface SavedFileInfo {
  id: string;
  runId: string | null;
  name: string;
  kind: SavedFile['kind'];
  origin: SavedFile['origin'];
  size: number;
  savedAt: number;
}

export interface ExchangeState {
  /** null until the saved runs were read; then whether they outlive the page. */
  persistent: boolean | null;
  fallbackReason: string | null;
  /** Ids of runs read back from an earlier visit. */
  restoredIds: string[];
  /** Ids of runs kept in the saved store (this visit's and earlier ones). */
  savedRunIds: string[];
  files: SavedFileInfo[];
  /** What is in progress ("Importing x.zip…"), or null. */
  busy: string | null;
  message: ExchangeMessage | null;
  /** Fingerprint of the base model now in the worker, once known. */
  baseFingerprint: string | null;
}

export const useExchange = create<ExchangeState>()(() => ({
  persistent: null,
  fallbackReason: null,
  restoredIds: [],
  savedRunIds: [],
  files: [],
  busy: null,
  message: null,
  baseFingerprint: null,
}));

const setX = (p: Partial<ExchangeState> | ((s: ExchangeState) => Partial<ExchangeState>)) => useExchange.setState(p);

/** Zips larger than this are not kept (the browser's quota is shared with the base cache). */
const KEEP_FILE_BYTES = 32 * 2 ** 20;

// ------------------------------------------------------------------ requests to the worker

type Reply<T extends ExchangeFromWorker['type']> = Extract<ExchangeFromWorker, { type: T }>;
let nextRequest = 0;
const pending = new Map<number, { resolve: (m: ExchangeFromWorker) => void; reject: (e: Error) => void }>();

function request(make: (requestId: number) => ExchangeToWorker): Promise<ExchangeFromWorker> {
  const requestId = ++nextRequest;
  return new Promise((resolve, reject) => {
    pending.set(requestId, { resolve, reject });
    if (!sendToEngine(make(requestId))) {
      pending.delete(requestId);
      reject(new Error('the training engine is not running (this browser has no WebGPU)'));
    }
  });
}

/** A reply from the worker (routed here by store.ts). */
export function handleExchangeMessage(m: ExchangeFromWorker) {
  const p = pending.get(m.requestId);
  if (!p) return;
  pending.delete(m.requestId);
  if (m.type === 'exchange-failed') p.reject(new Error(m.message));
  else p.resolve(m);
}

/** The worker replaced its base (route.ts: a pretraining finished): adapters name this one. */
export function setBaseFingerprint(fingerprint: string) {
  setX({ baseFingerprint: fingerprint });
}

// ----------------------------------------------------------------------------- persistence

let store: SavedStore | null = null;
let opening: Promise<SavedStore> | null = null;
/** The record object last written per run id, and when each run was first saved (kept, so
 *  that the saved order is the order the runs finished). */
const written = new Map<string, RunRecord>();
const firstSaved = new Map<string, number>();
const fileBytes = new Map<string, Uint8Array>();

function describeFile(f: SavedFile): SavedFileInfo {
  return { id: f.id, runId: f.runId, name: f.name, kind: f.kind, origin: f.origin, size: f.bytes.byteLength, savedAt: f.savedAt };
}

/** Opens the saved store once, shows what an earlier visit kept, and from then on saves every
 *  run that finishes. Safe to call more than once (React runs effects twice in development). */
export function initExchange(): Promise<SavedStore> {
  if (opening) return opening;
  opening = (async () => {
    const { store: s, fallbackReason } = await openSavedStore();
    store = s;
    if (fallbackReason) {
      addNotice('warning', `Runs cannot be saved in this browser (${fallbackReason}; private browsing does this): they are kept only until you leave or reload the page.`);
    }
    let restored: RunRecord[] = [];
    let files: SavedFile[] = [];
    try {
      const rawRuns = await s.getAll('runs');
      restored = restoreRuns(rawRuns);
      for (const r of rawRuns as { id?: unknown; savedAt?: unknown }[]) {
        if (typeof r?.id === 'string' && typeof r.savedAt === 'number') firstSaved.set(r.id, r.savedAt);
      }
      files = (await s.getAll('files')) as SavedFile[];
      files = files.filter((f) => typeof f?.id === 'string' && f.bytes instanceof Uint8Array).sort((a, b) => a.savedAt - b.savedAt);
    } catch (e) {
      addNotice('warning', `Saved runs could not be read: ${(e as Error).message}`);
    }
    for (const f of files) fileBytes.set(f.id, f.bytes);
    const have = new Set(useApp.getState().runs.map((r) => r.id));
    const fresh = restored.filter((r) => !have.has(r.id));
    for (const r of fresh) written.set(r.id, r);
    if (fresh.length) useApp.setState((st) => ({ runs: [...fresh, ...st.runs] }));
    setX({
      persistent: s.persistent,
      fallbackReason,
      restoredIds: fresh.map((r) => r.id),
      savedRunIds: restored.map((r) => r.id),
      files: files.map(describeFile),
    });
    useApp.subscribe((st) => saveFinished(st.runs));
    saveFinished(useApp.getState().runs);
    return s;
  })();
  return opening;
}

function saveFinished(runs: RunRecord[]) {
  if (!store) return;
  const s = store;
  for (const r of runs) {
    if (!shouldSave(r) || written.get(r.id) === r) continue;
    written.set(r.id, r);
    if (!firstSaved.has(r.id)) firstSaved.set(r.id, Date.now());
    s.put('runs', r.id, toSavedRun(r, firstSaved.get(r.id)!)).then(
      () => setX((x) => (x.savedRunIds.includes(r.id) ? {} : { savedRunIds: [...x.savedRunIds, r.id] })),
      (e: unknown) => setX({ message: { kind: 'error', text: `Could not save run ${r.name}: ${(e as Error).message}` } }),
    );
  }
}

async function keepFile(f: SavedFile) {
  if (f.bytes.byteLength > KEEP_FILE_BYTES) return;
  const s = await initExchange();
  try {
    await s.put('files', f.id, f);
    fileBytes.set(f.id, f.bytes);
    setX((x) => ({ files: [...x.files.filter((g) => g.id !== f.id), describeFile(f)] }));
  } catch (e) {
    setX({ message: { kind: 'error', text: `Could not keep ${f.name} in this browser: ${(e as Error).message}` } });
  }
}

/** Empties the saved store (after the user confirmed); runs read back from earlier visits
 *  leave the list, this visit's stay on screen until the page is left. */
export async function clearSaved(): Promise<void> {
  const s = await initExchange();
  const { restoredIds, savedRunIds, files } = useExchange.getState();
  try {
    await s.clear();
  } catch (e) {
    setX({ message: { kind: 'error', text: `Could not clear the saved runs: ${(e as Error).message}` } });
    return;
  }
  fileBytes.clear();
  firstSaved.clear();
  // Still-shown runs must not be written again just because they are on screen.
  for (const r of useApp.getState().runs) written.set(r.id, r);
  const gone = new Set(restoredIds);
  useApp.setState((st) => ({ runs: st.runs.filter((r) => !gone.has(r.id) || isActive(r)) }));
  setX({
    restoredIds: [],
    savedRunIds: [],
    files: [],
    message: { kind: 'ok', text: `Cleared ${savedRunIds.length} saved run${savedRunIds.length === 1 ? '' : 's'} and ${files.length} file${files.length === 1 ? '' : 's'} from this browser.` },
  });
}

// ------------------------------------------------------------------------------ downloads

function download(name: string, data: Uint8Array | string, type: string) {
  const blob = new Blob([data as BlobPart], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

async function withBusy<T>(label: string, f: () => Promise<T>): Promise<T | undefined> {
  setX({ busy: label, message: null });
  try {
    return await f();
  } catch (e) {
    setX({ message: { kind: 'error', text: e instanceof Error ? e.message : String(e) } });
    return undefined;
  } finally {
    setX((x) => (x.busy === label ? { busy: null } : {}));
  }
}

/** Runs whose trained tensors can be downloaded: finished in this visit, or with a kept zip. */
export function exportableRuns(runs: RunRecord[], files: SavedFileInfo[]): RunRecord[] {
  const withFile = new Set(files.map((f) => f.runId));
  return runs.filter((r) => (r.state === 'done' || r.state === 'stopped' || withFile.has(r.id)) && !r.id.startsWith(BASE_CHANGE_PREFIX));
}

/** "Export adapter": the run's adapter (or, after full fine-tuning, its model) as one zip. */
export function exportRunAdapter(runId: string) {
  const run = useApp.getState().runs.find((r) => r.id === runId);
  if (!run) return;
  void withBusy(`Exporting ${run.name}…`, async () => {
    let zip: Uint8Array;
    let name = runBundleName(run);
    try {
      const m = (await request((requestId) => ({ type: 'export-adapter', requestId, runId }))) as Reply<'exported'>;
      zip = runBundle(m.files, run, m.fingerprint);
    } catch (e) {
      // A run from an earlier visit: its kept zip is the same download.
      const kept = [...useExchange.getState().files].reverse().find((f) => f.runId === runId);
      if (!kept || !fileBytes.has(kept.id)) throw new Error(`Could not export ${run.name}: ${(e as Error).message}`);
      zip = fileBytes.get(kept.id)!;
      name = kept.name;
    }
    download(name, zip, 'application/zip');
    setX({ message: { kind: 'ok', text: `Downloaded ${name} (${formatBytes(zip.byteLength)}).` } });
    if (!useExchange.getState().files.some((f) => f.runId === runId && f.name === name)) {
      await keepFile({ id: `file-${Date.now().toString(36)}-${++nextRequest}`, runId, name, kind: run.config.method === 'full' ? 'base' : 'adapter', origin: 'exported', bytes: zip, savedAt: Date.now() });
    }
  });
}

/** "Export base model": config.json, model.safetensors and vocab.json of the base now loaded. */
export function exportBaseModel() {
  void withBusy('Exporting the base model…', async () => {
    const m = (await request((requestId) => ({ type: 'export-base', requestId }))) as Reply<'exported'>;
    const zip = zipFiles(m.files);
    const name = baseBundleName(m.fingerprint);
    setX({ baseFingerprint: m.fingerprint });
    download(name, zip, 'application/zip');
    setX({ message: { kind: 'ok', text: `Downloaded ${name} (${formatBytes(zip.byteLength)}).` } });
  });
}

/** "Export results": every run on the list (settings, curves, summaries) as JSON. */
export function exportResults() {
  const s = useApp.getState();
  const info = s.base.info;
  const base = info ? { config: info.modelConfig, fingerprint: info.fingerprint ?? useExchange.getState().baseFingerprint, source: info.importedFrom ? `imported from ${info.importedFrom}` : info.source } : null;
  const now = new Date();
  const name = `prefix-lab-results-${now.toISOString().slice(0, 19).replace(/[:T]/g, '-')}.json`;
  download(name, resultsDocument(s.runs, base, now), 'application/json');
  setX({ message: { kind: 'ok', text: `Downloaded ${name} (${s.runs.length} run${s.runs.length === 1 ? '' : 's'}).` } });
}

/** A kept zip, downloaded again. */
export function downloadSavedFile(id: string) {
  const f = useExchange.getState().files.find((x) => x.id === id);
  const bytes = fileBytes.get(id);
  if (f && bytes) download(f.name, bytes, 'application/zip');
}

export function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 2 ** 20 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 2 ** 20).toFixed(1)} MB`;
}

// ------------------------------------------------------------------------------ importing

let importCounter = 0;

/**
 * "Import adapter or checkpoint". An adapter is evaluated on the current task and becomes
 * a run on the list; a base model replaces the worker's after the user agrees (`confirm`).
 * Anything refused leaves everything as it was and says why.
 */
export async function importPicked(picked: PickedFile[], confirm: (question: string) => boolean = (q) => window.confirm(q)): Promise<void> {
  const label = picked.length === 1 ? picked[0].name : picked.map((p) => p.name).join(' + ');
  setX({ message: null });
  let files;
  let kind: 'adapter' | 'base';
  try {
    files = readPicked(picked);
    kind = classifyCheckpoint(files);
  } catch (e) {
    setX({ message: { kind: 'error', text: importErrorText(label, e) } });
    return;
  }
  const app = useApp.getState();
  if (kind === 'adapter') {
    const runId = `imported-${++importCounter}-${Date.now().toString(36)}`;
    const config = { ...app.config };
    const userText = config.task.startsWith(FILE_TASK_PREFIX) && app.userFile && fileTaskName(app.userFile.name) === config.task ? { name: app.userFile.name, text: app.userFile.text } : undefined;
    const running = app.runs.some(isActive);
    await withBusy(`Importing ${label}: ${running ? 'waits for the current run to finish, then ' : ''}evaluating on ${config.task}…`, async () => {
      let m: Reply<'imported-adapter'>;
      try {
        m = (await request((requestId) => ({ type: 'import-adapter', requestId, runId, fileName: label, files, config, userText }))) as Reply<'imported-adapter'>;
      } catch (e) {
        throw new Error(importErrorText(label, e));
      }
      const run = importedRunRecord(runId, config, m);
      useApp.setState((st) => ({ runs: [...st.runs, run] }));
      setX({ baseFingerprint: m.fingerprint, message: { kind: 'ok', text: `Imported ${label} as "${run.name}": validation loss ${m.valLoss.toFixed(3)} on ${m.taskLabel}.` } });
      await keepFile({ id: `file-${Date.now().toString(36)}-${importCounter}`, runId, name: /\.zip$/i.test(label) ? label : `${runBundleName(run)}`, kind: 'adapter', origin: 'imported', bytes: keepableZip(picked, files), savedAt: Date.now() });
    });
    return;
  }
  // A base model: check it here first, so the question shows what it is and a bad file is
  // refused before anyone is asked.
  let fp: string;
  let desc: string;
  try {
    const b = await importBase(files);
    fp = b.fingerprint;
    const c = b.config;
    desc = `${c.nLayer} layers, ${c.nHead} heads, width ${c.nEmbd}, context ${c.contextLength}, ${c.vocabSize} characters; fingerprint ${fp}`;
  } catch (e) {
    setX({ message: { kind: 'error', text: importErrorText(label, e) } });
    return;
  }
  if (!confirm(`Replace the base model with ${label} (${desc})? Runs so far stay on the list; adapters trained on the current base model will not load onto the new one.`)) {
    setX({ message: { kind: 'ok', text: `Kept the current base model (${label} not loaded).` } });
    return;
  }
  await withBusy(`Loading the base model ${label}…`, async () => {
    let m: Reply<'imported-base'>;
    try {
      m = (await request((requestId) => ({ type: 'import-base', requestId, fileName: label, files }))) as Reply<'imported-base'>;
    } catch (e) {
      throw new Error(importErrorText(label, e));
    }
    const note = baseChangeRecord(`${BASE_CHANGE_PREFIX}${++importCounter}-${Date.now().toString(36)}`, { ...useApp.getState().config }, label, m.previousFingerprint, m.fingerprint);
    useApp.setState((st) => ({ runs: [...st.runs, note] }));
    setX({ baseFingerprint: m.fingerprint, message: { kind: 'ok', text: `The base model is now ${label} (fingerprint ${fp}).` } });
  });
}
