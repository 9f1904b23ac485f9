// NaN or ±Infinity in ANY tensor of a loaded file is refused, naming that tensor: every
// tensor of a base model folder and of each adapter kind (prefix, LoRA, NTK-Attention with a
// full and a low-rank Z) is poisoned in turn, at a different element each time, so a loader
// that checks only some tensors (or only the first element) fails here.
import { describe, expect, it } from 'vitest';
import { Vocab } from '../data/vocab';
import { type AdapterSpec, adapterParamSpecs, baseParamSpecs, type ModelConfig } from '../model/params';
import { Rng } from '../util/rng';
import { baseFingerprint, CheckpointError, type CheckpointFiles, exportAdapter, exportBase, importAdapter, importBase } from './checkpoint';
import { readSafetensors, type SafeTensorInput, writeSafetensors } from './safetensors';

const vocab = Vocab.fromText('abcdefg');
const cfg: ModelConfig = { vocabSize: vocab.size, contextLength: 7, nLayer: 2, nHead: 2, nEmbd: 6 };

function randomParams(specs: { name: string; numel: number }[], seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  return new Map(specs.map((s) => [s.name, Float32Array.from({ length: s.numel }, () => rng.normal())]));
}

const BAD = [Number.NaN, Infinity, -Infinity] as const;

/** Copies of `files` with one element of `key` in `weights` replaced by `value`. */
function poisoned(files: CheckpointFiles, weights: string, key: string, at: number, value: number): CheckpointFiles {
  const f = readSafetensors(files.get(weights)!);
  const t: Record<string, SafeTensorInput> = {};
  for (const [k, v] of Object.entries(f.tensors)) t[k] = v;
  const data = (t[key].data as Float32Array).slice();
  data[at % data.length] = value;
  t[key] = { ...t[key], data };
  const out = new Map(files);
  out.set(weights, writeSafetensors(t, f.metadata));
  return out;
}

async function expectRefusal(load: () => unknown, weights: string, key: string, value: number) {
  let err: unknown;
  try {
    await load();
  } catch (e) {
    err = e;
  }
  expect(err, `${key} holding ${value} was accepted`).toBeInstanceOf(CheckpointError);
  const e = err as CheckpointError;
  expect(e.kind, e.message).toBe('non-finite');
  expect(e.message).toContain(weights);
  expect(e.message).toContain(`tensor ${key}:`);
  expect(e.message).toContain(String(value));
}

describe('NaN or ±Inf in any loaded tensor is refused, naming the tensor', () => {
  const base = randomParams(baseParamSpecs(cfg), 1);

  it('every tensor of a base model folder', async () => {
    const files = await exportBase(cfg, vocab, base);
    const keys = Object.keys(readSafetensors(files.get('model.safetensors')!).tensors);
    expect(keys.length).toBe(2 + 12 * cfg.nLayer + 2);
    // The clean folder loads: the refusals below are about the poisoned element only.
    await importBase(files);
    for (const [i, key] of keys.entries()) {
      const value = BAD[i % BAD.length];
      await expectRefusal(() => importBase(poisoned(files, 'model.safetensors', key, 7 * i + 1, value)), 'model.safetensors', key, value);
    }
  });

  const adapters: [string, AdapterSpec][] = [
    ['prefix', { method: 'prefix', prefixLength: 3 }],
    ['LoRA', { method: 'lora', rank: 2, alpha: 4 }],
    ['NTK-Attention, full Z', { method: 'ntk', featureMap: 'elu1', kParam: 'exp', rank: 0 }],
    ['NTK-Attention, low-rank Z', { method: 'ntk', featureMap: 'taylor2', kParam: 'softplus', rank: 2 }],
  ];
  for (const [name, spec] of adapters) {
    it(`every tensor of a ${name} adapter`, async () => {
      const identity = { config: cfg, fingerprint: await baseFingerprint(cfg, base) };
      const files = exportAdapter(identity, spec, randomParams(adapterParamSpecs(cfg, spec), 2));
      const weights = 'adapter_model.safetensors';
      const keys = Object.keys(readSafetensors(files.get(weights)!).tensors);
      expect(keys.length).toBeGreaterThan(0);
      importAdapter(files, identity);
      for (const [i, key] of keys.entries()) {
        const value = BAD[(i + 1) % BAD.length];
        await expectRefusal(() => importAdapter(poisoned(files, weights, key, 5 * i + 2, value), identity), weights, key, value);
      }
    });
  }
});
