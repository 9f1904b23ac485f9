// Prefix tuning and LoRA as PEFT adapter folders (adapter_config.json +
// adapter_model.safetensors), the layout `PeftModel.from_pretrained` loads onto a
// GPT2LMHeadModel. This file converts between our tensors and PEFT's; checkpoint.ts adds
// the base-model fingerprint and writes the files. Layouts: docs/FORMAT.md.
//
// Prefix tuning (peft_type PREFIX_TUNING, prefix_projection false): one tensor
// prompt_embeddings [m, n_layer·2·C]. PEFT's get_prompt views it as [batch, m, n_layer·2, H, d]
// and permutes to [n_layer·2, batch, H, m, d], then splits in pairs (key, value) per layer;
// so column ((2l + kv)·H + h)·d + e of row p is our h.{l}.prefix.{key|value}[h, p, e].
//
// LoRA (peft_type LORA on GPT-2's fused c_attn Conv1D, fan_in_fan_out true):
// lora_A.weight [r, C] = our h.{l}.lora.A, lora_B.weight [3C, r] = our h.{l}.lora.B, and
// c_attn(x) += (alpha/r)·(x·Aᵀ)·Bᵀ in both. Our training keeps B's key rows (C…2C) at zero.
import type { AdapterSpec, ModelConfig } from '../model/params';
import { headDim } from '../model/params';
import type { SafeTensorInput, SafetensorsFile } from './safetensors';
import { CheckpointError, posInt, refuseUnexpected, showJson, takeTensor } from './bundle';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

export interface AdapterTensors {
  /** adapter_config.json's fields (PEFT's own, without our `prefix_lab` record). */
  config: Record<string, unknown>;
  tensors: Record<string, SafeTensorInput>;
}

export interface ParsedAdapter {
  adapter: AdapterSpec;
  params: Map<string, Float32Array>;
}

const J = ADAPTER_CONFIG_FILE;
const W = ADAPTER_WEIGHTS_FILE;

/** A config number that must equal the base model's (names both). */
export function expectField(j: Record<string, unknown>, key: string, want: number, what: string) {
  const v = j[key];
  if (v === undefined) return; // optional in older PEFT files
  if (v !== want) throw new CheckpointError('base-mismatch', `"${key}" is ${showJson(v)} but the base model has ${what} = ${want}`, J);
}

function needParam(params: Map<string, Float32Array>, name: string, numel: number): Float32Array {
  const v = params.get(name);
  if (!v || v.length !== numel) throw new CheckpointError('params', `adapter parameter ${name}: expected ${numel} values, got ${v ? v.length : 'none'}`, undefined, name);
  return v;
}

// ---------------------------------------------------------------------------- prefix tuning

/** Column of prompt_embeddings for layer l, key (kv = 0) or value (kv = 1), head h, dim e. */
export function prefixColumn(l: number, kv: 0 | 1, h: number, e: number, H: number, d: number): number {
  return ((2 * l + kv) * H + h) * d + e;
}

export function prefixToPeft(c: ModelConfig, m: number, params: Map<string, Float32Array>): AdapterTensors {
  if (!(m >= 1)) throw new CheckpointError('adapter', `a prefix of length ${m} has no parameters to export`);
  const H = c.nHead;
  const d = headDim(c);
  const cols = c.nLayer * 2 * c.nEmbd;
  const emb = new Float32Array(m * cols);
  for (let l = 0; l < c.nLayer; l++) {
    for (const kv of [0, 1] as const) {
      const src = needParam(params, `h.${l}.prefix.${kv ? 'value' : 'key'}`, H * m * d); // [H, m, d]
      for (let h = 0; h < H; h++)
        for (let p = 0; p < m; p++)
          for (let e = 0; e < d; e++) emb[p * cols + prefixColumn(l, kv, h, e, H, d)] = src[(h * m + p) * d + e];
    }
  }
  return {
    config: {
      peft_type: 'PREFIX_TUNING',
      task_type: 'CAUSAL_LM',
      num_virtual_tokens: m,
      token_dim: c.nEmbd,
      num_transformer_submodules: 1,
      num_attention_heads: H,
      num_layers: c.nLayer,
      encoder_hidden_size: c.nEmbd,
      prefix_projection: false,
      inference_mode: true,
      base_model_name_or_path: null,
      revision: null,
    },
    tensors: { prompt_embeddings: { dtype: 'F32', shape: [m, cols], data: emb } },
  };
}

export function prefixFromPeft(c: ModelConfig, j: Record<string, unknown>, file: SafetensorsFile): ParsedAdapter {
  if (j.prefix_projection === true) {
    throw new CheckpointError('adapter', 'prefix_projection true (an MLP over the prefix) is not supported: only direct per-layer prefixes (P-Tuning v2)', J);
  }
  const m = posInt(j, 'num_virtual_tokens', J);
  expectField(j, 'num_layers', c.nLayer, 'n_layer');
  expectField(j, 'num_attention_heads', c.nHead, 'n_head');
  expectField(j, 'token_dim', c.nEmbd, 'n_embd');
  if (j.num_transformer_submodules !== undefined && j.num_transformer_submodules !== 1) {
    throw new CheckpointError('adapter', `num_transformer_submodules ${showJson(j.num_transformer_submodules)} is not supported (1 for a decoder-only model)`, J);
  }
  const H = c.nHead;
  const d = headDim(c);
  const cols = c.nLayer * 2 * c.nEmbd;
  const emb = takeTensor(file, W, 'prompt_embeddings', [m, cols]);
  refuseUnexpected(file, W, new Set(['prompt_embeddings']), 'prefix tuning stores only prompt_embeddings');
  const params = new Map<string, Float32Array>();
  for (let l = 0; l < c.nLayer; l++) {
    for (const kv of [0, 1] as const) {
      const dst = new Float32Array(H * m * d);
      for (let h = 0; h < H; h++)
        for (let p = 0; p < m; p++)
          for (let e = 0; e < d; e++) dst[(h * m + p) * d + e] = emb[p * cols + prefixColumn(l, kv, h, e, H, d)];
      params.set(`h.${l}.prefix.${kv ? 'value' : 'key'}`, dst);
    }
  }
  return { adapter: { method: 'prefix', prefixLength: m }, params };
}

// ------------------------------------------------------------------------------------- LoRA

export const loraKey = (l: number, ab: 'A' | 'B') => `base_model.model.transformer.h.${l}.attn.c_attn.lora_${ab}.weight`;

export function loraToPeft(c: ModelConfig, rank: number, alpha: number, params: Map<string, Float32Array>): AdapterTensors {
  const C = c.nEmbd;
  const tensors: Record<string, SafeTensorInput> = {};
  for (let l = 0; l < c.nLayer; l++) {
    tensors[loraKey(l, 'A')] = { dtype: 'F32', shape: [rank, C], data: needParam(params, `h.${l}.lora.A`, rank * C) };
    tensors[loraKey(l, 'B')] = { dtype: 'F32', shape: [3 * C, rank], data: needParam(params, `h.${l}.lora.B`, 3 * C * rank) };
  }
  return {
    config: {
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      r: rank,
      lora_alpha: alpha,
      lora_dropout: 0.0,
      target_modules: ['c_attn'],
      fan_in_fan_out: true, // GPT-2's Conv1D stores (in, out)
      bias: 'none',
      use_rslora: false,
      use_dora: false,
      init_lora_weights: true,
      modules_to_save: null,
      layers_to_transform: null,
      layers_pattern: null,
      rank_pattern: {},
      alpha_pattern: {},
      inference_mode: true,
      base_model_name_or_path: null,
      revision: null,
    },
    tensors,
  };
}

const isEmpty = (v: unknown) => v === undefined || v === null || (typeof v === 'object' && Object.keys(v as object).length === 0);

export function loraFromPeft(c: ModelConfig, j: Record<string, unknown>, file: SafetensorsFile): ParsedAdapter {
  const refuse = (msg: string): never => {
    throw new CheckpointError('adapter', msg, J);
  };
  const r = posInt(j, 'r', J);
  const alpha = j.lora_alpha;
  if (typeof alpha !== 'number' || !(alpha > 0)) refuse(`"lora_alpha" must be a positive number, got ${showJson(alpha)}`);
  const tm = j.target_modules;
  const targets = typeof tm === 'string' ? [tm] : Array.isArray(tm) ? tm : null;
  if (!targets || targets.length !== 1 || targets[0] !== 'c_attn') refuse(`target_modules must be ["c_attn"] (LoRA on the fused attention projection), got ${showJson(tm)}`);
  if (j.bias !== undefined && j.bias !== 'none') refuse(`bias ${showJson(j.bias)} is not supported ("none")`);
  if (j.use_rslora === true) refuse('use_rslora true is not supported (the scale is alpha/r)');
  if (j.use_dora === true) refuse('use_dora true is not supported');
  if (!isEmpty(j.rank_pattern) || !isEmpty(j.alpha_pattern)) refuse('per-module rank_pattern / alpha_pattern are not supported');
  if (!isEmpty(j.layers_to_transform)) refuse('layers_to_transform is not supported (LoRA on every layer)');
  if (!isEmpty(j.modules_to_save)) refuse('modules_to_save is not supported');
  const C = c.nEmbd;
  const params = new Map<string, Float32Array>();
  const known = new Set<string>();
  for (let l = 0; l < c.nLayer; l++) {
    params.set(`h.${l}.lora.A`, takeTensor(file, W, loraKey(l, 'A'), [r, C]));
    params.set(`h.${l}.lora.B`, takeTensor(file, W, loraKey(l, 'B'), [3 * C, r]));
    known.add(loraKey(l, 'A')).add(loraKey(l, 'B'));
  }
  refuseUnexpected(file, W, known, `LoRA on c_attn of ${c.nLayer} layers stores lora_A and lora_B per layer`);
  return { adapter: { method: 'lora', rank: r, alpha: alpha as number }, params };
}
