// Save → load → forward through the GPU model: the logits of a model rebuilt from its
// exported files (zipped and unzipped, as the browser does) are bit-identical to the
// original's, for the base model and each adapter (prefix, LoRA, NTK full and low rank).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vocab } from '../data/vocab';
import { createNodeGpu } from '../gpu/node';
import type { Gpu } from '../gpu/runtime';
import { GptGpu } from '../model/gpt';
import { type AdapterSpec, adapterParamSpecs, baseParamSpecs, type ModelConfig, type ParamSpec } from '../model/params';
import { Rng } from '../util/rng';
import { baseFingerprint, exportAdapter, exportBase, importAdapter, importBase, unzipFiles, zipFiles } from './checkpoint';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await createNodeGpu();
});
afterAll(() => gpu?.destroy());

const vocab = Vocab.fromText('xyz+=0123');
const cfg: ModelConfig = { vocabSize: vocab.size, contextLength: 8, nLayer: 2, nHead: 2, nEmbd: 8 };
const B = 2;
const T = 7;

function randomParams(specs: ParamSpec[], seed: number, std: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  return new Map(specs.map((s) => [s.name, Float32Array.from({ length: s.numel }, () => std * rng.normal())]));
}
// Base weights at GPT-2's scale; LayerNorm gains near 1 so activations stay sane.
const base = randomParams(baseParamSpecs(cfg), 21, 0.3);
for (const [k, v] of base) if (/ln_\d\.weight|ln_f\.weight/.test(k)) v.forEach((x, i) => (v[i] = 1 + x));
const tokens = (() => {
  const rng = new Rng(8);
  return Uint32Array.from({ length: B * T }, () => rng.int(0, vocab.size - 1));
})();

async function logits(adapter: AdapterSpec, params: Map<string, Float32Array>): Promise<Float32Array> {
  const model = new GptGpu(gpu, cfg, adapter);
  model.load(params);
  const tok = gpu.tensor([B, T], tokens, 'tokens');
  model.forward(tok, null, B, T);
  const out = await gpu.read(model.logitsTensor());
  gpu.release(tok);
  model.destroy();
  return out;
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

const ADAPTERS: [string, AdapterSpec][] = [
  ['base only', { method: 'none' }],
  ['prefix m=3', { method: 'prefix', prefixLength: 3 }],
  ['LoRA r=2', { method: 'lora', rank: 2, alpha: 3 }],
  ['NTK elu1/exp full rank', { method: 'ntk', featureMap: 'elu1', kParam: 'exp', rank: 0 }],
  ['NTK taylor2/softplus rank 2', { method: 'ntk', featureMap: 'taylor2', kParam: 'softplus', rank: 2 }],
];

describe('checkpoints through the GPU model', () => {
  for (const [label, adapter] of ADAPTERS) {
    it(`${label}: save → zip → load → forward gives bit-identical logits`, async () => {
      const extra = randomParams(adapterParamSpecs(cfg, adapter), 22, 0.5);
      if (adapter.method === 'lora') {
        // As trained here: B's key rows stay zero.
        for (let l = 0; l < cfg.nLayer; l++) extra.get(`h.${l}.lora.B`)!.fill(0, cfg.nEmbd * adapter.rank, 2 * cfg.nEmbd * adapter.rank);
      }
      const all = new Map([...base, ...extra]);
      const want = await logits(adapter, all);
      expect(want.every(Number.isFinite)).toBe(true);

      const baseZip = zipFiles(await exportBase(cfg, vocab, all));
      const fp = await baseFingerprint(cfg, all);
      const adapterZip = adapter.method === 'none' ? null : zipFiles(exportAdapter({ config: cfg, fingerprint: fp }, adapter, all));

      const loaded = await importBase(unzipFiles(baseZip));
      expect(loaded.fingerprint).toBe(fp);
      const params = new Map(loaded.params);
      let spec: AdapterSpec = { method: 'none' };
      if (adapterZip) {
        const a = importAdapter(unzipFiles(adapterZip), { config: loaded.config, fingerprint: loaded.fingerprint });
        spec = a.adapter;
        for (const [k, v] of a.params) params.set(k, v);
      }
      expect(spec).toEqual(adapter);
      const got = await logits(spec, params);
      expect(bits(got)).toEqual(bits(want));
      // The adapter changes the output (so the test is not passing on the base alone).
      if (adapter.method !== 'none') expect(bits(got)).not.toEqual(bits(await logits({ method: 'none' }, base)));
    });
  }
});
