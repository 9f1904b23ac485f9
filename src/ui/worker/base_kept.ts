// The base the user chose (imported, opened from a folder, or pretrained with the panel),
// kept so that a reload brings it back: a base opened from picked files as those files
// (OPFS, persist/opfs.ts), any other as its tensors under one key of the IndexedDB store.
// Only one is kept; "Use the default base model" forgets it.
import { forgetKeptFiles, keepFiles, readKeptFiles } from '../persist/opfs';
import { openPickedBase } from './base_picked';
import { baseFromStored, readStored, writeStored } from './base_store';
import { type BaseLoadOptions, describeBase, describeLoad, type WorkerBase } from './worker_base';

const KEPT_KEY = 'chosen-base';

/** Keeps `b` as the base to restore on the next visit; resolves to null, or why it could not.
 *  Choosing one kind forgets the other. */
export async function keepChosenBase(b: WorkerBase, onProgress?: (done: number, total: number) => void): Promise<string | null> {
  if (b.picked) {
    await writeStored(KEPT_KEY, null);
    return keepFiles(b.fingerprint, b.picked.label, b.picked.files, onProgress);
  }
  await forgetKeptFiles();
  if (!b.vocab) return 'only a character-level base can be kept as tensors';
  return writeStored(KEPT_KEY, { config: b.config, chars: [...b.vocab.chars], params: [...b.params], info: b.info });
}

/** Forgets the kept base: the next load takes the shipped (or default pretrained) one. */
export async function forgetChosenBase(): Promise<void> {
  await forgetKeptFiles();
  await writeStored(KEPT_KEY, null);
}

/** The base opened from picked files on an earlier visit, opened again from its OPFS copy;
 *  null when none is kept. A copy that no longer opens is forgotten (it must not block the
 *  default base), and the page is told why. */
export async function loadKeptFiles(opts: BaseLoadOptions): Promise<WorkerBase | null> {
  const kept = await readKeptFiles();
  if (!kept) return null;
  const label = kept.manifest.label;
  try {
    const b = await openPickedBase(kept.files, label, {
      onProgress: (p) => opts.onProgress?.(`opening ${label}, kept in this browser: ${describeLoad(p)}`, p.bytesTotal ? p.bytesDone / p.bytesTotal : 0),
    });
    b.info = { ...b.info, chosen: true, kept: true };
    return b;
  } catch (e) {
    await forgetKeptFiles();
    opts.onProgress?.(`the copy of ${label} kept in this browser no longer opens (${e instanceof Error ? e.message : String(e)}); using the default base model`, 0);
    return null;
  }
}

/** The base kept as tensors, or null when there is none or it does not fit its own config
 *  (then it is forgotten: a half-written or older record must not block the default base). */
export async function loadKeptTensors(): Promise<WorkerBase | null> {
  const t0 = performance.now();
  const hit = await readStored(KEPT_KEY);
  if (!hit) return null;
  const kept = await baseFromStored(hit);
  if (!kept) {
    await forgetChosenBase();
    return null;
  }
  // Described again: a record from an older version has no summary.
  const name = hit.info.summary?.name ?? hit.info.importedFrom ?? 'the chosen base';
  return describeBase({ ...kept, tokenizer: kept.vocab, info: { ...hit.info, chosen: true, kept: true, ms: performance.now() - t0 } }, name);
}
