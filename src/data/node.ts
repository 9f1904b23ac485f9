// Node-only: a reader for loadCorpus over the repository's public/ folder (the CLI and tests).
// Not exported from ./index.ts, so browser bundles never pull in node:fs.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import type { ReadText } from './corpus';

/** public/ of this repository (src/data/ → ../../public). */
export const PUBLIC_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../public');

export function nodeReader(root: string = PUBLIC_DIR): ReadText {
  return (path: string) => readFile(join(root, path), 'utf8');
}

/** A user's file as bytes, for textTaskFromBytes. */
export async function readBytes(path: string): Promise<Uint8Array> {
  const b = await readFile(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
