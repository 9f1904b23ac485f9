// The base model a run starts from, resolved once for every caller (CLI, UI worker,
// experiments, benchmarks): a folder of files (ours, or a Hugging Face GPT-2 folder: gpt2,
// distilgpt2, gpt2-medium, …) or a zip of one, read tensor by tensor through ByteSources
// (src/io/byte_source.ts) so that only the float32 weights are ever held, never the file.
//
// What it opens is the one base-model type (src/model/base.ts: tokenizer, host weights,
// fingerprint, the tokenizer files as read, so that a fully fine-tuned model exports with
// the same tokenizer) with where the folder came from beside it.
import { type ByteSource, bytesFolder, readAll } from '../io/byte_source';
import { unzipFiles, type CheckpointFiles } from '../io/bundle';
import { MERGES_FILE, openBase, type OpenBaseOptions, type OpenedBase, TOKENIZER_JSON_FILE, VOCAB_FILE } from '../io/hf_gpt2';
import type { BaseModel } from '../model/base';
import { estimateMemory, formatBytes } from '../model/memory';
import { baseParamSpecs, countParams, headDim, type ModelConfig } from '../model/params';

/** A base model opened from a folder: the base, its config.json's record, and where it came from. */
export interface FolderBase extends BaseModel, Pick<OpenedBase, 'recordedFingerprint' | 'format'> {
  modelName: string;
  /** tokenizer.json / vocab.json / merges.txt as they were in the folder (small files). */
  tokenizerFiles: CheckpointFiles;
  /** Where it came from, for the UI's base line and result records. */
  source: string;
}

export interface BaseSummary {
  name: string;
  parameters: number;
  layers: number;
  heads: number;
  width: number;
  headDim: number;
  context: number;
  vocabulary: number;
  tokenizer: string;
  /** float32 bytes of the weights alone (what the GPU holds before any run). */
  weightBytes: number;
  fingerprint: string;
}

const TOKENIZER_FILES = [TOKENIZER_JSON_FILE, VOCAB_FILE, MERGES_FILE, 'tokenizer_config.json', 'special_tokens_map.json'];

/** Opens a base folder (file name → source): config, tokenizer, then the weights tensor by tensor. */
export async function openLabBase(folder: Map<string, ByteSource>, source: string, opts: Omit<OpenBaseOptions, 'sink'> = {}): Promise<FolderBase> {
  const b = await openBase(folder, opts);
  const tokenizerFiles: CheckpointFiles = new Map();
  for (const [name, src] of normalisedNames(folder)) if (TOKENIZER_FILES.includes(name)) tokenizerFiles.set(name, await readAll(src));
  return { ...b, params: b.params!, tokenizerFiles, source };
}

/** File names without a leading folder ("gpt2/config.json" → "config.json"), as openBase reads them. */
function normalisedNames(folder: Map<string, ByteSource>): [string, ByteSource][] {
  return [...folder].map(([k, v]) => [k.replace(/^.*[\\/]/, ''), v]);
}

/**
 * The folder a user picked or dropped: its files, or one .zip of them (unpacked in memory:
 * fine for our small bases; a GPT-2's files are better given as files, which stream).
 */
export async function folderFromPicked(files: { name: string; source: ByteSource }[]): Promise<Map<string, ByteSource>> {
  if (files.length === 1 && files[0].name.toLowerCase().endsWith('.zip')) {
    return bytesFolder(unzipFiles(await readAll(files[0].source)));
  }
  const out = new Map<string, ByteSource>();
  for (const f of files) out.set(f.name.replace(/^.*[\\/]/, ''), f.source);
  return out;
}

export function summarise(b: Required<Pick<BaseModel, 'config' | 'tokenizer' | 'modelName' | 'fingerprint'>>): BaseSummary {
  const c = b.config;
  const parameters = countParams(baseParamSpecs(c));
  return {
    name: b.modelName,
    parameters,
    layers: c.nLayer,
    heads: c.nHead,
    width: c.nEmbd,
    headDim: headDim(c),
    context: c.contextLength,
    vocabulary: c.vocabSize,
    tokenizer: b.tokenizer.describe(),
    weightBytes: parameters * 4,
    fingerprint: b.fingerprint,
  };
}

/** "gpt2: 124.4M parameters, 12 layers × 12 heads, width 768, context 1024, …" */
export function describeSummary(s: BaseSummary): string {
  const p = s.parameters >= 1e6 ? `${(s.parameters / 1e6).toFixed(1)}M` : s.parameters >= 1e3 ? `${(s.parameters / 1e3).toFixed(1)}k` : String(s.parameters);
  return `${s.name}: ${p} parameters, ${s.layers} layers × ${s.heads} heads (d ${s.headDim}), width ${s.width}, context ${s.context}, ${s.tokenizer}, weights ${formatBytes(s.weightBytes)}`;
}

/** GPU bytes for a training run of `config` at B × T with an adapter, for the summary line. */
export function runBytes(config: ModelConfig, adapter: Parameters<typeof estimateMemory>[1], B: number, T: number): number {
  return estimateMemory(config, adapter, B, T, true).total;
}

