// Node-only: a base model from a path on disk (a folder, read by positioned reads, or a
// .zip bundle), for the CLI, the experiments and the benchmarks. The browser gives
// src/lab/base.ts Files instead; everything after the bytes is the same code.
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { bytesFolder } from '../io/byte_source';
import { unzipFiles } from '../io/bundle';
import type { OpenBaseOptions } from '../io/hf_gpt2';
import { nodeFolderSources } from '../io/node_source';
import { type FolderBase, openLabBase } from './base';

export async function openBasePath(path: string, opts: Omit<OpenBaseOptions, 'sink' | 'folderName'> = {}): Promise<FolderBase> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new Error(`${path}: no such file or folder (give a base model folder, e.g. a Hugging Face GPT-2 download, or a .zip of one)`);
  }
  if (st.isDirectory()) {
    const folder = await nodeFolderSources(path);
    if (!folder.size) throw new Error(`${path}: the folder is empty`);
    return openLabBase(folder, path, { ...opts, folderName: basename(path.replace(/[\\/]+$/, '')) });
  }
  if (!path.toLowerCase().endsWith('.zip')) throw new Error(`${path}: a base model is a folder or a .zip of one (config.json, model.safetensors and the tokenizer files)`);
  return openLabBase(bytesFolder(unzipFiles(new Uint8Array(await readFile(path)))), path, { ...opts, folderName: basename(path).replace(/\.zip$/i, '') });
}
