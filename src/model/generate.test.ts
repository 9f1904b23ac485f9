// Generation: greedy tokens equal the argmax of the logits of one full forward over the
// finished sequence (so the padded fixed window and the last-row read are right), cropping
// past the context matches a forward over the last contextLength tokens, seeded sampling
// reproduces, and the sampler's top-k / temperature distribution is the softmax it claims.
// generate() decodes with the KV cache by default, so these hold for it; one test compares
// it with the no-cache window pass (cache: false) token for token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeGpu } from '../gpu/node';
import type { Gpu } from '../gpu/runtime';
import { freshSeed, Rng } from '../util/rng';
import { argmax, generate, sampleFromLogits } from './generate';
import { GptGpu } from './gpt';
import { initParams } from './init';
import { type ModelConfig, baseParamSpecs } from './params';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await createNodeGpu();
});
afterAll(() => gpu?.destroy());

const cfg: ModelConfig = { vocabSize: 13, contextLength: 9, nLayer: 2, nHead: 2, nEmbd: 8 };

function buildModel(seed: number): GptGpu {
  const values = initParams(baseParamSpecs(cfg), seed);
  // GPT-2's std 0.02 gives near-uniform logits; widen wte so the choice is not a coin toss.
  for (const x of [values.get('wte')!]) for (let i = 0; i < x.length; i++) x[i] *= 25;
  const model = new GptGpu(gpu, cfg, { method: 'none' });
  model.load(values);
  return model;
}

/** Logits [T, V] of one forward over `seq`. */
async function fullLogits(model: GptGpu, seq: number[]): Promise<Float32Array> {
  const t = gpu.tensor([1, seq.length], Uint32Array.from(seq), 'tokens');
  model.forward(t, null, 1, seq.length);
  const out = await gpu.read(model.logitsTensor());
  gpu.release(t);
  return out;
}

describe('generate', () => {
  const seed = freshSeed();
  it(`greedy = argmax of a full forward's logits at each position, and deterministic (seed ${seed})`, async () => {
    const rng = new Rng(seed);
    const model = buildModel(seed);
    const prompt = Array.from({ length: 3 }, () => rng.int(0, cfg.vocabSize - 1));
    const gen = await generate(gpu, model, prompt, { maxNewTokens: 5, temperature: 0 });
    expect(gen.length).toBe(5);
    expect(await generate(gpu, model, prompt, { maxNewTokens: 5, temperature: 0 })).toEqual(gen);
    // Row p+n−1 of the finished sequence's logits predicts token n (causal: later tokens
    // cannot change it). The window during generation was padded; here it is not.
    const seq = [...prompt, ...gen];
    const V = cfg.vocabSize;
    const logits = await fullLogits(model, seq.slice(0, -1));
    const expected = gen.map((_, n) => argmax(logits.subarray((prompt.length + n - 1) * V, (prompt.length + n) * V)));
    expect(gen).toEqual(expected);
    model.destroy();
  });

  it(`crops to the last contextLength tokens when the sequence is longer (seed ${seed})`, async () => {
    const rng = new Rng(seed + 1);
    const model = buildModel(seed + 1);
    const prompt = Array.from({ length: cfg.contextLength + 2 }, () => rng.int(0, cfg.vocabSize - 1));
    const gen = await generate(gpu, model, prompt, { maxNewTokens: 3, temperature: 0 });
    const seq = [...prompt];
    const V = cfg.vocabSize;
    const T = cfg.contextLength;
    for (let n = 0; n < gen.length; n++) {
      const logits = await fullLogits(model, seq.slice(-T));
      const want = argmax(logits.subarray((T - 1) * V, T * V));
      expect(gen[n], `token ${n}`).toBe(want);
      seq.push(want);
    }
    model.destroy();
  });

  it(`seeded sampling reproduces; other seeds differ; top-k 1 is greedy (seed ${seed})`, async () => {
    const model = buildModel(seed + 2);
    const prompt = [1, 2];
    const opts = { maxNewTokens: 7, temperature: 1.5, topK: 0 };
    const a = await generate(gpu, model, prompt, { ...opts, rng: new Rng(seed) });
    const b = await generate(gpu, model, prompt, { ...opts, rng: new Rng(seed) });
    expect(b).toEqual(a);
    const others = [];
    for (let s = 1; s <= 3; s++) others.push((await generate(gpu, model, prompt, { ...opts, rng: new Rng(seed + s) })).join(','));
    // With ~13 live tokens at temperature 1.5, three more 7-token draws all equal to the
    // first has probability far below 1e-6.
    expect(others.some((o) => o !== a.join(','))).toBe(true);
    const greedy = await generate(gpu, model, prompt, { maxNewTokens: 7, temperature: 0 });
    expect(await generate(gpu, model, prompt, { maxNewTokens: 7, temperature: 2, topK: 1, rng: new Rng(seed) })).toEqual(greedy);
    // stopToken: stops right after emitting it.
    const stop = greedy[2];
    const stopped = await generate(gpu, model, prompt, { maxNewTokens: 7, temperature: 0, stopToken: stop });
    expect(stopped).toEqual(greedy.slice(0, greedy.indexOf(stop) + 1));
    model.destroy();
  });

  it(`KV cache and the full window pass give the same text: greedy and seeded sampling, into and past the context (seed ${seed})`, async () => {
    const model = buildModel(seed + 3);
    const rng = new Rng(seed + 3);
    const prompt = Array.from({ length: 3 }, () => rng.int(0, cfg.vocabSize - 1));
    // 3 + 10 tokens > contextLength 9: the last 4 steps slide the window (full recompute).
    const run = (cache: boolean, o: { temperature: number; rng?: Rng }) => generate(gpu, model, prompt, { maxNewTokens: 10, cache, ...o });
    const greedy = await run(true, { temperature: 0 });
    expect(greedy.length).toBe(10);
    expect(await run(false, { temperature: 0 })).toEqual(greedy);
    const sampled = await run(true, { temperature: 1.5, rng: new Rng(seed) });
    expect(await run(false, { temperature: 1.5, rng: new Rng(seed) })).toEqual(sampled);
    model.destroy();
  });

  it('rejects bad input with clear messages', async () => {
    const model = buildModel(1);
    await expect(generate(gpu, model, [], { maxNewTokens: 1 })).rejects.toThrow(/at least one token/);
    await expect(generate(gpu, model, [cfg.vocabSize], { maxNewTokens: 1 })).rejects.toThrow(/outside the vocabulary/);
    await expect(generate(gpu, model, [0], { maxNewTokens: 1, temperature: -1 })).rejects.toThrow(/temperature/);
    await expect(generate(gpu, model, [0], { maxNewTokens: 1, topK: 1.5 })).rejects.toThrow(/topK/);
    expect(await generate(gpu, model, [0], { maxNewTokens: 0 })).toEqual([]);
    model.destroy();
  });
});

describe('sampleFromLogits (CPU)', () => {
  const seed = freshSeed();
  it(`draws follow softmax(logits / temperature) over the top k (seed ${seed})`, () => {
    const rng = new Rng(seed);
    const V = 7;
    const logits = Array.from({ length: V }, () => rng.uniform(-2, 2));
    const temperature = 0.7;
    const topK = 4;
    const top = [...logits.keys()].sort((a, b) => logits[b] - logits[a]).slice(0, topK);
    const w = top.map((i) => Math.exp(logits[i] / temperature));
    const Z = w.reduce((a, b) => a + b, 0);
    const n = 20000;
    const counts = new Array(V).fill(0);
    for (let s = 0; s < n; s++) counts[sampleFromLogits(logits, temperature, topK, rng)]++;
    for (let i = 0; i < V; i++) {
      const j = top.indexOf(i);
      if (j < 0) {
        expect(counts[i], `token ${i} is outside the top ${topK}`).toBe(0);
        continue;
      }
      const p = w[j] / Z;
      // 5 binomial standard deviations: a false alarm has probability ~1e-6 per token.
      expect(Math.abs(counts[i] / n - p), `token ${i}`).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    }
    expect(sampleFromLogits([0, 3, 3, 1], 0, 0, rng)).toBe(1); // greedy: first of the tied maxima
    expect(() => sampleFromLogits([0, NaN], 1, 0, rng)).toThrow(/non-finite/);
  });
});
