// PEFT adapter configs refused field by field (LoRA options this project does not run,
// prefix-tuning shapes that disagree with the base), each with its message, and the fields
// every exported config writes.
import { describe, expect, it } from 'vitest';
import { adapterParamSpecs, baseParamSpecs, type AdapterSpec, type ModelConfig } from '../model/params';
import { Rng } from '../util/rng';
import { baseFingerprint, CheckpointError, exportAdapter, importAdapter, type CheckpointFiles } from './checkpoint';

const cfg: ModelConfig = { vocabSize: 9, contextLength: 7, nLayer: 2, nHead: 2, nEmbd: 6 };
const rng = new Rng(3);
const base = new Map(baseParamSpecs(cfg).map((s) => [s.name, Float32Array.from({ length: s.numel }, () => rng.normal())]));
const enc = new TextEncoder();
const dec = new TextDecoder();

async function fixture(a: AdapterSpec) {
  const identity = { config: cfg, fingerprint: await baseFingerprint(cfg, base) };
  const params = new Map(adapterParamSpecs(cfg, a).map((s) => [s.name, Float32Array.from({ length: s.numel }, () => rng.normal())]));
  const files = exportAdapter(identity, a, params);
  const json = JSON.parse(dec.decode(files.get('adapter_config.json')!)) as Record<string, unknown>;
  const withConfig = (edit: Record<string, unknown>): CheckpointFiles => {
    const j: Record<string, unknown> = { ...json, ...edit };
    for (const [k, v] of Object.entries(edit)) if (v === undefined) delete j[k];
    // Without the prefix_lab record, so that only the PEFT fields are checked.
    delete j.prefix_lab;
    return new Map([...files, ['adapter_config.json', enc.encode(JSON.stringify(j))]]);
  };
  const refused = (edit: Record<string, unknown>) => {
    try {
      importAdapter(withConfig(edit), identity, { allowUnrecordedBase: true });
    } catch (e) {
      if (e instanceof CheckpointError) return e.message.replace(/^adapter_config\.json: /, '');
      throw e;
    }
    return 'imported';
  };
  return { json, refused };
}

describe('LoRA configs', () => {
  it('writes the PEFT fields a PEFT loader needs', async () => {
    const { json } = await fixture({ method: 'lora', rank: 2, alpha: 4 });
    expect(json).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 2, lora_alpha: 4, target_modules: ['c_attn'], init_lora_weights: true, inference_mode: true, bias: 'none' });
  });

  it('refuses each unsupported option, and accepts the empty or default forms', async () => {
    const { refused } = await fixture({ method: 'lora', rank: 2, alpha: 4 });
    expect(refused({})).toBe('imported');
    expect(refused({ target_modules: 'c_attn', bias: undefined, rank_pattern: {}, alpha_pattern: null, layers_to_transform: undefined, modules_to_save: null, use_dora: false, use_rslora: false })).toBe('imported');
    expect(refused({ lora_alpha: 0 })).toBe('"lora_alpha" must be a positive number, got 0');
    expect(refused({ lora_alpha: '4' })).toBe('"lora_alpha" must be a positive number, got "4"');
    expect(refused({ target_modules: ['c_attn', 'c_proj'] })).toBe('target_modules must be ["c_attn"] (LoRA on the fused attention projection), got ["c_attn","c_proj"]');
    expect(refused({ target_modules: ['q_proj'] })).toMatch(/got \["q_proj"\]$/);
    expect(refused({ target_modules: 7 })).toMatch(/got 7$/);
    expect(refused({ target_modules: [] })).toMatch(/got \[\]$/);
    expect(refused({ bias: 'all' })).toBe('bias "all" is not supported ("none")');
    expect(refused({ use_rslora: true })).toBe('use_rslora true is not supported (the scale is alpha/r)');
    expect(refused({ use_dora: true })).toBe('use_dora true is not supported');
    expect(refused({ rank_pattern: { a: 1 } })).toBe('per-module rank_pattern / alpha_pattern are not supported');
    expect(refused({ alpha_pattern: { a: 1 } })).toBe('per-module rank_pattern / alpha_pattern are not supported');
    expect(refused({ layers_to_transform: [0] })).toBe('layers_to_transform is not supported (LoRA on every layer)');
    expect(refused({ layers_to_transform: 0 })).toBe('layers_to_transform is not supported (LoRA on every layer)');
    expect(refused({ modules_to_save: ['lm_head'] })).toBe('modules_to_save is not supported');
  });
});

describe('prefix-tuning configs', () => {
  it('writes the PEFT fields, and refuses shapes that are not the base model', async () => {
    const { json, refused } = await fixture({ method: 'prefix', prefixLength: 3 });
    expect(json).toMatchObject({ peft_type: 'PREFIX_TUNING', task_type: 'CAUSAL_LM', num_virtual_tokens: 3, inference_mode: true, num_layers: 2, num_attention_heads: 2, token_dim: 6 });
    expect(refused({})).toBe('imported');
    expect(refused({ num_layers: undefined, num_attention_heads: undefined, token_dim: undefined })).toBe('imported');
    expect(refused({ num_layers: 3 })).toBe('"num_layers" is 3 but the base model has n_layer = 2');
    expect(refused({ num_attention_heads: 1 })).toBe('"num_attention_heads" is 1 but the base model has n_head = 2');
    expect(refused({ token_dim: [6] })).toBe('"token_dim" is [6] but the base model has n_embd = 6');
    expect(refused({ num_transformer_submodules: 2 })).toBe('num_transformer_submodules 2 is not supported (1 for a decoder-only model)');
    expect(refused({ num_transformer_submodules: 1 })).toBe('imported');
  });
});

describe('prefix length 1', () => {
  it('a one-token prefix exports and imports (the smallest prefix with parameters)', async () => {
    const { json, refused } = await fixture({ method: 'prefix', prefixLength: 1 });
    expect(json.num_virtual_tokens).toBe(1);
    expect(refused({})).toBe('imported');
  });
});
