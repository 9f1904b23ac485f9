// What the training commands (pretrain, adapt, eval, generate, convert) share: checkpoint
// folders or .zip bundles on disk, the run settings as flags (generated from RUN_FIELDS,
// the schema the UI and the URL use too), tasks by name or file, and a progress bar for
// training. The run itself (base → task → model + adapter → train → export) is src/lab/.
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Task } from '../data';
import { nodeReader } from '../data/node';
import type { Gpu } from '../gpu/runtime';
import { importAdapter, type CheckpointFiles, unzipFiles, zipFiles } from '../io/checkpoint';
import type { FolderBase } from '../lab/base';
import { openBasePath } from '../lab/node';
import { baseIdentity } from '../lab/run';
import { type OwnText, type TaskBase, taskFor as labTaskFor } from '../lab/task';
import type { GptGpu } from '../model/gpt';
import type { DeviceBudget, PlannedRun } from '../model/memory';
import type { AdapterSpec } from '../model/params';
import { assembleModel } from '../train/adapt';
import { parseConfig, RUN_FIELDS, type RunConfig, type RunFieldName } from '../train/config';
import type { RunListener, RunSummary } from '../train/events';
import { ArgError, kebab, type CliContext, type OptionSpec } from './args';
import { Progress } from './progress';

/** Reads a checkpoint: a folder of files, or a .zip bundle of them. */
export async function readCheckpoint(path: string): Promise<CheckpointFiles> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new Error(`${path}: no such file or folder`);
  }
  if (st.isDirectory()) {
    const files: CheckpointFiles = new Map();
    for (const name of await readdir(path)) {
      const p = join(path, name);
      if ((await stat(p)).isFile()) files.set(name, new Uint8Array(await readFile(p)));
    }
    if (!files.size) throw new Error(`${path}: the folder is empty`);
    return files;
  }
  return unzipFiles(new Uint8Array(await readFile(path)));
}

/** Writes a checkpoint as a folder, or as one .zip file when `path` ends in .zip. */
export async function writeCheckpoint(path: string, files: CheckpointFiles): Promise<string[]> {
  if (path.toLowerCase().endsWith('.zip')) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, zipFiles(files));
    return [path];
  }
  await mkdir(path, { recursive: true });
  const out: string[] = [];
  for (const [name, bytes] of files) {
    await writeFile(join(path, name), bytes);
    out.push(join(path, name));
  }
  return out;
}

/** A base model from a folder (ours, or a Hugging Face GPT-2 download: streamed tensor by
 *  tensor) or a .zip bundle: src/lab/node.ts, the one opener every command uses. With `fit`,
 *  a model + run that cannot fit the device is refused as soon as config.json is read. */
export async function loadBase(path: string, fit?: { run: PlannedRun; device: DeviceBudget }): Promise<FolderBase> {
  return openBasePath(path, fit ? { fit } : {});
}

/** The device limits a run is checked against before its base's weights are read. The CLI has
 *  no memory setting (WebGPU does not report a GPU's memory), so only the limits that make a
 *  run fail for certain are checked: one tensor per buffer, one activation per binding. */
export function fitOn(gpu: Gpu, run: PlannedRun): { run: PlannedRun; device: DeviceBudget } {
  const l = gpu.device.limits;
  return { run, device: { maxBufferSize: l.maxBufferSize, maxStorageBufferBindingSize: l.maxStorageBufferBindingSize, budgetBytes: Infinity } };
}

export async function writeJson(path: string, value: unknown) {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(value, null, 2) + '\n');
}

// ---------------------------------------------------------------------------- run settings

/** CLI flags for the named run settings, with their schema's help, ranges and choices. */
export function runOptions<const N extends RunFieldName>(names: readonly N[], defaults: Partial<Record<N, string | number>> = {}): Record<string, OptionSpec> {
  const out: Record<string, OptionSpec> = {};
  for (const n of names) {
    const f = RUN_FIELDS[n];
    const def = defaults[n] ?? f.default;
    if (f.kind === 'enum') out[kebab(n)] = { type: 'enum', values: f.choices, help: f.help, default: String(def) };
    else if (f.kind === 'string') out[kebab(n)] = { type: 'string', help: f.help, default: String(def) };
    else out[kebab(n)] = { type: 'number', help: f.help, default: Number(def), min: f.min, max: f.max, integer: f.kind === 'int' };
  }
  return out;
}

/** The RunConfig from parsed flags (validated again by the schema; issues become usage errors). */
export function runConfigFrom(options: Record<string, unknown>, names: readonly RunFieldName[], fixed: Partial<RunConfig> = {}): RunConfig {
  const input: Record<string, unknown> = {};
  for (const n of names) if (options[kebab(n)] !== undefined) input[n] = options[kebab(n)];
  const { config, issues } = parseConfig({ ...input, ...fixed });
  if (issues.length) throw new ArgError(issues.map((i) => i.message).join('; '));
  return config;
}

// ---------------------------------------------------------------------------- tasks

/**
 * A task by name (synthetic or built-in corpus) or a path to a UTF-8 text file, built for
 * the base's tokenizer by src/lab/task.ts (as the UI worker builds it). Characters the base
 * does not know become the unknown token; the count is reported on stderr.
 */
export async function taskFor(name: string, base: TaskBase, seqLen: number, seed: number, ctx: CliContext): Promise<Task> {
  let ownText: OwnText | undefined;
  if (/[/\\]|\.txt$/i.test(name)) {
    try {
      ownText = { name, bytes: new Uint8Array(await readFile(name)) };
    } catch {
      throw new ArgError(`--task ${name}: no such file (give a file path, or one of reverse, sort, add, copy-rule, moby-dick, sotu)`);
    }
  }
  const task = await labTaskFor(base, { task: name, seed, seqLen }, { readText: nodeReader(), ownText });
  reportUnknown(task, ctx);
  return task;
}

function reportUnknown(task: Task, ctx: CliContext) {
  if (task.kind === 'text' && task.unknownFraction) {
    const top = task.unknownChars.slice(0, 8).map(([c]) => JSON.stringify(c)).join(' ');
    ctx.err(`note: ${(100 * task.unknownFraction).toFixed(2)}% of '${task.name}' is outside the base model's vocabulary (${top}) and reads as the unknown token`);
  }
}

// ---------------------------------------------------------------------------- training

/**
 * Runs `body` (a src/lab training call) with a progress bar (loss, val loss, tokens/s) fed by
 * its events; Ctrl-C aborts the signal, which stops cleanly after the step. A diverged or
 * failed run throws; a stopped one is reported and returned.
 */
export async function withProgress<R extends { summary: RunSummary }>(
  steps: number, label: string, ctx: CliContext, body: (p: { onEvent: RunListener; signal: AbortSignal }) => Promise<R>,
): Promise<R> {
  const bar = new Progress(steps, { label });
  const abort = new AbortController();
  const onSigint = () => {
    ctx.err('\nstopping after this step (Ctrl-C again to abort)…');
    abort.abort();
    process.off('SIGINT', onSigint);
  };
  process.on('SIGINT', onSigint);
  let val = '';
  try {
    const r = await body({
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === 'eval') val = ` val ${e.valLoss.toFixed(3)}${e.valAccuracy !== null ? ` acc ${(100 * e.valAccuracy).toFixed(0)}%` : ''}`;
        if (e.type === 'step') bar.update(e.step, `loss ${e.trainLoss.toFixed(3)}${val}${e.tokensPerSec ? ` ${Math.round(e.tokensPerSec)} tok/s` : ''}`);
      },
    });
    bar.finish();
    const summary = r.summary;
    if (summary.state === 'diverged' || summary.state === 'error') throw new Error(summary.message ?? `training ${summary.state}`);
    if (summary.state === 'stopped') ctx.err(`stopped at the user's request: ${summary.message ?? ''}`);
    return r;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export const fmt = (x: number | null | undefined, digits = 4) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits));

/** ", 1.234 bits/byte" for a text task's loss, "" where there is none (synthetic tasks). */
export const bpb = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '' : ` (${x.toFixed(4)} bits/byte)`);

// ---------------------------------------------------------------------------- models

/** A base model, with an adapter on it when `adapterPath` is given (its base is checked). */
export async function loadModel(gpu: Gpu, basePath: string, adapterPath?: string): Promise<{ base: FolderBase; model: GptGpu; label: string }> {
  const base = await loadBase(basePath);
  let adapter: AdapterSpec = { method: 'none' };
  let params: Map<string, Float32Array> | undefined;
  if (adapterPath) {
    const a = importAdapter(await readCheckpoint(adapterPath), baseIdentity(base));
    adapter = a.adapter;
    params = a.params;
  }
  const model = assembleModel(gpu, base, adapter, params);
  return { base, model, label: adapterPath ? `${adapter.method} (${adapterPath})` : `base (${basePath})` };
}
