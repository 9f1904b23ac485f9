// "Open a Hugging Face GPT-2 folder": the page's side. Collects the picked or dropped files
// (a folder's, several, or one .zip), sends them to the engine worker as File objects (the
// worker reads them through File.slice, nothing is read here), follows the progress and
// Cancel, and keeps the outcome for the panel. Replies come through route.ts.
import { create } from 'zustand';
import { sendToEngine } from './engineLink';
import type { FromWorker, OpenBaseProgress } from './worker/protocol';

export interface BaseOpenState {
  state: 'idle' | 'loading' | 'done' | 'failed' | 'cancelled';
  requestId: number | null;
  /** What was picked ("gpt2", "gpt2.zip", "config.json + 3 more"). */
  label: string | null;
  progress: OpenBaseProgress | null;
  /** The error (failed), or what happened (cancelled, done). */
  message: string | null;
}

export const useBaseOpen = create<BaseOpenState>()(() => ({ state: 'idle', requestId: null, label: null, progress: null, message: null }));

let nextRequest = 0;

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

/** Sends the files to the worker; false when there is no engine (no WebGPU). */
export function openBaseFiles(files: File[], folderName: string | null = folderNameOf(files)): boolean {
  if (!files.length) return false;
  const requestId = ++nextRequest;
  const label = pickedLabel(files, folderName);
  if (!sendToEngine({ type: 'open-base', requestId, files, folderName: folderName ?? (files.length === 1 ? files[0].name : null) })) {
    useBaseOpen.setState({ state: 'failed', requestId, label, progress: null, message: 'the training engine is not running (this browser has no WebGPU)' });
    return false;
  }
  // A load still going is replaced by the worker; its late replies are ignored (requestId).
  useBaseOpen.setState({ state: 'loading', requestId, label, progress: null, message: null });
  return true;
}

export function cancelOpenBase() {
  const s = useBaseOpen.getState();
  if (s.state === 'loading' && s.requestId !== null) sendToEngine({ type: 'cancel-open-base', requestId: s.requestId });
}

type OpenReply = Extract<FromWorker, { type: 'open-base-progress' | 'open-base-done' | 'open-base-failed' }>;

export function handleOpenBaseMessage(m: OpenReply) {
  const s = useBaseOpen.getState();
  if (m.requestId !== s.requestId) return;
  switch (m.type) {
    case 'open-base-progress':
      if (s.state === 'loading') useBaseOpen.setState({ progress: m.progress });
      break;
    case 'open-base-done':
      useBaseOpen.setState({ state: 'done', progress: null, message: null });
      break;
    case 'open-base-failed':
      useBaseOpen.setState({ state: m.cancelled ? 'cancelled' : 'failed', progress: null, message: m.message });
      break;
  }
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
