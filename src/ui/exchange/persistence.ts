// What this browser keeps between visits: finished runs and exported / imported run zips in
// IndexedDB (persist/db.ts). Reads them back once, then saves every run that finishes; the
// runs list itself is the app store's, reached through the app port.
import { app } from '../appPort';
import { openSavedStore, type SavedFile, type SavedStore } from '../persist/db';
import type { RunRecord } from '../runs';
import { restoreRuns, shouldSave, toSavedRun } from './records';
import { errorText, setExchange, useExchange, type SavedFileInfo } from './state';

/** Zips larger than this are not kept (the browser's quota is shared with the base cache). */
const KEEP_FILE_BYTES = 32 * 2 ** 20;

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

/** The bytes of a kept zip, if this visit has them. */
export function keptBytes(id: string): Uint8Array | undefined {
  return fileBytes.get(id);
}

/** Opens the saved store once, shows what an earlier visit kept, and from then on saves every
 *  run that finishes. Safe to call more than once (React runs effects twice in development). */
export function initExchange(): Promise<SavedStore> {
  if (opening) return opening;
  opening = (async () => {
    const { store: s, fallbackReason } = await openSavedStore();
    store = s;
    if (fallbackReason) {
      app().notify('warning', `Runs cannot be saved in this browser (${fallbackReason}; private browsing does this): they are kept only until you leave or reload the page.`);
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
      app().notify('warning', `Saved runs could not be read: ${errorText(e)}`);
    }
    for (const f of files) fileBytes.set(f.id, f.bytes);
    const have = new Set(app().runs().map((r) => r.id));
    const fresh = restored.filter((r) => !have.has(r.id));
    for (const r of fresh) written.set(r.id, r);
    if (fresh.length) app().addRuns(fresh, 'first');
    setExchange({
      persistent: s.persistent,
      fallbackReason,
      restoredIds: fresh.map((r) => r.id),
      savedRunIds: restored.map((r) => r.id),
      files: files.map(describeFile),
    });
    app().onRunsChange(saveFinished);
    saveFinished(app().runs());
    s.onSavedElsewhere((name, id) => void (name === 'runs' && showSavedElsewhere(s, id)));
    return s;
  })();
  return opening;
}

/** A run another tab just saved: on this tab's list too, before this visit's runs. */
async function showSavedElsewhere(s: SavedStore, id: string) {
  const raw = await s.get('runs', id).catch(() => undefined);
  const [run] = restoreRuns(raw === undefined ? [] : [raw]);
  if (!run || app().runs().some((r) => r.id === id)) return;
  written.set(id, run);
  firstSaved.set(id, (raw as { savedAt: number }).savedAt);
  app().addRuns([run], 'first');
  setExchange((x) => (x.savedRunIds.includes(id) ? {} : { savedRunIds: [...x.savedRunIds, id] }));
}

function saveFinished(runs: readonly RunRecord[]) {
  if (!store) return;
  const s = store;
  for (const r of runs) {
    if (!shouldSave(r) || written.get(r.id) === r) continue;
    written.set(r.id, r);
    if (!firstSaved.has(r.id)) firstSaved.set(r.id, Date.now());
    s.put('runs', r.id, toSavedRun(r, firstSaved.get(r.id)!)).then(
      () => setExchange((x) => (x.savedRunIds.includes(r.id) ? {} : { savedRunIds: [...x.savedRunIds, r.id] })),
      (e: unknown) => setExchange({ message: { kind: 'error', text: `Could not save run ${r.name}: ${errorText(e)}` } }),
    );
  }
}

/** Keeps a zip for the next visit (small ones only). */
export async function keepFile(f: SavedFile) {
  if (f.bytes.byteLength > KEEP_FILE_BYTES) return;
  const s = await initExchange();
  try {
    await s.put('files', f.id, f);
    fileBytes.set(f.id, f.bytes);
    setExchange((x) => ({ files: [...x.files.filter((g) => g.id !== f.id), describeFile(f)] }));
  } catch (e) {
    setExchange({ message: { kind: 'error', text: `Could not keep ${f.name} in this browser: ${errorText(e)}` } });
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
    setExchange({ message: { kind: 'error', text: `Could not clear the saved runs: ${errorText(e)}` } });
    return;
  }
  fileBytes.clear();
  firstSaved.clear();
  // Still-shown runs must not be written again just because they are on screen.
  for (const r of app().runs()) written.set(r.id, r);
  app().removeRuns(new Set(restoredIds));
  setExchange({
    restoredIds: [],
    savedRunIds: [],
    files: [],
    message: { kind: 'ok', text: `Cleared ${savedRunIds.length} saved run${savedRunIds.length === 1 ? '' : 's'} and ${files.length} file${files.length === 1 ? '' : 's'} from this browser.` },
  });
}
