// Checkpoints in the formats Python users already load (docs/FORMAT.md):
// - the base model as a Hugging Face GPT-2 folder (hf_gpt2.ts),
// - adapters as PEFT folders: prefix tuning and LoRA (peft.ts), NTK-Attention under our
//   own peft_type (ntk_adapter.ts),
// - any folder as one `.zip` bundle for the browser (bundle.ts).
// Every function takes and returns plain maps of file name → bytes, so the same code runs
// in the browser and in Node. Every failure is a CheckpointError naming the file, the
// tensor and what was expected; nothing the caller passed is changed.
//
// Each adapter's adapter_config.json carries a `prefix_lab` record: method, settings and
// the fingerprint of the base model it was trained on. importAdapter refuses an adapter
// whose fingerprint is not the loaded base model's.
import type { AdapterSpec, ModelConfig } from '../model/params';
import { adapterParamSpecs } from '../model/params';
import { writeSafetensors } from './safetensors';
import { CheckpointError, type CheckpointFiles, jsonBytes, readJsonObject, readTensorsFile, showJson } from './bundle';
import { FORMAT_VERSION } from './hf_gpt2';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, type AdapterTensors, loraFromPeft, loraToPeft, type ParsedAdapter, prefixFromPeft, prefixToPeft } from './peft';
import { NTK_PEFT_TYPE, ntkFromFiles, ntkToFiles } from './ntk_adapter';

export { CheckpointError, type CheckpointErrorKind, type CheckpointFiles, unzipFiles, zipFiles } from './bundle';
export {
  BASE_CONFIG_FILE,
  BASE_WEIGHTS_FILE,
  type BaseProgress,
  baseFingerprint,
  exportBase,
  type ImportedBase,
  importBase,
  openBase,
  type OpenBaseOptions,
  type OpenedBase,
  VOCAB_FILE,
} from './hf_gpt2';
export { type ByteSource, bytesFolder, bytesSource, fileSource } from './byte_source';
export { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, prefixColumn } from './peft';
export { NTK_PEFT_TYPE } from './ntk_adapter';

/** The base model an adapter belongs to: its config and fingerprint (baseFingerprint()). */
export interface BaseIdentity {
  config: ModelConfig;
  fingerprint: string;
  /** Its Hugging Face name or path (openBase's modelName, e.g. "gpt2"); PEFT's
   *  base_model_name_or_path, which AutoPeftModelForCausalLM loads the base by. */
  name?: string | null;
}

/** Our record inside adapter_config.json, under the key `prefix_lab`. */
export interface AdapterRecord {
  format_version: number;
  method: 'prefix' | 'lora' | 'ntk';
  /** prefix: {prefix_length}; lora: {rank, alpha}; ntk: {feature_map, k_param, rank}. */
  settings: Record<string, string | number>;
  base_model: { fingerprint: string; name?: string | null; vocab_size: number; n_positions: number; n_embd: number; n_layer: number; n_head: number };
  /** How the sequence's positions are numbered (only prefix tuning could differ from HF). */
  position_ids: string;
}

export const POSITIONS_NOTE =
  'unshifted: the sequence keeps positions 0..T-1 whatever the prefix length m (PEFT/transformers number them m..m+T-1 under prefix tuning)';

function settingsOf(a: AdapterSpec): { method: AdapterRecord['method']; settings: AdapterRecord['settings'] } {
  switch (a.method) {
    case 'prefix':
      return { method: 'prefix', settings: { prefix_length: a.prefixLength } };
    case 'lora':
      return { method: 'lora', settings: { rank: a.rank, alpha: a.alpha } };
    case 'ntk':
      return { method: 'ntk', settings: { feature_map: a.featureMap, k_param: a.kParam, rank: a.rank } };
    default:
      throw new CheckpointError('adapter', `method "${a.method}" has no adapter to export (the whole model is the result: use exportBase)`);
  }
}

/**
 * The adapter's folder: adapter_config.json (PEFT's fields + our `prefix_lab` record) and
 * adapter_model.safetensors (metadata {"format": "pt"}). `params` must hold every adapter
 * tensor of `adapter` (base tensors in it are ignored).
 */
export function exportAdapter(base: BaseIdentity, adapter: AdapterSpec, params: Map<string, Float32Array>): CheckpointFiles {
  const c = base.config;
  const { method, settings } = settingsOf(adapter);
  // Every tensor the model holds for this adapter must be there, with its size.
  for (const s of adapterParamSpecs(c, adapter)) {
    const v = params.get(s.name);
    if (!v || v.length !== s.numel) throw new CheckpointError('params', `adapter parameter ${s.name}: expected ${s.numel} values [${s.shape}], got ${v ? v.length : 'none'}`, undefined, s.name);
  }
  let out: AdapterTensors;
  if (adapter.method === 'prefix') out = prefixToPeft(c, adapter.prefixLength, params);
  else if (adapter.method === 'lora') out = loraToPeft(c, adapter.rank, adapter.alpha, params);
  else if (adapter.method === 'ntk') out = ntkToFiles(c, adapter.featureMap, adapter.kParam, adapter.rank, params);
  else throw new Error('unreachable');
  const record: AdapterRecord = {
    format_version: FORMAT_VERSION,
    method,
    settings,
    base_model: { fingerprint: base.fingerprint, name: base.name ?? null, vocab_size: c.vocabSize, n_positions: c.contextLength, n_embd: c.nEmbd, n_layer: c.nLayer, n_head: c.nHead },
    position_ids: POSITIONS_NOTE,
  };
  return new Map([
    [ADAPTER_CONFIG_FILE, jsonBytes({ ...out.config, base_model_name_or_path: base.name ?? null, prefix_lab: record })],
    [ADAPTER_WEIGHTS_FILE, writeSafetensors(out.tensors, { format: 'pt' })],
  ]);
}

export interface ImportedAdapter extends ParsedAdapter {
  /** The fingerprint the adapter recorded (null only with allowUnrecordedBase). */
  baseFingerprint: string | null;
}

export interface ImportAdapterOptions {
  /** Accept a PEFT adapter trained elsewhere, which has no `prefix_lab` record (its shapes are still checked). */
  allowUnrecordedBase?: boolean;
}

const PEFT_TYPES: Record<string, AdapterRecord['method']> = { PREFIX_TUNING: 'prefix', LORA: 'lora', [NTK_PEFT_TYPE]: 'ntk' };

/** Reads an adapter folder for the given base model; refuses one made for another base. */
export function importAdapter(files: CheckpointFiles, base: BaseIdentity, opts: ImportAdapterOptions = {}): ImportedAdapter {
  const J = ADAPTER_CONFIG_FILE;
  const j = readJsonObject(files, J, 'the adapter config');
  const type = j.peft_type;
  // Own keys only: "toString" or "__proto__" must not find Object.prototype's members.
  const method = typeof type === 'string' && Object.hasOwn(PEFT_TYPES, type) ? PEFT_TYPES[type] : undefined;
  if (!method) throw new CheckpointError('adapter', `peft_type ${showJson(type)} is not supported (${Object.keys(PEFT_TYPES).join(', ')})`, J);

  // The base model first: a wrong base is the likeliest mistake and the clearest message.
  const rec = j.prefix_lab as Partial<AdapterRecord> | undefined;
  const recorded = rec?.base_model?.fingerprint;
  if (rec === undefined || rec === null) {
    if (!opts.allowUnrecordedBase) {
      throw new CheckpointError('base-mismatch', `records no base-model fingerprint (no "prefix_lab" record: not exported by Prefix Lab), so it cannot be checked against the loaded base model ${base.name ? `${JSON.stringify(base.name)} (fingerprint ${base.fingerprint})` : base.fingerprint}`, J);
    }
  } else {
    if (typeof rec !== 'object' || typeof recorded !== 'string') throw new CheckpointError('json', '"prefix_lab.base_model.fingerprint" must be a string', J);
    if (recorded !== base.fingerprint) {
      const named = (name: unknown, fp: string) => (typeof name === 'string' && name ? `${JSON.stringify(name)} (fingerprint ${fp})` : fp);
      const recName = rec.base_model?.name ?? j.base_model_name_or_path;
      throw new CheckpointError(
        'base-mismatch',
        `adapter was trained on base model ${named(recName, recorded)}, but the loaded base model is ${named(base.name, base.fingerprint)}; load the base model it was made for`,
        J,
      );
    }
    if (rec.method !== method) throw new CheckpointError('json', `prefix_lab.method ${showJson(rec.method)} disagrees with peft_type ${showJson(type)}`, J);
  }

  const file = readTensorsFile(files, ADAPTER_WEIGHTS_FILE, 'the adapter weights');
  const parsed = method === 'prefix' ? prefixFromPeft(base.config, j, file) : method === 'lora' ? loraFromPeft(base.config, j, file) : ntkFromFiles(base.config, j, file);
  if (rec) {
    // The record's settings must say what the PEFT fields say (a hand-edited config would not).
    const want = settingsOf(parsed.adapter).settings;
    for (const [k, v] of Object.entries(want)) {
      if (rec.settings?.[k] !== v) throw new CheckpointError('json', `prefix_lab.settings.${k} is ${showJson(rec.settings?.[k])} but the adapter's own fields give ${showJson(v)}`, J);
    }
  }
  return { ...parsed, baseFingerprint: typeof recorded === 'string' ? recorded : null };
}
