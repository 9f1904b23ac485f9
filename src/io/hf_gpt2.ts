// The base model as a Hugging Face GPT-2 checkpoint folder:
//   config.json        GPT2Config (model_type "gpt2", architectures ["GPT2LMHeadModel"])
//   model.safetensors  GPT2LMHeadModel's state dict: transformer.wte.weight, transformer.h.0.…
//                      (Conv1D weights in (in, out) layout, which is our layout); the tied
//                      lm_head.weight is left out, as save_pretrained does
//   vocab.json         our character vocabulary {"chars": [...]} (src/data/vocab.ts)
// so that `GPT2LMHeadModel.from_pretrained(folder)` loads it. Reading accepts our own
// export and HF-style files with or without the `transformer.` prefix. Layouts and the
// exact forward pass: docs/FORMAT.md.
import { Vocab } from '../data/vocab';
import { LN_EPS } from '../kernels/layernorm';
import { baseParamSpecs, type ModelConfig, validateConfig } from '../model/params';
import { fingerprint } from './fingerprint';
import { writeSafetensors, type SafeTensorInput } from './safetensors';
import {
  CheckpointError,
  type CheckpointFiles,
  jsonBytes,
  posInt,
  readJsonObject,
  readTensorsFile,
  refuseUnexpected,
  takeTensor,
} from './bundle';

export const BASE_CONFIG_FILE = 'config.json';
export const BASE_WEIGHTS_FILE = 'model.safetensors';
export const VOCAB_FILE = 'vocab.json';
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

/** GPT2Config as transformers writes it, for our architecture. */
export function gpt2Config(c: ModelConfig, fp: string): Record<string, unknown> {
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
    bos_token_id: null, // the char vocabulary has no BOS/EOS (GPT-2's 50256 would be out of range)
    eos_token_id: null,
    torch_dtype: 'float32',
    prefix_lab: {
      format_version: FORMAT_VERSION,
      fingerprint: fp,
      tokenizer: `character-level, ${VOCAB_FILE} {"chars": [...]}: token id i is chars[i], id 0 = U+FFFD (unknown)`,
    },
  };
}

/**
 * The base model's folder. `params` must hold every base tensor (extra adapter tensors are
 * ignored). Async only because the fingerprint uses WebCrypto.
 */
export async function exportBase(config: ModelConfig, vocab: Vocab, params: Map<string, Float32Array>): Promise<CheckpointFiles> {
  const bad = validateConfig(config);
  if (bad) throw new CheckpointError('params', `invalid model config: ${bad}`);
  if (vocab.size !== config.vocabSize) throw new CheckpointError('vocab', `the vocabulary has ${vocab.size} characters but the model's vocabSize is ${config.vocabSize}`);
  const fp = await baseFingerprint(config, params); // also checks every tensor's length
  const tensors: Record<string, SafeTensorInput> = {};
  for (const s of baseParamSpecs(config)) tensors[hfName(s.name)] = { dtype: 'F32', shape: s.shape, data: params.get(s.name)! };
  return new Map([
    [BASE_CONFIG_FILE, jsonBytes(gpt2Config(config, fp))],
    [BASE_WEIGHTS_FILE, writeSafetensors(tensors, { format: 'pt' })],
    [VOCAB_FILE, jsonBytes(vocab.toJSON())],
  ]);
}

export interface ImportedBase {
  config: ModelConfig;
  vocab: Vocab;
  params: Map<string, Float32Array>;
  /** Fingerprint of the loaded tensors (what adapters are checked against). */
  fingerprint: string;
  /** The fingerprint config.json recorded, if any (differs when the weights were changed elsewhere). */
  recordedFingerprint: string | null;
}

/** Reads config.json into a ModelConfig, refusing any setting our forward pass does not implement. */
export function readGpt2Config(files: CheckpointFiles): ModelConfig {
  const F = BASE_CONFIG_FILE;
  const j = readJsonObject(files, F, 'the GPT-2 config');
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
  // gelu_pytorch_tanh is the same tanh approximation, computed by PyTorch's kernel.
  if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') refuse(`activation_function ${JSON.stringify(act)} is not supported (only the tanh GELU: "gelu_new")`);
  const eps = j.layer_norm_epsilon ?? 1e-5;
  if (eps !== LN_EPS) refuse(`layer_norm_epsilon ${JSON.stringify(eps)} is not supported (the LayerNorm kernel uses ${LN_EPS})`);
  if (j.n_inner !== undefined && j.n_inner !== null && j.n_inner !== 4 * config.nEmbd) refuse(`n_inner ${JSON.stringify(j.n_inner)} is not supported (the MLP width is 4·n_embd = ${4 * config.nEmbd})`);
  if (j.tie_word_embeddings === false) refuse('tie_word_embeddings false is not supported (the output head is wte)');
  if (j.scale_attn_weights === false) refuse('scale_attn_weights false is not supported (scores are scaled by 1/√d)');
  if (j.scale_attn_by_inverse_layer_idx === true) refuse('scale_attn_by_inverse_layer_idx true is not supported');
  if (j.add_cross_attention === true) refuse('add_cross_attention true is not supported');
  return config;
}

export async function importBase(files: CheckpointFiles): Promise<ImportedBase> {
  const config = readGpt2Config(files);
  const cfgJson = readJsonObject(files, BASE_CONFIG_FILE, 'the GPT-2 config');
  const recorded = (cfgJson.prefix_lab as { fingerprint?: unknown } | undefined)?.fingerprint;

  const vocabJson = readJsonObject(files, VOCAB_FILE, 'the character vocabulary');
  let vocab: Vocab;
  try {
    vocab = Vocab.fromJSON(vocabJson);
  } catch (e) {
    throw new CheckpointError('vocab', (e as Error).message, VOCAB_FILE);
  }
  if (vocab.size !== config.vocabSize) throw new CheckpointError('vocab', `has ${vocab.size} characters but ${BASE_CONFIG_FILE} says vocab_size ${config.vocabSize}`, VOCAB_FILE);

  const W = BASE_WEIGHTS_FILE;
  const file = readTensorsFile(files, W, 'the weights');
  const keys = Object.keys(file.tensors);
  const prefixed = keys.some((k) => k.startsWith('transformer.'));
  if (prefixed && keys.some((k) => /^(wte|wpe|h|ln_f)\./.test(k))) {
    throw new CheckpointError('tensor-unexpected', 'mixes keys with and without the "transformer." prefix', W);
  }
  const key = (name: string) => (prefixed ? hfName(name) : hfName(name).slice('transformer.'.length));
  const params = new Map<string, Float32Array>();
  const known = new Set<string>();
  for (const s of baseParamSpecs(config)) {
    const k = key(s.name);
    params.set(s.name, takeTensor(file, W, k, s.shape));
    known.add(k);
  }
  // Buffers older transformers saved (the causal mask), not weights.
  for (let l = 0; l < config.nLayer; l++) {
    for (const b of ['attn.bias', 'attn.masked_bias']) known.add(prefixed ? `transformer.h.${l}.${b}` : `h.${l}.${b}`);
  }
  // A stored head must be the tied one.
  if (file.tensors['lm_head.weight']) {
    const head = takeTensor(file, W, 'lm_head.weight', [config.vocabSize, config.nEmbd]);
    const wte = params.get('wte')!;
    const a = new Uint32Array(head.buffer, head.byteOffset, head.length);
    const b = new Uint32Array(wte.buffer, wte.byteOffset, wte.length);
    const same = a.every((v, i) => v === b[i]); // bitwise: a copy of wte, not merely close
    if (!same) throw new CheckpointError('tensor-unexpected', 'lm_head.weight differs from the token embedding; only tied heads are supported', W, 'lm_head.weight');
    known.add('lm_head.weight');
  }
  refuseUnexpected(file, W, known, `not part of GPT-2 with n_layer ${config.nLayer}`);
  return {
    config,
    vocab,
    params,
    fingerprint: await baseFingerprint(config, params),
    recordedFingerprint: typeof recorded === 'string' ? recorded : null,
  };
}
