// The page's side of export and import, without React, IndexedDB or the worker (so it is
// unit-tested in Node): what goes into a downloaded zip besides the checkpoint files
// (result.json), the file names, the "Export results" document, and reading what the
// user picked (one .zip, or a folder's loose files) into a checkpoint file map.
// Checkpoint formats themselves: src/io/checkpoint.ts and docs/FORMAT.md.
import {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  BASE_CONFIG_FILE,
  BASE_WEIGHTS_FILE,
  CheckpointError,
  type CheckpointFiles,
  unzipFiles,
  VOCAB_FILE,
  zipFiles,
} from '../../io/checkpoint';
import type { AdapterSpec } from '../../model/params';
import type { RunConfig } from '../../train/config';
import { methodLabel, type RunRecord } from '../runs';

/** The run's settings and losses, added to every exported zip (ignored when importing). */
export const RESULT_FILE = 'result.json';
export const RESULTS_FORMAT = 'prefix-lab-results';
export const RUN_FORMAT = 'prefix-lab-run';

/** JSON text with non-finite numbers (a diverged loss, a missing value) written as null,
 *  which is what JSON.stringify does anyway, but without relying on it silently. */
export function jsonText(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x), 2) + '\n';
}

/** One run as plain data: settings, every recorded loss, the summary. */
export function runResult(run: RunRecord) {
  return {
    id: run.id,
    name: run.name,
    method: methodLabel(run.config),
    state: run.state,
    message: run.message ?? null,
    task: run.taskLabel,
    config: run.config,
    trainableParams: run.trainableParams,
    totalParams: run.totalParams,
    seqLen: run.seqLen,
    peakBytes: run.peakBytes,
    train: run.train,
    evals: run.evals,
    summary: run.summary,
    prefixMass: run.mass,
  };
}

/** The files of one run's download: the checkpoint folder plus result.json. */
export function runBundle(files: CheckpointFiles, run: RunRecord, fingerprint: string): Uint8Array {
  const all: CheckpointFiles = new Map(files);
  const doc = { format: RUN_FORMAT, version: 1, baseFingerprint: fingerprint, ...runResult(run) };
  all.set(RESULT_FILE, new TextEncoder().encode(jsonText(doc)));
  return zipFiles(all);
}

/** "Export results": every run's settings, curves and summary, and the base model in use. */
export function resultsDocument(runs: RunRecord[], base: { config: unknown; fingerprint: string | null; source: string } | null, exportedAt: Date): string {
  return jsonText({ format: RESULTS_FORMAT, version: 1, exportedAt: exportedAt.toISOString(), base, runs: runs.map(runResult) });
}

/** A name safe in any file system: letters, digits, '-', '.', '_' only. */
function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'run';
}

/** e.g. prefix-lab-prefix-m16-run-3.zip; full fine-tuning: prefix-lab-full-model-run-3.zip. */
export function runBundleName(run: RunRecord): string {
  const c = run.config;
  const what =
    c.method === 'prefix' ? `prefix-m${c.prefixLength}` : c.method === 'lora' ? `lora-r${c.loraRank}` : c.method === 'ntk' ? `ntk-${c.featureMap}${c.ntkRank ? `-s${c.ntkRank}` : ''}` : 'full-model';
  const n = /^run-(\d+)-/.exec(run.id)?.[1];
  return `prefix-lab-${what}-${n ? `run-${n}` : slug(run.id)}.zip`;
}

export function baseBundleName(fingerprint: string): string {
  return `prefix-lab-base-${slug(fingerprint)}.zip`;
}

/** The run settings that describe an adapter (method and its own knobs) on top of `config`. */
export function configForAdapter(config: RunConfig, a: AdapterSpec): RunConfig {
  switch (a.method) {
    case 'prefix':
      return { ...config, method: 'prefix', prefixLength: a.prefixLength };
    case 'lora':
      return { ...config, method: 'lora', loraRank: a.rank, loraAlpha: a.alpha };
    case 'ntk':
      return { ...config, method: 'ntk', featureMap: a.featureMap, kParam: a.kParam, ntkRank: a.rank };
    default:
      return { ...config, method: 'full' };
  }
}

// ------------------------------------------------------------------------------ importing

export interface PickedFile {
  name: string;
  bytes: Uint8Array;
}

const FOLDER_FILES = [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, BASE_CONFIG_FILE, BASE_WEIGHTS_FILE, VOCAB_FILE, RESULT_FILE];

/**
 * What the user picked, as a checkpoint file map: one .zip bundle (CRC-checked by
 * unzipFiles), or the loose files of one folder (adapter_config.json +
 * adapter_model.safetensors, or config.json + model.safetensors + vocab.json).
 * Throws CheckpointError with a message fit to show.
 */
export function readPicked(picked: PickedFile[]): CheckpointFiles {
  if (picked.length === 0) throw new CheckpointError('missing-file', 'no file was picked');
  const zips = picked.filter((p) => /\.zip$/i.test(p.name));
  if (zips.length) {
    if (picked.length > 1) throw new CheckpointError('zip', `pick one .zip on its own (got ${picked.map((p) => p.name).join(', ')})`);
    return unzipFiles(zips[0].bytes);
  }
  const files: CheckpointFiles = new Map();
  for (const p of picked) {
    const base = p.name.slice(p.name.lastIndexOf('/') + 1);
    if (!FOLDER_FILES.includes(base)) {
      throw new CheckpointError(
        'missing-file',
        `${p.name} is not a checkpoint file: pick one .zip, or a folder's ${ADAPTER_CONFIG_FILE} + ${ADAPTER_WEIGHTS_FILE} (an adapter) or ${BASE_CONFIG_FILE} + ${BASE_WEIGHTS_FILE} + ${VOCAB_FILE} (a base model) together`,
      );
    }
    if (files.has(base)) throw new CheckpointError('missing-file', `${base} was picked twice`);
    files.set(base, p.bytes);
  }
  return files;
}

/** An adapter folder (adapter_config.json) or a base model (config.json / model.safetensors). */
export function classifyCheckpoint(files: CheckpointFiles): 'adapter' | 'base' {
  if (files.has(ADAPTER_CONFIG_FILE) || files.has(ADAPTER_WEIGHTS_FILE)) {
    if (files.has(BASE_WEIGHTS_FILE)) throw new CheckpointError('missing-file', `holds both an adapter (${ADAPTER_CONFIG_FILE}) and a base model (${BASE_WEIGHTS_FILE}): import them one at a time`);
    if (!files.has(ADAPTER_CONFIG_FILE)) throw new CheckpointError('missing-file', `has ${ADAPTER_WEIGHTS_FILE} but no ${ADAPTER_CONFIG_FILE}: pick both files of the adapter folder`);
    return 'adapter';
  }
  if (files.has(BASE_CONFIG_FILE) || files.has(BASE_WEIGHTS_FILE)) return 'base';
  const have = [...files.keys()];
  throw new CheckpointError(
    'missing-file',
    `is neither an adapter (${ADAPTER_CONFIG_FILE} + ${ADAPTER_WEIGHTS_FILE}) nor a base model (${BASE_CONFIG_FILE} + ${BASE_WEIGHTS_FILE} + ${VOCAB_FILE}); it holds ${have.length ? have.join(', ') : 'no files'}`,
  );
}

/** The files of `picked` as one zip to keep (a zip is kept as picked). */
export function keepableZip(picked: PickedFile[], files: CheckpointFiles): Uint8Array {
  return picked.length === 1 && /\.zip$/i.test(picked[0].name) ? picked[0].bytes : zipFiles(files);
}

/** "Could not import x.zip: …" from any error (CheckpointError messages name the file inside). */
export function importErrorText(fileName: string, e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return `Could not import ${fileName}: ${msg}`;
}
