// A base-model folder the user opened (a Hugging Face GPT-2: hundreds of MB), kept between
// visits in the origin-private file system (OPFS), as the files themselves: a reload opens
// them again with fileSource (OPFS hands back File objects that read from disk), so the
// weights are never held twice, and IndexedDB never sees a 500 MB record.
//
// Layout: prefix-lab-bases/<key>/<file name> for the one kept base, and
// prefix-lab-bases/chosen.json, written last, naming the folder and its files: a copy cut
// short (quota, tab closed) has no manifest and is never opened. Every function here answers
// "why not" in words instead of throwing, so the caller can say "kept for this visit only".

import { isQuotaError } from './db';

const ROOT = 'prefix-lab-bases';
const MANIFEST = 'chosen.json';
const VERSION = 1;

export interface KeptManifest {
  version: number;
  /** The folder under ROOT (the base's fingerprint). */
  key: string;
  /** File names in that folder, as openLabBase / folderFromPicked take them. */
  files: string[];
  /** What the user picked ("gpt2", "gpt2.zip"), for the base line. */
  label: string;
}

/** The files a GPT-2 folder needs (and the small ones its tokenizer may use); anything else a
 *  picked folder holds (pytorch_model.bin, ONNX exports, README.md) is not copied. */
export function keepableName(name: string): boolean {
  return /^(config\.json|.*\.safetensors|.*\.safetensors\.index\.json|tokenizer\.json|vocab\.json|merges\.txt|tokenizer_config\.json|special_tokens_map\.json|.*\.zip)$/i.test(name);
}

/** The OPFS root, or why there is none here. */
async function opfsRoot(): Promise<FileSystemDirectoryHandle | string> {
  const storage = (globalThis.navigator as Navigator | undefined)?.storage;
  if (!storage || typeof storage.getDirectory !== 'function') return 'this browser offers no origin-private file system (OPFS) to this page';
  try {
    return await storage.getDirectory();
  } catch (e) {
    return `the browser refused its origin-private file system (${messageOf(e)}; private browsing does this)`;
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function fmtMB(n: number): string {
  return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;
}

type SyncHandle = { write(b: BufferSource, o: { at: number }): number; truncate(n: number): void; flush(): void; close(): void };

/** Copies one File into `fh`, in the File's own stream chunks (never the whole file in memory). */
async function copyInto(fh: FileSystemFileHandle, file: File, onBytes: (n: number) => void): Promise<void> {
  const reader = file.stream().getReader();
  const writableOf = (fh as { createWritable?: () => Promise<FileSystemWritableFileStream> }).createWritable;
  if (typeof writableOf === 'function') {
    const w = await writableOf.call(fh);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await w.write(value as Uint8Array<ArrayBuffer>);
        onBytes(value.byteLength);
      }
      await w.close();
    } catch (e) {
      await w.abort().catch(() => undefined);
      throw e;
    }
    return;
  }
  // Safari's workers have no createWritable, but have the worker-only synchronous handle.
  const syncOf = (fh as { createSyncAccessHandle?: () => Promise<SyncHandle> }).createSyncAccessHandle;
  if (typeof syncOf !== 'function') throw new Error('this browser cannot write files into its origin-private file system here');
  const h = await syncOf.call(fh);
  try {
    h.truncate(0);
    let at = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      at += h.write(value, { at });
      onBytes(value.byteLength);
    }
    h.flush();
  } finally {
    h.close();
  }
}

async function writeText(dir: FileSystemDirectoryHandle, name: string, text: string) {
  const fh = await dir.getFileHandle(name, { create: true });
  await copyInto(fh, new File([text], name), () => undefined);
}

/** Forgets the kept folder (if any): "Use the default base model", or another base chosen. */
export async function forgetKeptFiles(): Promise<void> {
  const root = await opfsRoot();
  if (typeof root === 'string') return;
  try {
    await root.removeEntry(ROOT, { recursive: true });
  } catch {
    // nothing kept (NotFoundError), or already gone
  }
}

/**
 * Keeps `files` (what the user picked, already opened successfully) as the base to open on
 * the next visit, replacing any kept before. Resolves to null, or why it could not, in words
 * ("this browser lets the page store 120 MB more; the model's files are 498 MB").
 */
export async function keepFiles(key: string, label: string, files: File[], onProgress?: (done: number, total: number) => void): Promise<string | null> {
  const keep = files.filter((f) => keepableName(f.name));
  const total = keep.reduce((a, f) => a + f.size, 0);
  const root = await opfsRoot();
  if (typeof root === 'string') return root;
  await forgetKeptFiles();
  try {
    const est = await navigator.storage.estimate?.();
    if (est && typeof est.quota === 'number' && typeof est.usage === 'number' && est.quota - est.usage < total) {
      return `this browser lets the page store ${fmtMB(Math.max(0, est.quota - est.usage))} more, and the model's files are ${fmtMB(total)}`;
    }
  } catch {
    // no estimate: try, and let the quota error say it
  }
  let done = 0;
  try {
    const base = await root.getDirectoryHandle(ROOT, { create: true });
    const dir = await base.getDirectoryHandle(key, { create: true });
    for (const f of keep) {
      const fh = await dir.getFileHandle(f.name, { create: true });
      await copyInto(fh, f, (n) => {
        done += n;
        onProgress?.(done, total);
      });
    }
    const manifest: KeptManifest = { version: VERSION, key, files: keep.map((f) => f.name), label };
    await writeText(base, MANIFEST, JSON.stringify(manifest));
    return null;
  } catch (e) {
    await forgetKeptFiles(); // a partial copy must not take space or be opened later
    if (isQuotaError(e)) return `the browser's storage quota ran out after ${fmtMB(done)} of the model's ${fmtMB(total)}`;
    return `copying the files into this browser's storage failed (${messageOf(e)})`;
  }
}

/** The kept folder's files (read from disk as needed), or null when nothing is kept. A
 *  manifest that names a missing file means a damaged copy: it is forgotten. */
export async function readKeptFiles(): Promise<{ manifest: KeptManifest; files: File[] } | null> {
  const root = await opfsRoot();
  if (typeof root === 'string') return null;
  let manifest: KeptManifest;
  let base: FileSystemDirectoryHandle;
  try {
    base = await root.getDirectoryHandle(ROOT);
    const m = JSON.parse(await (await (await base.getFileHandle(MANIFEST)).getFile()).text()) as Partial<KeptManifest>;
    if (m.version !== VERSION || typeof m.key !== 'string' || !Array.isArray(m.files) || typeof m.label !== 'string') throw new Error('unknown manifest');
    manifest = m as KeptManifest;
  } catch {
    return null; // nothing kept, or a copy that never finished
  }
  try {
    const dir = await base.getDirectoryHandle(manifest.key);
    const files = await Promise.all(manifest.files.map(async (n) => (await dir.getFileHandle(n)).getFile()));
    return { manifest, files };
  } catch {
    await forgetKeptFiles();
    return null;
  }
}
