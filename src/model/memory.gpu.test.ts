// The memory estimate against what the runtime really allocates (Gpu.memory(): bytes of
// live tensors, and the peak): the decode line against decodeStep's KV cache, NTK terms,
// step buffers and logits, and the LM head's scratch (with matmul's transposed wte block
// on software adapters) against lmHeadForward's peak. Tiny shapes, exact byte counts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeGpu } from '../gpu/node';
import type { Gpu } from '../gpu/runtime';
import { lmHeadForward, lmHeadScratchFloats } from '../kernels/lm_head';
import { GptGpu } from './gpt';
import { initParams } from './init';
import { decodeBytes, estimateMemory } from './memory';
import { type AdapterSpec, type ModelConfig, adapterParamSpecs, baseParamSpecs } from './params';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await createNodeGpu();
});
afterAll(() => gpu?.destroy());

// d = 6 and odd sizes, so the 16-byte rounding of small buffers matters.
const cfg: ModelConfig = { vocabSize: 23, contextLength: 12, nLayer: 2, nHead: 2, nEmbd: 12 };

const CASES: [string, AdapterSpec][] = [
  ['base', { method: 'none' }],
  ['ntk taylor2 low rank', { method: 'ntk', featureMap: 'taylor2', kParam: 'softplus', rank: 2 }],
  ['ntk elu1 full rank', { method: 'ntk', featureMap: 'elu1', kParam: 'exp', rank: 0 }],
  ['lora', { method: 'lora', rank: 3, alpha: 4 }],
];

function model(a: AdapterSpec): GptGpu {
  const m = new GptGpu(gpu, cfg, a);
  m.load(initParams([...baseParamSpecs(cfg), ...adapterParamSpecs(cfg, a)], 5));
  return m;
}

describe('decode line = the bytes decodeStep allocates', () => {
  for (const [name, a] of CASES) {
    it(`${name}: a 5-token prompt + 4 new, and a window sliding past the context`, async () => {
      const m = model(a);
      const prompt = gpu.tensor([5], Uint32Array.of(1, 2, 3, 4, 5), 'prompt');
      const window = gpu.tensor([cfg.contextLength], new Uint32Array(cfg.contextLength).fill(7), 'window');
      const one = gpu.tensor([1], Uint32Array.of(3), 'one');
      const before = gpu.memory().liveBytes;
      // As generate() calls it: capacity min(context, prompt + new − 1).
      m.decodeStep(prompt, 0, 5 + 4 - 1);
      const est = decodeBytes(cfg, a, { promptTokens: 5, maxNewTokens: 4 });
      expect(gpu.memory().liveBytes - before).toBe(est);
      expect(estimateMemory(cfg, a, 1, 1, false, { generation: { promptTokens: 5, maxNewTokens: 4 } }).decode).toBe(est);
      m.decodeStep(one, 5); // one-row step buffers replace the prompt's: below the peak
      expect(gpu.memory().liveBytes - before).toBeLessThan(est);
      m.releaseDecode();
      // Past the context every step reruns the whole window from position 0.
      m.decodeStep(prompt, 0, cfg.contextLength);
      m.decodeStep(window, 0, cfg.contextLength);
      expect(gpu.memory().liveBytes - before).toBe(decodeBytes(cfg, a, { promptTokens: 5, maxNewTokens: cfg.contextLength }));
      m.destroy();
      gpu.release(prompt, window, one);
    });
  }
});

describe("the LM head's scratch = lmHeadForward's peak", () => {
  // 72 rows (≥ 64: matmul copies the wte block transposed on software adapters), V over one
  // 8192-column block; every buffer a multiple of 16 bytes, so floats × 4 is exact.
  it.each([
    [72, 16, 9000],
    [8, 12, 100], // few rows: no transposed copy on any adapter
  ])('N %d, C %d, V %d', async (N, C, V) => {
    const x = gpu.tensor([N, C], undefined, 'x');
    const wte = gpu.tensor([V, C], new Float32Array(V * C), 'wte');
    const targets = gpu.tensor([N], new Int32Array(N), 'targets');
    const losses = gpu.tensor([N], undefined, 'losses');
    const lse = gpu.tensor([N], undefined, 'lse');
    const stats = gpu.tensor([2], undefined, 'stats');
    gpu.resetPeak();
    const live = gpu.memory().liveBytes;
    lmHeadForward(gpu, { x, wte, targets, losses, lse, stats }, { N, C, V });
    const limits = { align: gpu.device.limits.minStorageBufferOffsetAlignment, maxBinding: gpu.device.limits.maxStorageBufferBindingSize };
    const s = lmHeadScratchFloats({ N, C, V }, gpu.report.isFallbackAdapter, limits);
    expect(s.transposed > 0).toBe(gpu.report.isFallbackAdapter && N >= 64);
    expect(gpu.memory().peakBytes - live).toBe((s.block + s.partials + s.transposed) * 4);
    expect(gpu.memory().liveBytes).toBe(live);
    gpu.release(x, wte, targets, losses, lse, stats);
  });
});
