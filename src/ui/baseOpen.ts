// "Open a Hugging Face GPT-2 folder": the page's side. Collects the picked or dropped files
// (a folder's, several, or one .zip), sends them to the engine worker as File objects (the
// worker reads them through File.slice, nothing is read here), follows the progress and
// Cancel, and keeps the outcome for the panel: one request to the engine client. The runs
// list's "base model replaced" note goes through the app port.
import { create } from 'zustand';
import { app } from './appPort';
import { engine } from './engineLink';
import type { Pending } from './worker/client';
import type { OpenBaseProgress } from './worker/protocol';

export interface BaseOpenState {
  state: 'idle' | 'loading' | 'done' | 'failed' | 'cancelled';
  requestId: string | null;
  /** What was picked ("gpt2", "gpt2.zip", "config.json + 3 more"). */
  label: string | null;
  progress: OpenBaseProgress | null;
  /** The error (failed), or what happened (cancelled, done). */
  message: string | null;
}

export const useBaseOpen = create<BaseOpenState>()(() => ({ state: 'idle', requestId: null, label: null, progress: null, message: null }));

let pending: Pending<'open-base'> | null = null;

/** What the user picked, in words. */
export function pickedLabel(files: { name: string }[], folderName: string | null): string {
  if (folderName) return folderName;
  if (files.length === 1) return files[0].name;
  return `${files[0]?.name ?? 'no file'} + ${files.length - 1} more`;
}

/** The folder a file list came from (webkitdirectory and dropped folders give relative paths). */
export function folderNameOf(files: File[]): string | null {
  const rel = (files[0] as File & { webkitRelativePath?: string } | undefined)?.webkitRelativePath;
  const top = rel && rel.includes('/') ? rel.split('/')[0] : null;
  return top || null;
}

/** Sends the files to the worker; false when there are none. */
export function openBaseFiles(files: File[], folderName: string | null = folderNameOf(files)): boolean {
  if (!files.length) return false;
  const label = pickedLabel(files, folderName);
  // A load still going is replaced by the worker; its late outcome is ignored (pending).
  const p = engine().request({ type: 'open-base', files, folderName: folderName ?? (files.length === 1 ? files[0].name : null) }, (m) => {
    if (pending === p && useBaseOpen.getState().state === 'loading') useBaseOpen.setState({ progress: m.progress });
  });
  pending = p;
  useBaseOpen.setState({ state: 'loading', requestId: p.id, label, progress: null, message: null });
  void p.result.then((r) => {
    if (pending !== p) return;
    pending = null;
    if (r.ok) {
      app().noteBaseChange(r.value.info.summary?.name ?? r.value.info.openedFrom ?? 'the opened folder', r.value.previousFingerprint, r.value.fingerprint);
      useBaseOpen.setState({ state: 'done', progress: null, message: null });
    } else {
      useBaseOpen.setState({ state: r.error.kind === 'cancelled' ? 'cancelled' : 'failed', progress: null, message: r.error.message });
    }
  });
  return true;
}

export function cancelOpenBase() {
  if (useBaseOpen.getState().state === 'loading') pending?.cancel();
}

/** "123 MB of 498 MB, 45/149 tensors" (reading and keeping say what they do instead). */
export function describeProgress(p: OpenBaseProgress | null): string {
  const mb = (n: number) => `${Math.round(n / 1e6).toLocaleString('en-US')} MB`;
  if (!p || p.phase === 'reading') return 'reading config.json and the tokenizer…';
  if (p.phase === 'keeping') return `keeping a copy in this browser for the next visit: ${mb(p.bytesDone)} of ${mb(p.bytesTotal)}`;
  return `${mb(p.bytesDone)} of ${mb(p.bytesTotal)}, ${p.tensorsDone}/${p.tensorsTotal} tensors`;
}

/** The files of a drop: plain files, or a dropped folder walked (a Hugging Face folder is flat;
 *  one level of subfolders is walked too, for a zip's unpacked "gpt2/" inside). */
export async function filesFromDrop(dt: DataTransfer): Promise<{ files: File[]; folderName: string | null }> {
  const entries = [...dt.items].map((i) => (typeof i.webkitGetAsEntry === 'function' ? i.webkitGetAsEntry() : null)).filter((e): e is FileSystemEntry => !!e);
  const dir = entries.length === 1 && entries[0].isDirectory ? (entries[0] as FileSystemDirectoryEntry) : null;
  if (!dir) return { files: [...dt.files], folderName: null };
  const out: File[] = [];
  const readDir = (d: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> =>
    new Promise((resolve, reject) => {
      const reader = d.createReader();
      const all: FileSystemEntry[] = [];
      // readEntries returns the entries in batches until an empty one.
      const next = () => reader.readEntries((batch) => (batch.length ? (all.push(...batch), next()) : resolve(all)), reject);
      next();
    });
  const fileOf = (e: FileSystemFileEntry) => new Promise<File>((resolve, reject) => e.file(resolve, reject));
  const walk = async (d: FileSystemDirectoryEntry, depth: number) => {
    for (const e of await readDir(d)) {
      if (e.isFile) out.push(await fileOf(e as FileSystemFileEntry));
      else if (e.isDirectory && depth < 1) await walk(e as FileSystemDirectoryEntry, depth + 1);
    }
  };
  await walk(dir, 0);
  return { files: out, folderName: dir.name };
}
