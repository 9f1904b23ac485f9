// Prefix initialisation: 'from-text' keys/values are the base model's own (layer 0 against
// a float64 recomputation of wte+wpe → ln_1 → c_attn; every layer bit-identical to
// GptGpu.forward's activations), windows past the context are laid out in text order. Whether
// a from-text prefix costs less loss than a random one is a measurement: src/bench/prefix_init.bench.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTask, type Task } from '../data';
import { nodeReader } from '../data/node';
import { createNodeGpu } from '../gpu/node';
import type { Gpu, Tensor } from '../gpu/runtime';
import { relErr } from '../kernels/check';
import { layerNormRef } from '../kernels/layernorm.ref';
import { freshSeed } from '../util/rng';
import { GptGpu } from './gpt';
import { initParams } from './init';
import { type ModelConfig, baseParamSpecs } from './params';
import { baseKeysValues, initPrefix, loadPrefix, prefixTextSample } from './prefix_init';

let gpu: Gpu;
let task: Task;
beforeAll(async () => {
  gpu = await createNodeGpu();
  task = await createTask('moby-dick', { readText: nodeReader() });
});
afterAll(() => gpu?.destroy());

const config = (over: Partial<ModelConfig> = {}): ModelConfig => ({ vocabSize: task.tokenizer.size, contextLength: 6, nLayer: 2, nHead: 2, nEmbd: 8, ...over });

function baseModel(cfg: ModelConfig, seed: number): GptGpu {
  const model = new GptGpu(gpu, cfg, { method: 'none' });
  model.load(initParams(baseParamSpecs(cfg), seed));
  return model;
}

describe('prefix init', () => {
  const seed = freshSeed();

  it(`from-text, layer 0: keys and values = float64 ln_1 → c_attn of the text tokens; m > context uses several windows (seed ${seed})`, async () => {
    const cfg = config();
    const m = 13; // 3 windows of 6 tokens (the last one partly used)
    const model = baseModel(cfg, seed);
    const prefix = await initPrefix(gpu, model, m, { kind: 'from-text', task, seed });
    const { tokens, B, T } = prefixTextSample(task, m, cfg.contextLength, seed);
    expect([B, T]).toEqual([3, 6]);
    const p = await model.readParams();
    const C = cfg.nEmbd;
    const H = cfg.nHead;
    const d = C / H;
    const wte = p.get('wte')!;
    const wpe = p.get('wpe')!;
    const W = p.get('h.0.attn.c_attn.weight')!; // [C, 3C]: qkv = ln · W + bias
    const bias = p.get('h.0.attn.c_attn.bias')!;
    const wantK = new Float64Array(H * m * d);
    const wantV = new Float64Array(H * m * d);
    for (let j = 0; j < m; j++) {
      const tok = tokens[j]; // text order: window ⌊j/T⌋, position j mod T
      const pos = j % T;
      const x = Array.from({ length: C }, (_, c) => wte[tok * C + c] + wpe[pos * C + c]);
      const ln = layerNormRef(x, p.get('h.0.ln_1.weight')!, p.get('h.0.ln_1.bias')!, 1, C).y;
      for (let h = 0; h < H; h++)
        for (let i = 0; i < d; i++) {
          let k = bias[C + h * d + i];
          let v = bias[2 * C + h * d + i];
          for (let c = 0; c < C; c++) {
            k += ln[c] * W[c * 3 * C + C + h * d + i];
            v += ln[c] * W[c * 3 * C + 2 * C + h * d + i];
          }
          wantK[(h * m + j) * d + i] = k;
          wantV[(h * m + j) * d + i] = v;
        }
    }
    // float32 LayerNorm + a C = 8 dot product: ~1e-7 relative; 1e-5 leaves room, while a
    // wrong row, head, position or split is off by O(1).
    expect(relErr(prefix.get('h.0.prefix.key')!, wantK)).toBeLessThan(1e-5);
    expect(relErr(prefix.get('h.0.prefix.value')!, wantV)).toBeLessThan(1e-5);
    expect(prefix.get('h.1.prefix.key')!.length).toBe(H * m * d);
    model.destroy();
  });

  it(`from-text, every layer: bit-identical to GptGpu.forward's own k and v (seed ${seed})`, async () => {
    const cfg = config({ nLayer: 3, nHead: 3, nEmbd: 12, contextLength: 7 });
    const model = baseModel(cfg, seed + 1);
    const { tokens, B, T } = prefixTextSample(task, 2 * 7, cfg.contextLength, seed);
    const kv = await baseKeysValues(gpu, model, tokens, B, T);
    const tok = gpu.tensor([B, T], new Uint32Array(tokens.buffer, tokens.byteOffset, tokens.length), 'tokens');
    model.forward(tok, null, B, T);
    // The model keeps its activations private; a test may look.
    const acts = (model as unknown as { acts: { k: Tensor; v: Tensor }[] }).acts;
    for (let l = 0; l < cfg.nLayer; l++) {
      expect(kv.k[l], `layer ${l} k`).toEqual(await gpu.read(acts[l].k));
      expect(kv.v[l], `layer ${l} v`).toEqual(await gpu.read(acts[l].v));
    }
    gpu.release(tok);
    model.destroy();
  });

  it('random = initParams on the prefix specs; bad input is refused', async () => {
    const cfg = config();
    const model = baseModel(cfg, 1);
    const r = await initPrefix(gpu, model, 5, { kind: 'random', seed: 4 });
    const again = await initPrefix(gpu, model, 5, { kind: 'random', seed: 4 });
    expect(r.get('h.1.prefix.value')).toEqual(again.get('h.1.prefix.value'));
    expect([...r.keys()]).toEqual(['h.0.prefix.key', 'h.0.prefix.value', 'h.1.prefix.key', 'h.1.prefix.value']);
    await expect(initPrefix(gpu, model, 0, { kind: 'random', seed: 4 })).rejects.toThrow(/≥ 1/);
    expect(() => loadPrefix(gpu, model, r)).toThrow(/not a prefix/);
    model.destroy();
  });
});
