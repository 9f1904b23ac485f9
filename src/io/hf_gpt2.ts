// The base model as a Hugging Face GPT-2 checkpoint folder:
//   config.json        GPT2Config (model_type "gpt2", architectures ["GPT2LMHeadModel"])
//   model.safetensors  GPT2LMHeadModel's state dict: transformer.wte.weight, transformer.h.0.…
//                      (Conv1D weights in (in, out) layout, which is our layout); the tied
//                      lm_head.weight is left out, as save_pretrained does
//   vocab.json         our character vocabulary {"chars": [...]} (src/data/vocab.ts), or a
//                      GPT-2 BPE base's own tokenizer files (tokenizer.json and/or vocab.json
//                      + merges.txt) copied unchanged
// so that `GPT2LMHeadModel.from_pretrained(folder)` loads it. Reading (openBase) accepts our
// own export and real Hugging Face GPT-2 folders (gpt2, distilgpt2, gpt2-medium, …: their
// byte-level BPE tokenizer from tokenizer.json or vocab.json + merges.txt), streamed tensor
// by tensor through ByteSources so a 1.4 GB checkpoint is never held whole. Layouts and the
// exact forward pass: docs/FORMAT.md.
import { bpeFromTokenizerJson, bpeFromVocabMerges } from '../data/bpe';
import { DataError } from '../data/errors';
import type { Tokenizer } from '../data/tokenizer';
import { Vocab } from '../data/vocab';
import { LN_EPS } from '../kernels/layernorm';
import type { BaseModel } from '../model/base';
import { checkRunFits, type DeviceBudget, type PlannedRun } from '../model/memory';
import { baseParamSpecs, type ModelConfig, validateConfig } from '../model/params';
import { bytesFolder, type ByteSource } from './byte_source';
import { fingerprint, FingerprintHasher, fingerprintOrder } from './fingerprint';
import { openSafetensors, SafetensorsError, type SafetensorsSource, type TensorInfo, toFloat32, writeSafetensors, type SafeTensorInput } from './safetensors';
import {
  CheckpointError,
  type CheckpointFiles,
  checkFinite,
  checkFloatDtype,
  checkShape,
  jsonBytes,
  parseJsonObject,
  posInt,
  readJsonObject,
} from './bundle';

export const BASE_CONFIG_FILE = 'config.json';
export const BASE_WEIGHTS_FILE = 'model.safetensors';
export const VOCAB_FILE = 'vocab.json';
export const TOKENIZER_JSON_FILE = 'tokenizer.json';
export const MERGES_FILE = 'merges.txt';
/** Version of the fields this project adds (the `prefix_lab` objects in config files). */
export const FORMAT_VERSION = 1;

/** Our parameter name → GPT2LMHeadModel's state-dict key. */
export function hfName(name: string): string {
  return name === 'wte' || name === 'wpe' ? `transformer.${name}.weight` : `transformer.${name}`;
}

/** The config fields the fingerprint covers, in a fixed key order. */
function canonicalConfig(c: ModelConfig): ModelConfig {
  return { vocabSize: c.vocabSize, contextLength: c.contextLength, nLayer: c.nLayer, nHead: c.nHead, nEmbd: c.nEmbd };
}

/**
 * The base model's fingerprint (16 hex digits): SHA-256 over the config and every base
 * tensor's float32 bytes (src/io/fingerprint.ts). Adapters record it; any change to a base
 * weight changes it. Extra entries in `params` (adapter tensors) are ignored.
 */
export async function baseFingerprint(config: ModelConfig, params: Map<string, Float32Array>): Promise<string> {
  const specs = baseParamSpecs(config);
  const base = new Map<string, Float32Array>();
  for (const s of specs) {
    const v = params.get(s.name);
    if (!v || v.length !== s.numel) throw new CheckpointError('params', `base parameter ${s.name}: expected ${s.numel} values [${s.shape}], got ${v ? v.length : 'none'}`, undefined, s.name);
    base.set(s.name, v);
  }
  return fingerprint(canonicalConfig(config), base);
}

/** What config.json says about the tokenizer, and GPT-2's end-of-text id where the tokenizer has one. */
interface TokenizerNote {
  description: string;
  eosId: number | null;
}

const CHAR_TOKENIZER: TokenizerNote = { description: `character-level, ${VOCAB_FILE} {"chars": [...]}: token id i is chars[i], id 0 = U+FFFD (unknown)`, eosId: null };

/** GPT2Config as transformers writes it, for our architecture. */
export function gpt2Config(c: ModelConfig, fp: string, tok: TokenizerNote = CHAR_TOKENIZER): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: c.vocabSize,
    n_positions: c.contextLength,
    n_embd: c.nEmbd,
    n_layer: c.nLayer,
    n_head: c.nHead,
    n_inner: null, // 4·n_embd
    activation_function: 'gelu_new', // GELU, tanh form
    layer_norm_epsilon: LN_EPS,
    initializer_range: 0.02,
    resid_pdrop: 0.0, // we train without dropout
    embd_pdrop: 0.0,
    attn_pdrop: 0.0,
    scale_attn_weights: true, // scores · 1/√d
    scale_attn_by_inverse_layer_idx: false,
    reorder_and_upcast_attn: false,
    tie_word_embeddings: true, // logits = ln_f(x) · wteᵀ
    use_cache: true,
    // The char vocabulary has no BOS/EOS (GPT-2's 50256 would be out of range); GPT-2's BPE
    // uses <|endoftext|> for both.
    bos_token_id: tok.eosId,
    eos_token_id: tok.eosId,
    torch_dtype: 'float32',
    prefix_lab: {
      format_version: FORMAT_VERSION,
      fingerprint: fp,
      tokenizer: tok.description,
    },
  };
}

/**
 * A base's tokenizer as it was opened: the character vocabulary, or a BPE tokenizer with the
 * files it was read from (tokenizer.json and/or vocab.json + merges.txt, and
 * tokenizer_config.json and special_tokens_map.json when the folder had them), which an
 * export copies byte for byte.
 */
export type BaseTokenizer = Pick<BaseModel, 'tokenizer' | 'vocab' | 'tokenizerFiles'>;

/** Files a BPE base's folder carries beside its tokenizer, copied when present. */
const TOKENIZER_SIDE_FILES = ['tokenizer_config.json', 'special_tokens_map.json'];

/** The BPE tokenizer's main files as openBase would read them (tokenizer.json first, else
 *  vocab.json + merges.txt), or null when they are not all there. */
function bpeMainFiles(files: CheckpointFiles | undefined): string[] | null {
  if (files?.has(TOKENIZER_JSON_FILE)) return [TOKENIZER_JSON_FILE];
  return files?.has(VOCAB_FILE) && files.has(MERGES_FILE) ? [VOCAB_FILE, MERGES_FILE] : null;
}

/** Why a base with this tokenizer cannot be written as a folder, or null when it can
 *  (a character vocabulary, or a BPE tokenizer with its files at hand). */
export function baseExportProblem(tok: Vocab | BaseTokenizer): string | null {
  if (tok instanceof Vocab || tok.vocab || bpeMainFiles(tok.tokenizerFiles)) return null;
  const have = tok.tokenizerFiles ? [...tok.tokenizerFiles.keys()].join(', ') || 'none' : 'none kept';
  return `the ${tok.tokenizer.describe()} tokenizer's files are not at hand to write beside the weights (need ${TOKENIZER_JSON_FILE}, or ${VOCAB_FILE} + ${MERGES_FILE}; have ${have})`;
}

/** The tokenizer files an export writes, and what config.json says of them. */
function tokenizerExport(config: ModelConfig, tok: Vocab | BaseTokenizer): { files: [string, Uint8Array][]; note: TokenizerNote } {
  const vocab = tok instanceof Vocab ? tok : tok.vocab;
  if (vocab) {
    if (vocab.size !== config.vocabSize) throw new CheckpointError('vocab', `the vocabulary has ${vocab.size} characters but the model's vocabSize is ${config.vocabSize}`);
    return { files: [[VOCAB_FILE, jsonBytes(vocab.toJSON())]], note: CHAR_TOKENIZER };
  }
  const t = tok as BaseTokenizer;
  const problem = baseExportProblem(t);
  if (problem) throw new CheckpointError('vocab', problem);
  if (t.tokenizer.size !== config.vocabSize) throw new CheckpointError('vocab', `the tokenizer has ${t.tokenizer.size} tokens but the model's vocabSize is ${config.vocabSize}`);
  const main = bpeMainFiles(t.tokenizerFiles)!;
  const kept = t.tokenizerFiles!;
  const names = [...new Set([...main, ...[TOKENIZER_JSON_FILE, VOCAB_FILE, MERGES_FILE, ...TOKENIZER_SIDE_FILES].filter((n) => kept.has(n))])];
  return {
    files: names.map((n) => [n, kept.get(n)!.slice()]),
    note: { description: `${t.tokenizer.describe()}: ${main.join(' + ')} as the original base had them`, eosId: t.tokenizer.eosId },
  };
}

/**
 * The base model's folder. `params` must hold every base tensor (extra adapter tensors are
 * ignored). `tok` is the character vocabulary, or the base's tokenizer with its files (a
 * Hugging Face GPT-2's BPE: copied unchanged, so the folder opens again with the same ids).
 * Async only because the fingerprint uses WebCrypto.
 */
export async function exportBase(config: ModelConfig, tok: Vocab | BaseTokenizer, params: Map<string, Float32Array>): Promise<CheckpointFiles> {
  const bad = validateConfig(config);
  if (bad) throw new CheckpointError('params', `invalid model config: ${bad}`);
  const { files, note } = tokenizerExport(config, tok);
  const fp = await baseFingerprint(config, params); // also checks every tensor's length
  const tensors: Record<string, SafeTensorInput> = {};
  for (const s of baseParamSpecs(config)) tensors[hfName(s.name)] = { dtype: 'F32', shape: s.shape, data: params.get(s.name)! };
  return new Map([
    [BASE_CONFIG_FILE, jsonBytes(gpt2Config(config, fp, note))],
    [BASE_WEIGHTS_FILE, writeSafetensors(tensors, { format: 'pt' })],
    ...files,
  ]);
}

// ============================================================================ reading

export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';
/** JSON and text files (config, tokenizer) are read whole; anything bigger is not one of them. */
const MAX_TEXT_FILE = 256 * 1024 * 1024;
/** Elements per read when comparing a stored lm_head with wte (4 MiB of float32). */
const COMPARE_CHUNK = 1 << 20;

/** Weight files we do not parse, and how to get model.safetensors from a folder that has only them. */
const FOREIGN_WEIGHTS: Record<string, string> = {
  'pytorch_model.bin': 'a PyTorch pickle, which is never unpickled here (loading a pickle can run arbitrary code)',
  'pytorch_model.bin.index.json': 'sharded PyTorch pickles, which are never unpickled here (loading a pickle can run arbitrary code)',
  'tf_model.h5': 'TensorFlow weights',
  'flax_model.msgpack': 'Flax weights',
};
const HOW_TO_SAFETENSORS =
  "Download model.safetensors from the model's Hugging Face page (Files tab: gpt2, distilgpt2, gpt2-medium and most GPT-2s have one), " +
  'or convert the folder in Python: from transformers import GPT2LMHeadModel; ' +
  'GPT2LMHeadModel.from_pretrained(dir).save_pretrained(dir, safe_serialization=True)';

export interface BaseProgress {
  /** Bytes of tensor data read so far (as stored: F16 counts 2 per element). */
  bytesDone: number;
  bytesTotal: number;
  tensorsDone: number;
  tensorsTotal: number;
  /** The tensor just read (its file key), null before the first. */
  tensor: string | null;
}

export interface OpenBaseOptions {
  onProgress?(p: BaseProgress): void;
  /** Aborting stops the load before its next read with a CheckpointError 'cancelled'. */
  signal?: AbortSignal;
  /**
   * Receives each base tensor (our name, float32) once, in fingerprint order, so the caller
   * can upload it and drop it: the result then has no `params`. A load that fails after the
   * first call has given the sink some tensors; the caller discards them.
   */
  sink?: (name: string, data: Float32Array) => void | Promise<void>;
  /** The folder's name, for modelName when config.json has no `_name_or_path`. */
  folderName?: string;
  /**
   * The run the caller means to start and the device's limits: checked as soon as
   * config.json is parsed, before the tokenizer or any tensor byte is read, so a model that
   * will not fit is refused (CheckpointError 'config', with the numbers) instead of failing
   * after a long load.
   */
  fit?: { run: PlannedRun; device: DeviceBudget };
  /** Called with the parsed config before the tokenizer and the weights are read (after
   *  `fit` passed); throwing refuses the base with that error. */
  onConfig?(config: ModelConfig, modelName: string): void | Promise<void>;
}

/** A base model folder read by openBase: the base model (src/model/base.ts), its tensors
 *  only when no sink was given, with what config.json recorded. */
export interface OpenedBase extends Omit<BaseModel, 'params' | 'modelName' | 'tokenizerFiles'> {
  /** The fingerprint config.json recorded, if any (differs when the weights were changed elsewhere). */
  recordedFingerprint: string | null;
  /** config.json's `_name_or_path`, else the folder's name, else "gpt2-like". */
  modelName: string;
  /** 'prefix-lab' when config.json carries our `prefix_lab` record (exported here). */
  format: 'prefix-lab' | 'huggingface';
  params?: Map<string, Float32Array>;
}

/** importBase's result: a character-level base read whole (our own exports). */
export interface ImportedBase extends OpenedBase {
  vocab: Vocab;
  params: Map<string, Float32Array>;
}

/** config.json's GPT2Config → ModelConfig, refusing every setting our forward pass does not implement. */
export function gpt2ConfigFromJson(j: Record<string, unknown>, F = BASE_CONFIG_FILE): ModelConfig {
  const refuse = (msg: string): never => {
    throw new CheckpointError('config', msg, F);
  };
  if (j.model_type !== undefined && j.model_type !== 'gpt2') refuse(`model_type must be "gpt2", got ${JSON.stringify(j.model_type)}`);
  const config: ModelConfig = {
    vocabSize: posInt(j, 'vocab_size', F),
    contextLength: posInt(j, 'n_positions', F),
    nLayer: posInt(j, 'n_layer', F),
    nHead: posInt(j, 'n_head', F),
    nEmbd: posInt(j, 'n_embd', F),
  };
  const bad = validateConfig(config);
  if (bad) refuse(bad);
  const act = j.activation_function ?? 'gelu_new';
  if (act === 'gelu') {
    refuse('activation_function "gelu" is not supported: in transformers it is the exact erf GELU, and this model computes the tanh approximation ("gelu_new")');
  }
  // gelu_pytorch_tanh and gelu_fast are the same tanh approximation as gelu_new, written
  // differently (PyTorch's kernel; x·(1 + 0.044715x²) factored): the same function.
  if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh' && act !== 'gelu_fast') {
    refuse(`activation_function ${JSON.stringify(act)} is not supported (only the tanh GELU: "gelu_new", "gelu_pytorch_tanh" or "gelu_fast")`);
  }
  const eps = j.layer_norm_epsilon ?? 1e-5;
  if (eps !== LN_EPS) refuse(`layer_norm_epsilon ${JSON.stringify(eps)} is not supported (the LayerNorm kernel uses ${LN_EPS})`);
  if (j.n_inner !== undefined && j.n_inner !== null && j.n_inner !== 4 * config.nEmbd) refuse(`n_inner ${JSON.stringify(j.n_inner)} is not supported (the MLP width is 4·n_embd = ${4 * config.nEmbd})`);
  if (j.tie_word_embeddings === false) refuse('tie_word_embeddings false is not supported (the output head is wte)');
  if (j.scale_attn_weights === false) refuse('scale_attn_weights false is not supported (scores are scaled by 1/√d)');
  if (j.scale_attn_by_inverse_layer_idx === true) refuse('scale_attn_by_inverse_layer_idx true is not supported (scores are not divided by the layer number)');
  if (j.add_cross_attention === true) refuse('add_cross_attention true is not supported (a decoder-only model: no cross-attention blocks)');
  if (j.is_encoder_decoder === true) refuse('is_encoder_decoder true is not supported (a decoder-only model)');
  // reorder_and_upcast_attn true is accepted: transformers then computes q·kᵀ and the
  // softmax in float32 with the 1/√d scale applied first, which differs only in rounding
  // under float16 autocast; the function is the same, and this model computes in float32.
  // Dropout (*_pdrop), summary_*, task_specific_params, n_ctx, bos/eos ids, use_cache and
  // torch_dtype do not change the forward pass (we train without dropout).
  return config;
}

/** Reads config.json into a ModelConfig, refusing any setting our forward pass does not implement. */
export function readGpt2Config(files: CheckpointFiles): ModelConfig {
  return gpt2ConfigFromJson(readJsonObject(files, BASE_CONFIG_FILE, 'the GPT-2 config'));
}

function cancelled(signal: AbortSignal, what: string): CheckpointError {
  const e = new CheckpointError('cancelled', `loading the base model was cancelled ${what}`);
  (e as { cause?: unknown }).cause = signal.reason;
  return e;
}

/** A folder's files, with one common top-level directory (a picked or zipped folder) stripped. */
function normaliseFolder(folder: Map<string, ByteSource>): { files: Map<string, ByteSource>; dir: string | null } {
  const names = [...folder.keys()].filter((n) => !n.startsWith('__MACOSX/'));
  const tops = new Set(names.map((n) => (n.includes('/') ? n.slice(0, n.indexOf('/')) : '')));
  if (tops.size === 1 && !tops.has('')) {
    const dir = [...tops][0];
    return { files: new Map(names.map((n) => [n.slice(dir.length + 1), folder.get(n)!])), dir };
  }
  return { files: new Map(names.map((n) => [n, folder.get(n)!])), dir: null };
}

function listFiles(files: Map<string, ByteSource>): string {
  return files.size ? [...files.keys()].join(', ') : 'none';
}

async function readText(src: ByteSource, name: string): Promise<Uint8Array> {
  if (src.size > MAX_TEXT_FILE) throw new CheckpointError('json', `is ${src.size} bytes, more than the ${MAX_TEXT_FILE} a config or tokenizer file may have`, name);
  const b = await src.read(0, src.size);
  if (b.length !== src.size) throw new CheckpointError('json', `read ${b.length} of its ${src.size} bytes (the file changed or is truncated)`, name);
  return b;
}

async function jsonFrom(files: Map<string, ByteSource>, name: string): Promise<Record<string, unknown>> {
  return parseJsonObject(await readText(files.get(name)!, name), name);
}

/** A DataError from the tokenizer code as a CheckpointError naming the file. */
function tokenizerError(e: unknown, file: string): never {
  if (e instanceof DataError) throw new CheckpointError('vocab', e.message.startsWith(file) ? e.message.slice(file.length).replace(/^[:\s]+/, '') : e.message, file);
  throw e;
}

/** tokenizer.json, else vocab.json + merges.txt, else our character vocab.json (told apart by content). */
async function readTokenizer(files: Map<string, ByteSource>, config: ModelConfig): Promise<{ tokenizer: Tokenizer; vocab: Vocab | null }> {
  let tokenizer: Tokenizer;
  let vocab: Vocab | null = null;
  let file: string;
  if (files.has(TOKENIZER_JSON_FILE)) {
    file = TOKENIZER_JSON_FILE;
    const j = await jsonFrom(files, file);
    try {
      tokenizer = bpeFromTokenizerJson(j, file);
    } catch (e) {
      tokenizerError(e, file);
    }
  } else if (files.has(VOCAB_FILE)) {
    file = VOCAB_FILE;
    const j = await jsonFrom(files, file);
    if ('chars' in j) {
      try {
        vocab = Vocab.fromJSON(j);
      } catch (e) {
        throw new CheckpointError('vocab', (e as Error).message, VOCAB_FILE);
      }
      if (vocab.size !== config.vocabSize) throw new CheckpointError('vocab', `has ${vocab.size} characters but ${BASE_CONFIG_FILE} says vocab_size ${config.vocabSize}`, VOCAB_FILE);
      return { tokenizer: vocab, vocab };
    }
    if (!files.has(MERGES_FILE)) {
      throw new CheckpointError(
        'missing-file',
        `is a BPE vocabulary {token: id}, which needs ${MERGES_FILE} (or ${TOKENIZER_JSON_FILE}) beside it; the files present are ${listFiles(files)}`,
        VOCAB_FILE,
      );
    }
    file = `${VOCAB_FILE} + ${MERGES_FILE}`;
    const merges = new TextDecoder('utf-8', { fatal: false }).decode(await readText(files.get(MERGES_FILE)!, MERGES_FILE));
    try {
      tokenizer = bpeFromVocabMerges(j, merges);
    } catch (e) {
      tokenizerError(e, file);
    }
  } else {
    throw new CheckpointError(
      'missing-file',
      `missing the tokenizer: ${TOKENIZER_JSON_FILE}, or ${VOCAB_FILE} + ${MERGES_FILE} (GPT-2's BPE), or a character ${VOCAB_FILE} {"chars": [...]}; the files present are ${listFiles(files)}`,
    );
  }
  if (tokenizer!.size !== config.vocabSize) {
    throw new CheckpointError('vocab', `the tokenizer has ${tokenizer!.size} tokens but ${BASE_CONFIG_FILE} says vocab_size ${config.vocabSize}; they must be equal`, file);
  }
  return { tokenizer: tokenizer!, vocab };
}

/** Where a state-dict key lives: its file (one of the shards) and header entry. */
interface Located {
  file: string;
  st: SafetensorsSource;
  info: TensorInfo;
}

async function openTensorFile(src: ByteSource, name: string): Promise<SafetensorsSource> {
  try {
    return await openSafetensors({ name, size: src.size, read: (o, n) => src.read(o, n) });
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError('safetensors', e.message, name, e.tensor);
    throw e;
  }
}

/** Every tensor of model.safetensors, or of the shards model.safetensors.index.json names. */
async function locateTensors(files: Map<string, ByteSource>): Promise<Map<string, Located>> {
  const out = new Map<string, Located>();
  if (files.has(BASE_WEIGHTS_FILE)) {
    const st = await openTensorFile(files.get(BASE_WEIGHTS_FILE)!, BASE_WEIGHTS_FILE);
    for (const info of st.header.tensors) out.set(info.name, { file: BASE_WEIGHTS_FILE, st, info });
    return out;
  }
  const I = WEIGHTS_INDEX_FILE;
  const index = await jsonFrom(files, I);
  const map = index.weight_map;
  if (map === null || typeof map !== 'object' || Array.isArray(map)) throw new CheckpointError('json', '"weight_map" must map tensor names to shard files', I);
  const byShard = new Map<string, string[]>();
  for (const [key, shard] of Object.entries(map as Record<string, unknown>)) {
    if (typeof shard !== 'string' || !/^[^/\\]+\.safetensors$/.test(shard) || shard.startsWith('.')) {
      throw new CheckpointError('json', `weight_map[${JSON.stringify(key)}] must be a .safetensors file in this folder, got ${JSON.stringify(shard)}`, I);
    }
    byShard.set(shard, [...(byShard.get(shard) ?? []), key]);
  }
  for (const [shard, keys] of byShard) {
    const src = files.get(shard);
    if (!src) throw new CheckpointError('missing-file', `missing ${shard}, a shard ${I} names (for ${keys[0]}); the files present are ${listFiles(files)}`);
    const st = await openTensorFile(src, shard);
    const listed = new Set(keys);
    for (const info of st.header.tensors) {
      const prev = out.get(info.name);
      if (prev) throw new CheckpointError('tensor-unexpected', `tensor ${info.name} is stored twice: in ${prev.file} and in ${shard}`, shard, info.name);
      if (!listed.has(info.name)) throw new CheckpointError('tensor-unexpected', `tensor ${info.name} is not listed for this shard in ${I}`, shard, info.name);
      out.set(info.name, { file: shard, st, info });
    }
    for (const k of keys) if (!st.info[k]) throw new CheckpointError('tensor-missing', `missing tensor ${k}, which ${I} places in this shard`, shard, k);
  }
  return out;
}

/** Refuses a folder without safetensors weights, saying how to get them. */
function checkWeightsPresent(files: Map<string, ByteSource>) {
  if (files.has(BASE_WEIGHTS_FILE) || files.has(WEIGHTS_INDEX_FILE)) return;
  const foreign = Object.keys(FOREIGN_WEIGHTS).filter((f) => files.has(f) || (f === 'pytorch_model.bin' && [...files.keys()].some((k) => /^pytorch_model-\d+-of-\d+\.bin$/.test(k))));
  if (foreign.length) {
    throw new CheckpointError(
      'missing-file',
      `missing ${BASE_WEIGHTS_FILE}: the weights are only in ${foreign.map((f) => `${f} (${FOREIGN_WEIGHTS[f]})`).join(' and ')}. ${HOW_TO_SAFETENSORS}` +
        (foreign.includes('tf_model.h5') ? ' (from TensorFlow weights: from_pretrained(dir, from_tf=True))' : '') +
        (foreign.includes('flax_model.msgpack') ? ' (from Flax weights: from_pretrained(dir, from_flax=True))' : ''),
    );
  }
  throw new CheckpointError('missing-file', `missing ${BASE_WEIGHTS_FILE} (the weights); the files present are ${listFiles(files)}`);
}

/**
 * Opens a GPT-2 base folder (ours or Hugging Face's) through positioned reads: config (and
 * the `fit` check, and `onConfig`: before any other byte is read) and
 * tokenizer first, then every safetensors header, checking every tensor's presence, shape
 * and dtype before any weight is read; then the base tensors one at a time in fingerprint
 * order (never more than one tensor's bytes per read), each converted to float32, checked
 * finite, hashed into the fingerprint and handed to `opts.sink` or kept in `params`.
 * Nothing the caller passed is changed; every failure is a CheckpointError naming the file.
 */
export async function openBase(folder: Map<string, ByteSource>, opts: OpenBaseOptions = {}): Promise<OpenedBase> {
  const { signal, sink, onProgress } = opts;
  if (signal?.aborted) throw cancelled(signal, 'before it started');
  const { files, dir } = normaliseFolder(folder);

  if (!files.has(BASE_CONFIG_FILE)) {
    throw new CheckpointError('missing-file', `missing ${BASE_CONFIG_FILE} (the GPT-2 config); the files present are ${listFiles(files)}`);
  }
  const cfgJson = await jsonFrom(files, BASE_CONFIG_FILE);
  const config = gpt2ConfigFromJson(cfgJson);
  const ours = cfgJson.prefix_lab !== null && typeof cfgJson.prefix_lab === 'object';
  const recorded = ours ? (cfgJson.prefix_lab as { fingerprint?: unknown }).fingerprint : undefined;
  const nameOrPath = typeof cfgJson._name_or_path === 'string' && cfgJson._name_or_path.trim() ? cfgJson._name_or_path : null;
  const modelName = nameOrPath ?? opts.folderName ?? dir ?? 'gpt2-like';
  if (opts.fit) {
    const problem = checkRunFits(config, opts.fit.run, opts.fit.device, modelName);
    if (problem) throw new CheckpointError('config', `${problem}; nothing was loaded`, BASE_CONFIG_FILE);
  }
  await opts.onConfig?.(config, modelName);
  if (signal?.aborted) throw cancelled(signal, 'before reading the tokenizer');

  checkWeightsPresent(files);
  const { tokenizer, vocab } = await readTokenizer(files, config);
  if (signal?.aborted) throw cancelled(signal, 'before reading the weights');
  const located = await locateTensors(files);

  // The plan: every key checked against the config before a single weight is read.
  const keys = [...located.keys()];
  const prefixed = keys.some((k) => k.startsWith('transformer.'));
  const mainFile = located.size ? located.values().next().value!.file : BASE_WEIGHTS_FILE;
  if (prefixed && keys.some((k) => /^(wte|wpe|h|ln_f)\./.test(k))) {
    throw new CheckpointError('tensor-unexpected', 'mixes keys with and without the "transformer." prefix', mainFile);
  }
  const key = (name: string) => (prefixed ? hfName(name) : hfName(name).slice('transformer.'.length));
  const specs = new Map(baseParamSpecs(config).map((s) => [s.name, s]));
  const known = new Set<string>();
  for (const s of specs.values()) {
    const k = key(s.name);
    const at = located.get(k);
    if (!at) throw new CheckpointError('tensor-missing', `missing tensor ${k} (expected shape [${s.shape}])`, mainFile, k);
    checkShape(at.file, k, at.info.shape, s.shape);
    checkFloatDtype(at.file, k, at.info.dtype);
    known.add(k);
  }
  // Buffers older transformers saved (the causal mask and its fill value), not weights: any dtype.
  for (let l = 0; l < config.nLayer; l++) {
    for (const b of ['attn.bias', 'attn.masked_bias']) known.add(prefixed ? `transformer.h.${l}.${b}` : `h.${l}.${b}`);
  }
  const head = located.get('lm_head.weight');
  if (head) {
    checkShape(head.file, 'lm_head.weight', head.info.shape, [config.vocabSize, config.nEmbd]);
    checkFloatDtype(head.file, 'lm_head.weight', head.info.dtype);
    known.add('lm_head.weight');
  }
  const extra = keys.filter((k) => !known.has(k));
  if (extra.length) {
    const list = extra.slice(0, 5).join(', ') + (extra.length > 5 ? `, … (${extra.length} in all)` : '');
    const at = located.get(extra[0])!;
    throw new CheckpointError('tensor-unexpected', `unexpected tensor${extra.length > 1 ? 's' : ''} ${list} (not part of GPT-2 with n_layer ${config.nLayer})`, at.file, extra[0]);
  }

  const order = fingerprintOrder(specs.keys());
  const bytesOf = (l: Located) => l.info.end - l.info.begin;
  const progress: BaseProgress = {
    bytesDone: 0,
    bytesTotal: order.reduce((a, n) => a + bytesOf(located.get(key(n))!), 0) + (head ? bytesOf(head) : 0),
    tensorsDone: 0,
    tensorsTotal: order.length + (head ? 1 : 0),
    tensor: null,
  };
  onProgress?.({ ...progress });
  const hasher = new FingerprintHasher(canonicalConfig(config), new Map([...specs.values()].map((s) => [s.name, s.numel])));
  const params = sink ? undefined : new Map<string, Float32Array>();
  for (const name of order) {
    const k = key(name);
    const at = located.get(k)!;
    if (signal?.aborted) throw cancelled(signal, `after ${progress.tensorsDone} of ${progress.tensorsTotal} tensors`);
    const data = await readFloat32(at, k);
    if (signal?.aborted) throw cancelled(signal, `after ${progress.tensorsDone} of ${progress.tensorsTotal} tensors`);
    checkFinite(at.file, k, at.info.shape, data);
    if (name === 'wte' && head) {
      await checkTiedHead(head, data, signal, progress);
      progress.bytesDone += bytesOf(head);
      progress.tensorsDone++;
      progress.tensor = 'lm_head.weight';
      onProgress?.({ ...progress });
    }
    hasher.update(name, data);
    if (sink) await sink(name, data);
    else params!.set(name, data);
    progress.bytesDone += bytesOf(at);
    progress.tensorsDone++;
    progress.tensor = k;
    onProgress?.({ ...progress });
  }
  return {
    config,
    tokenizer,
    vocab,
    fingerprint: hasher.digest(),
    recordedFingerprint: typeof recorded === 'string' ? recorded : null,
    modelName,
    format: ours ? 'prefix-lab' : 'huggingface',
    ...(params ? { params } : {}),
  };
}

async function readFloat32(at: Located, key: string): Promise<Float32Array> {
  try {
    return toFloat32(await at.st.readTensor(at.info.name));
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError('safetensors', e.message, at.file, key);
    throw e;
  }
}

/** A stored lm_head must be wte itself (tied), bit for bit after conversion; read in chunks, so only one tensor is ever held. */
async function checkTiedHead(head: Located, wte: Float32Array, signal: AbortSignal | undefined, progress: BaseProgress) {
  const wteBits = new Uint32Array(wte.buffer, wte.byteOffset, wte.length);
  for (let start = 0; start < wte.length; start += COMPARE_CHUNK) {
    if (signal?.aborted) throw cancelled(signal, `after ${progress.tensorsDone} of ${progress.tensorsTotal} tensors`);
    const count = Math.min(COMPARE_CHUNK, wte.length - start);
    let chunk: Float32Array;
    try {
      chunk = toFloat32(await head.st.readElements('lm_head.weight', start, count));
    } catch (e) {
      if (e instanceof SafetensorsError) throw new CheckpointError('safetensors', e.message, head.file, 'lm_head.weight');
      throw e;
    }
    const bits = new Uint32Array(chunk.buffer, chunk.byteOffset, chunk.length);
    for (let i = 0; i < count; i++) {
      if (bits[i] !== wteBits[start + i]) {
        const at = start + i;
        throw new CheckpointError(
          'tensor-unexpected',
          `lm_head.weight differs from the token embedding wte (first at element ${at}, [${Math.floor(at / head.info.shape[1])},${at % head.info.shape[1]}]: ${chunk[i]} vs ${wte[at]}); only tied heads are supported`,
          head.file,
          'lm_head.weight',
        );
      }
    }
  }
}

/**
 * Reads a base folder held in memory (our own exports: the shipped base, a zip bundle)
 * through openBase. Refuses a BPE base (whose tokenizer is not a Vocab); open those with
 * openBase.
 */
export async function importBase(files: CheckpointFiles): Promise<ImportedBase> {
  const b = await openBase(bytesFolder(files));
  if (!b.vocab) {
    throw new CheckpointError('vocab', `this base has a ${b.tokenizer.describe()} tokenizer, not a character vocabulary; importBase reads character-level bases only (use openBase)`);
  }
  return { ...b, vocab: b.vocab, params: b.params! };
}
