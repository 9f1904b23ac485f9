// Checkpoint formats without a GPU: export → import round trips are bit-identical, the
// files have Hugging Face's / PEFT's names, shapes and column order (checked by an
// independent emulation of PEFT's reshaping), and damaged, mismatched or foreign files are
// refused with messages naming the file, the tensor and expected vs got.
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { Vocab } from '../data/vocab';
import { type AdapterSpec, adapterParamSpecs, baseParamSpecs, type ModelConfig, type ParamSpec } from '../model/params';
import { Rng } from '../util/rng';
import {
  baseFingerprint,
  CheckpointError,
  type CheckpointErrorKind,
  type CheckpointFiles,
  exportAdapter,
  exportBase,
  importAdapter,
  importBase,
  unzipFiles,
  zipFiles,
} from './checkpoint';
import { readSafetensors, type SafeTensorInput, writeSafetensors } from './safetensors';

// d = 3 and odd sizes everywhere, so a swapped axis cannot go unnoticed.
const vocab = Vocab.fromText('abcdé😀');
const cfg: ModelConfig = { vocabSize: vocab.size, contextLength: 9, nLayer: 2, nHead: 2, nEmbd: 6 };
const C = cfg.nEmbd;
const H = cfg.nHead;
const d = C / H;

/** Every tensor random (LayerNorm weights too), so a mix-up of any two shows. */
function randomParams(specs: ParamSpec[], seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  return new Map(specs.map((s) => [s.name, Float32Array.from({ length: s.numel }, () => rng.normal())]));
}
const base = randomParams(baseParamSpecs(cfg), 1);

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
}
function expectSameParams(got: Map<string, Float32Array>, want: Map<string, Float32Array>) {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [k, v] of want) expect(bitsEqual(got.get(k)!, v), k).toBe(true);
}

const json = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));
const jsonFile = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const copyFiles = (f: CheckpointFiles) => new Map([...f].map(([k, v]) => [k, v.slice()]));

/** Runs fn, expects a CheckpointError of `kind` whose message mentions every string. */
async function refused(fn: () => unknown, kind: CheckpointErrorKind, ...mentions: string[]): Promise<CheckpointError> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a CheckpointError').toBeInstanceOf(CheckpointError);
  const e = err as CheckpointError;
  expect(e.kind, e.message).toBe(kind);
  for (const m of mentions) expect(e.message).toContain(m);
  return e;
}

/** model.safetensors with its tensors changed by `edit` (HF key → tensor; undefined drops it). */
function rewriteWeights(files: CheckpointFiles, name: string, edit: (t: Record<string, SafeTensorInput>) => void): CheckpointFiles {
  const f = readSafetensors(files.get(name)!);
  const t: Record<string, SafeTensorInput> = {};
  for (const [k, v] of Object.entries(f.tensors)) t[k] = v;
  edit(t);
  const out = new Map(files);
  out.set(name, writeSafetensors(t, f.metadata));
  return out;
}
function editJson(files: CheckpointFiles, name: string, edit: (j: Record<string, unknown>) => void): CheckpointFiles {
  const j = json(files.get(name)!);
  edit(j);
  return new Map(files).set(name, jsonFile(j));
}

describe('base model as a Hugging Face GPT-2 folder', () => {
  it('has GPT2Config fields and GPT2LMHeadModel tensor names, shapes and values', async () => {
    const files = await exportBase(cfg, vocab, base);
    expect([...files.keys()].sort()).toEqual(['config.json', 'model.safetensors', 'vocab.json']);
    const j = json(files.get('config.json')!);
    expect(j).toMatchObject({
      architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', vocab_size: vocab.size, n_positions: 9, n_embd: 6, n_layer: 2, n_head: 2,
      activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, tie_word_embeddings: true, n_inner: null,
    });
    expect(j.prefix_lab.fingerprint).toBe(await baseFingerprint(cfg, base));
    const st = readSafetensors(files.get('model.safetensors')!);
    expect(st.metadata).toEqual({ format: 'pt' });
    const keys = Object.keys(st.tensors);
    expect(keys.length).toBe(2 + 12 * cfg.nLayer + 2);
    expect(keys.every((k) => k.startsWith('transformer.'))).toBe(true);
    expect(keys).not.toContain('lm_head.weight'); // tied: not duplicated
    expect(st.tensors['transformer.wte.weight'].shape).toEqual([vocab.size, C]);
    expect(st.tensors['transformer.wpe.weight'].shape).toEqual([9, C]);
    expect(st.tensors['transformer.h.1.attn.c_attn.weight'].shape).toEqual([C, 3 * C]); // Conv1D (in, out)
    expect(st.tensors['transformer.h.0.mlp.c_proj.weight'].shape).toEqual([4 * C, C]);
    expect(bitsEqual(st.tensors['transformer.h.1.attn.c_attn.weight'].data as Float32Array, base.get('h.1.attn.c_attn.weight')!)).toBe(true);
    expect(json(files.get('vocab.json')!)).toEqual({ chars: [...vocab.chars] });
  });

  it('round trips bit-identically, also through a zip bundle', async () => {
    const files = await exportBase(cfg, vocab, base);
    const zip = zipFiles(files);
    const back = unzipFiles(zip);
    for (const [k, v] of files) expect(back.get(k), k).toEqual(v);
    const got = await importBase(back);
    expect(got.config).toEqual(cfg);
    expect(got.vocab.chars).toEqual(vocab.chars);
    expectSameParams(got.params, base);
    expect(got.fingerprint).toBe(await baseFingerprint(cfg, base));
    expect(got.recordedFingerprint).toBe(got.fingerprint);
    // Same files, same bytes (fixed timestamps).
    expect(zipFiles(files)).toEqual(zip);
  });

  it('reads HF-style files: no "transformer." prefix, a tied lm_head, old mask buffers, BF16', async () => {
    const files = await exportBase(cfg, vocab, base);
    // wpe rounded to bfloat16 so that BF16 holds it exactly.
    const wpe = base.get('wpe')!.map((v) => new Float32Array(new Uint32Array([new Uint32Array(new Float32Array([v]).buffer)[0] & 0xffff0000]).buffer)[0]);
    const bf16 = Uint16Array.from(new Uint32Array(wpe.buffer), (u) => u >>> 16);
    const hf = rewriteWeights(files, 'model.safetensors', (t) => {
      for (const k of Object.keys(t)) {
        t[k.slice('transformer.'.length)] = t[k];
        delete t[k];
      }
      t['lm_head.weight'] = { dtype: 'F32', shape: [vocab.size, C], data: base.get('wte')!.slice() };
      t['h.0.attn.bias'] = { dtype: 'F32', shape: [1, 1, 9, 9], data: new Float32Array(81) };
      t['wpe.weight'] = { dtype: 'BF16', shape: [9, C], data: bf16 };
    });
    const got = await importBase(hf);
    expectSameParams(got.params, new Map(base).set('wpe', wpe));
    expect(got.fingerprint).not.toBe(got.recordedFingerprint); // wpe changed
  });

  it('refuses wrong shapes, missing, extra and untied tensors, other dtypes, naming them', async () => {
    const files = await exportBase(cfg, vocab, base);
    const k = 'transformer.h.1.attn.c_attn.weight';
    await refused(() => importBase(rewriteWeights(files, 'model.safetensors', (t) => (t[k] = { dtype: 'F32', shape: [3 * C, C], data: t[k].data }))),
      'shape', 'model.safetensors', k, '[6,18]', '[18,6]');
    await refused(() => importBase(rewriteWeights(files, 'model.safetensors', (t) => delete t['transformer.ln_f.bias'])), 'tensor-missing', 'transformer.ln_f.bias');
    await refused(() => importBase(rewriteWeights(files, 'model.safetensors', (t) => (t['transformer.h.2.ln_1.weight'] = { shape: [C], data: new Float32Array(C) }))),
      'tensor-unexpected', 'transformer.h.2.ln_1.weight');
    await refused(() => importBase(rewriteWeights(files, 'model.safetensors', (t) => (t['lm_head.weight'] = { shape: [vocab.size, C], data: new Float32Array(vocab.size * C) }))),
      'tensor-unexpected', 'lm_head.weight', 'tied');
    await refused(() => importBase(rewriteWeights(files, 'model.safetensors', (t) => (t['transformer.wpe.weight'] = { shape: [9, C], data: new Float64Array(9 * C) }))),
      'dtype', 'transformer.wpe.weight', 'F64');
    await refused(() => importBase(rewriteWeights(files, 'model.safetensors', (t) => (t['wte.weight'] = t['transformer.wte.weight']))), 'tensor-unexpected', 'prefix');
  });

  it('refuses configs the forward pass does not implement, and a vocabulary of the wrong size', async () => {
    const files = await exportBase(cfg, vocab, base);
    await refused(() => importBase(editJson(files, 'config.json', (j) => (j.layer_norm_epsilon = 1e-6))), 'config', 'config.json', 'layer_norm_epsilon', '0.00001');
    await refused(() => importBase(editJson(files, 'config.json', (j) => (j.activation_function = 'relu'))), 'config', '"relu"');
    await refused(() => importBase(editJson(files, 'config.json', (j) => (j.n_head = 4))), 'config', 'divisible');
    await refused(() => importBase(editJson(files, 'config.json', (j) => delete j.n_layer)), 'json', 'n_layer');
    await refused(() => importBase(editJson(files, 'vocab.json', (j) => (j.chars as string[]).pop())), 'vocab', 'vocab.json', `${vocab.size - 1} characters`);
    await refused(() => importBase(editJson(files, 'config.json', (j) => (j.vocab_size = 3))), 'vocab', 'vocab_size 3');
    const noVocab = new Map(files);
    noVocab.delete('vocab.json');
    await refused(() => importBase(noVocab), 'missing-file', 'vocab.json');
    await refused(() => exportBase(cfg, Vocab.fromText('ab'), base), 'vocab');
    const short = new Map(base).set('h.0.ln_2.bias', new Float32Array(C - 1));
    await refused(() => exportBase(cfg, vocab, short), 'params', 'h.0.ln_2.bias');
  });

  it('refuses corrupt and truncated weight files and leaves the input untouched', async () => {
    const files = await exportBase(cfg, vocab, base);
    const w = files.get('model.safetensors')!;
    const snapshot = copyFiles(files);
    // A flipped byte inside the JSON header ('{' → '[').
    const flipped = w.slice();
    flipped[8] ^= 0x20;
    await refused(() => importBase(new Map(files).set('model.safetensors', flipped)), 'safetensors', 'model.safetensors', "'{'");
    // A flipped byte in a shape digit: the byte count no longer matches the offsets.
    const text = new TextDecoder().decode(w.subarray(8, 8 + Number(new DataView(w.buffer).getBigUint64(0, true))));
    const at = 8 + text.indexOf('"shape":[6,18]') + '"shape":['.length;
    const bad = w.slice();
    bad[at] = '7'.charCodeAt(0);
    const e = await refused(() => importBase(new Map(files).set('model.safetensors', bad)), 'safetensors', 'model.safetensors');
    expect(e.tensor).toMatch(/^transformer\.h\.\d\.attn\.c_attn\.weight$/);
    // A flipped bit in the header length.
    const len = w.slice();
    len[2] ^= 1;
    await refused(() => importBase(new Map(files).set('model.safetensors', len)), 'safetensors', 'header length');
    // Truncated downloads.
    await refused(() => importBase(new Map(files).set('model.safetensors', w.subarray(0, w.length - 12))), 'safetensors', 'model.safetensors');
    await refused(() => importBase(new Map(files).set('model.safetensors', w.subarray(0, 5))), 'safetensors', '8-byte');
    await refused(() => importBase(new Map(files).set('config.json', files.get('config.json')!.subarray(0, 40))), 'json', 'config.json', 'not valid JSON');
    for (const [k, v] of snapshot) expect(files.get(k), k).toEqual(v);
  });
});

// ------------------------------------------------------------------------------- adapters

const fp = await baseFingerprint(cfg, base);
const identity = { config: cfg, fingerprint: fp };
const adapterParams = (a: AdapterSpec, seed: number) => randomParams(adapterParamSpecs(cfg, a), seed);

/** C-order strides of a shape. */
const strides = (shape: number[]) => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
/** torch's x.permute(perm).contiguous() on a flat C-order array. */
function permute(x: Float32Array, shape: number[], perm: number[]): { data: Float32Array; shape: number[] } {
  const outShape = perm.map((p) => shape[p]);
  const inStr = strides(shape);
  const out = new Float32Array(x.length);
  const idx = new Array(outShape.length).fill(0);
  for (let o = 0; o < x.length; o++) {
    let src = 0;
    for (let a = 0; a < idx.length; a++) src += idx[a] * inStr[perm[a]];
    out[o] = x[src];
    for (let a = idx.length - 1; a >= 0; a--) {
      if (++idx[a] < outShape[a]) break;
      idx[a] = 0;
    }
  }
  return { data: out, shape: outShape };
}

describe('prefix tuning as a PEFT PREFIX_TUNING folder', () => {
  const m = 5;
  const a: AdapterSpec = { method: 'prefix', prefixLength: m };
  const params = adapterParams(a, 2);

  it('stores prompt_embeddings in the column order of PEFT get_prompt', () => {
    const files = exportAdapter(identity, a, params);
    const j = json(files.get('adapter_config.json')!);
    expect(j).toMatchObject({ peft_type: 'PREFIX_TUNING', task_type: 'CAUSAL_LM', num_virtual_tokens: m, num_layers: 2, num_attention_heads: H, token_dim: C, prefix_projection: false, num_transformer_submodules: 1 });
    expect(j.prefix_lab).toMatchObject({ method: 'prefix', settings: { prefix_length: m }, base_model: { fingerprint: fp, n_layer: 2 } });
    expect(j.prefix_lab.position_ids).toContain('0..T-1');
    const st = readSafetensors(files.get('adapter_model.safetensors')!);
    expect(st.metadata).toEqual({ format: 'pt' });
    expect(Object.keys(st.tensors)).toEqual(['prompt_embeddings']);
    const E = st.tensors.prompt_embeddings;
    expect(E.shape).toEqual([m, cfg.nLayer * 2 * C]);
    // PEFT: E.view(batch=1, m, n_layer·2, H, d).permute(2, 0, 3, 1, 4).split(2): per layer
    // (key, value), each [batch, H, m, d]; ours are [H, m, d].
    const p = permute(E.data as Float32Array, [1, m, cfg.nLayer * 2, H, d], [2, 0, 3, 1, 4]);
    expect(p.shape).toEqual([cfg.nLayer * 2, 1, H, m, d]);
    const chunk = H * m * d;
    for (let l = 0; l < cfg.nLayer; l++) {
      expect(bitsEqual(p.data.subarray((2 * l) * chunk, (2 * l + 1) * chunk), params.get(`h.${l}.prefix.key`)!), `layer ${l} key`).toBe(true);
      expect(bitsEqual(p.data.subarray((2 * l + 1) * chunk, (2 * l + 2) * chunk), params.get(`h.${l}.prefix.value`)!), `layer ${l} value`).toBe(true);
    }
  });

  it('round trips bit-identically through a zip bundle', () => {
    const got = importAdapter(unzipFiles(zipFiles(exportAdapter(identity, a, params))), identity);
    expect(got.adapter).toEqual(a);
    expect(got.baseFingerprint).toBe(fp);
    expectSameParams(got.params, params);
  });

  it('refuses an adapter of another base model, naming both fingerprints', async () => {
    const files = exportAdapter(identity, a, params);
    const other = await baseFingerprint(cfg, new Map(base).set('wpe', base.get('wpe')!.map((v) => v + 1)));
    expect(other).not.toBe(fp);
    await refused(() => importAdapter(files, { config: cfg, fingerprint: other }), 'base-mismatch', fp, other, 'adapter_config.json');
  });

  it('records the Hugging Face model name as PEFT base_model_name_or_path, and names both bases on a mismatch', async () => {
    const files = exportAdapter({ ...identity, name: 'gpt2' }, a, params);
    const j = json(files.get('adapter_config.json')!);
    expect(j.base_model_name_or_path).toBe('gpt2');
    expect(j.prefix_lab.base_model).toMatchObject({ fingerprint: fp, name: 'gpt2' });
    expect(importAdapter(files, { ...identity, name: 'gpt2' }).baseFingerprint).toBe(fp);
    await refused(() => importAdapter(files, { config: cfg, fingerprint: '0123456789abcdef', name: 'distilgpt2' }), 'base-mismatch',
      '"gpt2" (fingerprint ' + fp + ')', '"distilgpt2" (fingerprint 0123456789abcdef)');
    // Without a name, the field stays null (PEFT's default) and messages give fingerprints only.
    expect(json(exportAdapter(identity, a, params).get('adapter_config.json')!).base_model_name_or_path).toBeNull();
  });

  it('refuses a wrong shape, projection, and a record that disagrees with PEFT fields', async () => {
    const files = exportAdapter(identity, a, params);
    await refused(() => importAdapter(editJson(files, 'adapter_config.json', (j) => (j.num_virtual_tokens = 4)), identity), 'shape', 'prompt_embeddings', '[4,24]', '[5,24]');
    await refused(() => importAdapter(editJson(files, 'adapter_config.json', (j) => (j.prefix_projection = true)), identity), 'adapter', 'prefix_projection');
    await refused(() => importAdapter(editJson(files, 'adapter_config.json', (j) => ((j.prefix_lab as { settings: object }).settings = { prefix_length: 6 })), identity), 'json', 'prefix_length');
    await refused(() => importAdapter(editJson(files, 'adapter_config.json', (j) => (j.peft_type = 'IA3')), identity), 'adapter', '"IA3"', 'PREFIX_TUNING');
  });
});

describe('LoRA as a PEFT LORA folder on c_attn', () => {
  const a: AdapterSpec = { method: 'lora', rank: 3, alpha: 5 };
  const params = adapterParams(a, 3);

  it('stores lora_A [r, C] and lora_B [3C, r] under PEFT keys, with r, alpha and fan_in_fan_out', () => {
    const files = exportAdapter(identity, a, params);
    const j = json(files.get('adapter_config.json')!);
    expect(j).toMatchObject({ peft_type: 'LORA', r: 3, lora_alpha: 5, target_modules: ['c_attn'], fan_in_fan_out: true, bias: 'none', use_rslora: false });
    expect(j.prefix_lab).toMatchObject({ method: 'lora', settings: { rank: 3, alpha: 5 } });
    const st = readSafetensors(files.get('adapter_model.safetensors')!);
    expect(Object.keys(st.tensors).sort()).toEqual(
      [0, 1].flatMap((l) => ['A', 'B'].map((x) => `base_model.model.transformer.h.${l}.attn.c_attn.lora_${x}.weight`)).sort(),
    );
    for (let l = 0; l < 2; l++) {
      const A = st.tensors[`base_model.model.transformer.h.${l}.attn.c_attn.lora_A.weight`];
      const B = st.tensors[`base_model.model.transformer.h.${l}.attn.c_attn.lora_B.weight`];
      expect(A.shape).toEqual([3, C]);
      expect(B.shape).toEqual([3 * C, 3]);
      expect(bitsEqual(A.data as Float32Array, params.get(`h.${l}.lora.A`)!)).toBe(true);
      expect(bitsEqual(B.data as Float32Array, params.get(`h.${l}.lora.B`)!)).toBe(true);
    }
  });

  it('round trips bit-identically; reads a foreign PEFT adapter only when asked, with shape checks', async () => {
    const files = exportAdapter(identity, a, params);
    const got = importAdapter(unzipFiles(zipFiles(files)), identity);
    expect(got.adapter).toEqual(a);
    expectSameParams(got.params, params);
    const foreign = editJson(files, 'adapter_config.json', (j) => delete j.prefix_lab);
    await refused(() => importAdapter(foreign, identity), 'base-mismatch', 'no base-model fingerprint', fp);
    expectSameParams(importAdapter(foreign, identity, { allowUnrecordedBase: true }).params, params);
    const otherCfg = { ...cfg, nEmbd: 8 };
    await refused(() => importAdapter(foreign, { config: otherCfg, fingerprint: fp }, { allowUnrecordedBase: true }), 'shape', 'lora_A.weight', '[3,8]', '[3,6]');
    await refused(() => importAdapter(editJson(foreign, 'adapter_config.json', (j) => (j.use_rslora = true)), identity, { allowUnrecordedBase: true }), 'adapter', 'use_rslora');
    await refused(() => importAdapter(editJson(foreign, 'adapter_config.json', (j) => (j.target_modules = ['c_attn', 'c_proj'])), identity, { allowUnrecordedBase: true }), 'adapter', 'target_modules');
    await refused(() => importAdapter(editJson(files, 'adapter_config.json', (j) => ((j.prefix_lab as { settings: { rank: number } }).settings.rank = 2)), identity), 'json', 'rank');
  });

  it('refuses an adapter tensor holding NaN or ±Inf, naming it and the element', async () => {
    const files = exportAdapter(identity, a, params);
    const bad = rewriteWeights(files, 'adapter_model.safetensors', (t) => {
      const k = 'base_model.model.transformer.h.1.attn.c_attn.lora_B.weight';
      const d = (t[k].data as Float32Array).slice();
      d[4 * 3 + 2] = -Infinity;
      t[k] = { ...t[k], data: d };
    });
    await refused(() => importAdapter(bad, identity), 'non-finite', 'adapter_model.safetensors', 'lora_B.weight', 'element 14', '[4,2]', '-Infinity');
  });

  it('refuses incomplete parameters and adapter-less methods on export', async () => {
    const missing = new Map(params);
    missing.delete('h.1.lora.B');
    await refused(() => exportAdapter(identity, a, missing), 'params', 'h.1.lora.B');
    await refused(() => exportAdapter(identity, { method: 'full' }, params), 'adapter', 'exportBase');
    await refused(() => exportAdapter(identity, { method: 'prefix', prefixLength: 0 }, params), 'adapter', 'length 0');
  });
});

describe('NTK-Attention adapters (our own peft_type)', () => {
  const cases: AdapterSpec[] = [
    { method: 'ntk', featureMap: 'elu1', kParam: 'exp', rank: 0 },
    { method: 'ntk', featureMap: 'taylor2', kParam: 'softplus', rank: 2 },
  ];
  for (const a of cases) {
    if (a.method !== 'ntk') continue;
    it(`${a.featureMap}/${a.kParam}/rank ${a.rank}: names, shapes, settings and a bit-identical round trip`, async () => {
      const params = adapterParams(a, 4);
      const files = exportAdapter(identity, a, params);
      const j = json(files.get('adapter_config.json')!);
      const r = a.featureMap === 'elu1' ? d : 1 + d + d * d;
      expect(j).toMatchObject({ peft_type: 'PREFIX_LAB_NTK_ATTENTION', feature_map: a.featureMap, k_param: a.kParam, rank: a.rank, feature_dim: r, num_layers: 2, num_attention_heads: H, head_dim: d });
      expect(j.prefix_lab).toMatchObject({ method: 'ntk', settings: { feature_map: a.featureMap, k_param: a.kParam, rank: a.rank }, base_model: { fingerprint: fp } });
      const st = readSafetensors(files.get('adapter_model.safetensors')!);
      const shapes = Object.fromEntries(Object.entries(st.tensors).map(([k, t]) => [k, t.shape]));
      const want: Record<string, number[]> = {};
      for (let l = 0; l < 2; l++) {
        const p = `transformer.h.${l}.attn.ntk.`;
        if (a.rank) Object.assign(want, { [`${p}Z_A`]: [H, r, a.rank], [`${p}Z_B`]: [H, a.rank, d] });
        else want[`${p}Z`] = [H, r, d];
        want[`${p}kappa`] = [H, r];
      }
      expect(shapes).toEqual(want);
      const got = importAdapter(unzipFiles(zipFiles(files)), identity);
      expect(got.adapter).toEqual(a);
      expectSameParams(got.params, params);
      // Another head layout is refused before any tensor is read.
      await refused(() => importAdapter(editJson(files, 'adapter_config.json', (x) => delete x.prefix_lab), { config: { ...cfg, nHead: 3 }, fingerprint: fp }, { allowUnrecordedBase: true }),
        'base-mismatch', 'num_attention_heads', '3');
      await refused(() => importAdapter(editJson(files, 'adapter_config.json', (x) => (x.k_param = 'square')), identity), 'adapter', 'k_param', 'square');
    });
  }
});

describe('zip bundles', () => {
  it('refuses truncated, damaged and non-zip bundles', async () => {
    const files = exportAdapter(identity, { method: 'lora', rank: 2, alpha: 4 }, adapterParams({ method: 'lora', rank: 2, alpha: 4 }, 5));
    const zip = zipFiles(files);
    await refused(() => unzipFiles(zip.subarray(0, zip.length - 30)), 'zip', 'end-of-central-directory');
    await refused(() => unzipFiles(zip.subarray(200)), 'zip');
    await refused(() => unzipFiles(new TextEncoder().encode('{"not": "a zip"}')), 'zip', 'not a zip');
    // One flipped byte inside the stored safetensors data: only the CRC can tell.
    const st = files.get('adapter_model.safetensors')!;
    const probe = st.subarray(st.length - 16);
    let at = -1;
    for (let i = 0; i + probe.length <= zip.length && at < 0; i++) if (probe.every((b, k) => zip[i + k] === b)) at = i;
    expect(at).toBeGreaterThan(0);
    const bad = zip.slice();
    bad[at + 3] ^= 0x40;
    await refused(() => unzipFiles(bad), 'zip', 'adapter_model.safetensors', 'CRC-32');
  });

  it('reads a zipped folder (one top-level directory, directory entries, __MACOSX junk)', () => {
    const files = exportAdapter(identity, { method: 'lora', rank: 2, alpha: 4 }, adapterParams({ method: 'lora', rank: 2, alpha: 4 }, 5));
    const zip = zipSync({
      'my-adapter/': new Uint8Array(0),
      'my-adapter/adapter_config.json': files.get('adapter_config.json')!,
      'my-adapter/adapter_model.safetensors': files.get('adapter_model.safetensors')!,
      '__MACOSX/my-adapter/._adapter_config.json': new Uint8Array([1, 2, 3]),
    });
    const back = unzipFiles(zip);
    expect([...back.keys()].sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect(back.get('adapter_model.safetensors')).toEqual(files.get('adapter_model.safetensors'));
  });
});
