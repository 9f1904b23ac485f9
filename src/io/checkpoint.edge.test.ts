// importAdapter's record checks and the NTK-Attention folder, field by field and message by
// message (found by mutation testing, docs/TESTING.md): a prefix_lab record that is null,
// partial or of the wrong type, base names in the mismatch message, peft_type values that
// only look like keys, every NTK config refusal and the export's exact config.
import { describe, expect, it } from 'vitest';
import { adapterParamSpecs, baseParamSpecs, type AdapterSpec, type ModelConfig } from '../model/params';
import { Rng } from '../util/rng';
import { thrown } from '../util/thrown';
import { baseFingerprint, CheckpointError, type CheckpointErrorKind, type CheckpointFiles, exportAdapter, importAdapter, type ImportAdapterOptions } from './checkpoint';
import { ntkToFiles } from './ntk_adapter';
import { readSafetensors, writeSafetensors } from './safetensors';

const cfg: ModelConfig = { vocabSize: 9, contextLength: 7, nLayer: 2, nHead: 2, nEmbd: 6 };
const d = 3;
const rng = new Rng(5);
const random = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
const base = new Map(baseParamSpecs(cfg).map((s) => [s.name, random(s.numel)]));
const fp = await baseFingerprint(cfg, base);
const identity = { config: cfg, fingerprint: fp };
const enc = new TextEncoder();
const dec = new TextDecoder();
const J = 'adapter_config.json';

const paramsOf = (a: AdapterSpec) => new Map(adapterParamSpecs(cfg, a).map((s) => [s.name, random(s.numel)]));
const configOf = (files: CheckpointFiles) => JSON.parse(dec.decode(files.get(J)!)) as Record<string, unknown>;
function editConfig(files: CheckpointFiles, edit: (j: Record<string, unknown>) => void): CheckpointFiles {
  const j = configOf(files);
  edit(j);
  return new Map(files).set(J, enc.encode(JSON.stringify(j)));
}
/** importAdapter's refusal: kind and the whole message. */
function refusal(files: CheckpointFiles, opts: ImportAdapterOptions = {}, who = identity): { kind: CheckpointErrorKind; message: string } {
  const e = thrown(CheckpointError, () => importAdapter(files, who, opts));
  return { kind: e.kind, message: e.message };
}
const record = (j: Record<string, unknown>) => j.prefix_lab as { base_model: Record<string, unknown>; settings?: unknown; method?: unknown };

const lora: AdapterSpec = { method: 'lora', rank: 2, alpha: 4 };
const loraFiles = exportAdapter(identity, lora, paramsOf(lora));

describe('exportAdapter', () => {
  it('names the parameter, its length and shape when one is missing or of the wrong size', () => {
    const p = paramsOf(lora);
    const [first] = adapterParamSpecs(cfg, lora);
    p.set(first.name, new Float32Array(3));
    const e = thrown(CheckpointError, () => exportAdapter(identity, lora, p));
    expect(e.kind).toBe('params');
    expect(e.message).toBe(`adapter parameter ${first.name}: expected ${first.numel} values [${first.shape}], got 3`);
    expect(e.tensor).toBe(first.name);
    p.delete(first.name);
    expect(thrown(CheckpointError, () => exportAdapter(identity, lora, p)).message).toBe(`adapter parameter ${first.name}: expected ${first.numel} values [${first.shape}], got none`);
  });
});

describe('importAdapter: the files and peft_type', () => {
  it('names the missing file and what it is', () => {
    const noConfig = new Map(loraFiles);
    noConfig.delete(J);
    expect(refusal(noConfig).message).toBe('missing adapter_config.json (the adapter config); the files present are adapter_model.safetensors');
    const noWeights = new Map(loraFiles);
    noWeights.delete('adapter_model.safetensors');
    expect(refusal(noWeights).message).toBe('missing adapter_model.safetensors (the adapter weights); the files present are adapter_config.json');
  });
  it('refuses peft_type values that are not one of the names, even ones an object has as keys', () => {
    for (const t of [['LORA'], 'lora', 'toString', '__proto__', 'constructor', 'hasOwnProperty', 7]) {
      const r = refusal(editConfig(loraFiles, (j) => (j.peft_type = t)));
      expect(r.kind, String(t)).toBe('adapter');
      expect(r.message).toBe(`${J}: peft_type ${JSON.stringify(t)} is not supported (PREFIX_TUNING, LORA, PREFIX_LAB_NTK_ATTENTION)`);
    }
  });
});

describe('importAdapter: the prefix_lab record', () => {
  it('a missing or null record is refused unless allowed, naming the loaded base', () => {
    for (const rec of [undefined, null]) {
      const files = editConfig(loraFiles, (j) => (j.prefix_lab = rec));
      const r = refusal(files, {}, { ...identity, name: 'gpt2' } as typeof identity);
      expect(r.kind).toBe('base-mismatch');
      expect(r.message).toBe(`${J}: records no base-model fingerprint (no "prefix_lab" record: not exported by Prefix Lab), so it cannot be checked against the loaded base model "gpt2" (fingerprint ${fp})`);
      expect(refusal(files).message).toMatch(new RegExp(`checked against the loaded base model ${fp}$`));
      const got = importAdapter(files, identity, { allowUnrecordedBase: true });
      expect(got.baseFingerprint).toBeNull();
      expect(got.adapter).toEqual(lora);
    }
  });
  it('a record without a string fingerprint is malformed JSON, not a mismatch', () => {
    const edits: ((j: Record<string, unknown>) => void)[] = [
      (j) => (j.prefix_lab = {}),
      (j) => (j.prefix_lab = 'abc'),
      (j) => (j.prefix_lab = 5),
      (j) => (record(j).base_model.fingerprint = 5),
      (j) => delete record(j).base_model.fingerprint,
    ];
    for (const edit of edits) {
      expect(refusal(editConfig(loraFiles, edit), { allowUnrecordedBase: true })).toEqual({ kind: 'json', message: `${J}: "prefix_lab.base_model.fingerprint" must be a string` });
    }
  });
  it('a mismatch names both bases: by name where one is a non-empty string, else by fingerprint', () => {
    const other = { ...identity, fingerprint: '0123456789abcdef' };
    const msg = (recName: unknown, pathName: unknown, loadedName?: unknown) => {
      const files = editConfig(loraFiles, (j) => {
        record(j).base_model.name = recName;
        j.base_model_name_or_path = pathName;
      });
      const r = refusal(files, {}, { ...other, name: loadedName } as typeof identity);
      expect(r.kind).toBe('base-mismatch');
      return r.message.replace(`${J}: adapter was trained on base model `, '').replace('; load the base model it was made for', '');
    };
    expect(msg('mine', null, 'gpt2')).toBe(`"mine" (fingerprint ${fp}), but the loaded base model is "gpt2" (fingerprint 0123456789abcdef)`);
    expect(msg(null, 'from-path')).toBe(`"from-path" (fingerprint ${fp}), but the loaded base model is 0123456789abcdef`);
    expect(msg('recorded', 'from-path')).toContain('"recorded" (fingerprint');
    expect(msg('', null, '')).toBe(`${fp}, but the loaded base model is 0123456789abcdef`);
    expect(msg(5, null, 7)).toBe(`${fp}, but the loaded base model is 0123456789abcdef`);
  });
  it('the recorded method must be what peft_type says', () => {
    expect(refusal(editConfig(loraFiles, (j) => (record(j).method = 'prefix')))).toEqual({ kind: 'json', message: `${J}: prefix_lab.method "prefix" disagrees with peft_type "LORA"` });
    expect(refusal(editConfig(loraFiles, (j) => delete record(j).method)).message).toBe(`${J}: prefix_lab.method nothing disagrees with peft_type "LORA"`);
  });
  it('missing record settings are named, not a crash', () => {
    expect(refusal(editConfig(loraFiles, (j) => delete record(j).settings))).toEqual({ kind: 'json', message: `${J}: prefix_lab.settings.rank is nothing but the adapter's own fields give 2` });
    expect(refusal(editConfig(loraFiles, (j) => (record(j).settings = { rank: 2, alpha: 5 }))).message).toBe(`${J}: prefix_lab.settings.alpha is 5 but the adapter's own fields give 4`);
  });
  it('a recorded adapter returns the fingerprint it recorded', () => {
    expect(importAdapter(loraFiles, identity).baseFingerprint).toBe(fp);
  });
});

describe('NTK-Attention folders', () => {
  const ntk = (featureMap: 'elu1' | 'taylor2', kParam: 'abs' | 'exp' | 'softplus' | 'identity', rank: number): AdapterSpec => ({ method: 'ntk', featureMap, kParam, rank });

  it('writes exactly these config fields', () => {
    const files = exportAdapter(identity, ntk('taylor2', 'abs', 2), paramsOf(ntk('taylor2', 'abs', 2)));
    const { prefix_lab: _rec, ...j } = configOf(files);
    expect(j).toEqual({
      peft_type: 'PREFIX_LAB_NTK_ATTENTION',
      task_type: 'CAUSAL_LM',
      feature_map: 'taylor2',
      k_param: 'abs',
      feature_dim: 1 + d + d * d,
      rank: 2,
      num_layers: 2,
      num_attention_heads: 2,
      head_dim: d,
      token_dim: 6,
      inference_mode: true,
      base_model_name_or_path: null,
    });
  });
  it('round trips every k parametrisation', () => {
    for (const k of ['abs', 'exp', 'softplus', 'identity'] as const) {
      const a = ntk('elu1', k, 0);
      const p = paramsOf(a);
      const got = importAdapter(exportAdapter(identity, a, p), identity);
      expect(got.adapter).toEqual(a);
      expect([...got.params.keys()].sort()).toEqual([...p.keys()].sort());
      for (const [n, v] of p) expect(Array.from(got.params.get(n)!), n).toEqual(Array.from(v));
    }
  });
  it('ntkToFiles checks each parameter itself', () => {
    const a = ntk('elu1', 'exp', 0);
    const p = paramsOf(a);
    p.set('h.1.ntk.kappa', new Float32Array(5));
    const e = thrown(CheckpointError, () => ntkToFiles(cfg, 'elu1', 'exp', 0, p));
    expect(e.kind).toBe('params');
    expect(e.message).toBe('adapter parameter h.1.ntk.kappa: expected 6 values [2,3], got 5');
    p.delete('h.1.ntk.kappa');
    expect(thrown(CheckpointError, () => ntkToFiles(cfg, 'elu1', 'exp', 0, p)).message).toBe('adapter parameter h.1.ntk.kappa: expected 6 values [2,3], got none');
  });

  const a2 = ntk('elu1', 'softplus', 2);
  const files2 = exportAdapter(identity, a2, paramsOf(a2));
  const a0 = ntk('taylor2', 'identity', 0);
  const files0 = exportAdapter(identity, a0, paramsOf(a0));
  const unrecorded = (files: CheckpointFiles, edit: (j: Record<string, unknown>) => void) =>
    refusal(
      editConfig(files, (j) => {
        delete j.prefix_lab;
        edit(j);
      }),
      { allowUnrecordedBase: true },
    );

  it('refuses each bad setting with its message', () => {
    expect(unrecorded(files2, (j) => (j.feature_map = 'relu'))).toEqual({ kind: 'adapter', message: `${J}: feature_map must be one of elu1, taylor2, got "relu"` });
    expect(unrecorded(files2, (j) => delete j.feature_map).message).toBe(`${J}: feature_map must be one of elu1, taylor2, got undefined`);
    expect(unrecorded(files2, (j) => (j.k_param = 'square'))).toEqual({ kind: 'adapter', message: `${J}: k_param must be one of abs, exp, softplus, identity, got "square"` });
    for (const rank of [-1, 1.5, '2', null]) {
      expect(unrecorded(files2, (j) => (j.rank = rank)), String(rank)).toEqual({ kind: 'adapter', message: `${J}: rank must be a non-negative integer (0 = full-rank Z), got ${JSON.stringify(rank)}` });
    }
  });
  it('refuses config fields that disagree with the base, naming the base quantity', () => {
    const field = (k: string, v: number) => unrecorded(files2, (j) => (j[k] = v));
    expect(field('num_layers', 3)).toEqual({ kind: 'base-mismatch', message: `${J}: "num_layers" is 3 but the base model has n_layer = 2` });
    expect(field('num_attention_heads', 3).message).toBe(`${J}: "num_attention_heads" is 3 but the base model has n_head = 2`);
    expect(field('head_dim', 2).message).toBe(`${J}: "head_dim" is 2 but the base model has head dimension d = 3`);
    expect(field('feature_dim', 4).message).toBe(`${J}: "feature_dim" is 4 but the base model has the elu1 feature dimension r = 3`);
    expect(unrecorded(files0, (j) => (j.feature_dim = 3)).message).toBe(`${J}: "feature_dim" is 3 but the base model has the taylor2 feature dimension r = 13`);
  });
  it('refuses tensors the adapter does not have, saying which layout it expected', () => {
    const withExtra = (files: CheckpointFiles, key: string) => {
      const st = readSafetensors(files.get('adapter_model.safetensors')!);
      return new Map(files).set('adapter_model.safetensors', writeSafetensors({ ...st.tensors, [key]: { shape: [1], data: new Float32Array(1) } }, st.metadata));
    };
    const r2 = refusal(withExtra(files2, 'transformer.h.0.attn.ntk.Z'));
    expect(r2).toEqual({ kind: 'tensor-unexpected', message: 'adapter_model.safetensors: unexpected tensor transformer.h.0.attn.ntk.Z (NTK-Attention rank 2 over 2 layers)' });
    const r0 = refusal(withExtra(files0, 'transformer.h.0.attn.ntk.Z_A'));
    expect(r0.message).toBe('adapter_model.safetensors: unexpected tensor transformer.h.0.attn.ntk.Z_A (NTK-Attention full rank over 2 layers)');
  });
});
