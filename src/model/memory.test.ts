// The GPU-bytes estimate a run is checked against before anything loads: its arithmetic on
// GPT-2's shapes, and the refusals with numbers. (memory.gpu.test.ts compares it with the
// runtime's own byte count after a real step.)
import { describe, expect, it } from 'vitest';
import { checkFits, checkRunFits, estimateMemory, formatBytes } from './memory';
import type { ModelConfig } from './params';

const GPT2: ModelConfig = { vocabSize: 50257, contextLength: 1024, nLayer: 12, nHead: 12, nEmbd: 768 };
const MEDIUM: ModelConfig = { vocabSize: 50257, contextLength: 1024, nLayer: 24, nHead: 16, nEmbd: 1024 };
const GiB = 1024 ** 3;

describe('estimateMemory', () => {
  it("counts gpt2's 124,439,808 parameters and its largest tensor, wte", () => {
    const e = estimateMemory(GPT2, { method: 'none' }, 1, 128, false);
    expect(e.params).toBe(124_439_808 * 4);
    expect(e.optimizer).toBe(0);
    expect(e.largestTensor).toEqual({ name: 'wte', bytes: 50257 * 768 * 4 });
  });

  it('adds gradients and two moments for what trains: all of it under full fine-tuning, the adapter otherwise', () => {
    const full = estimateMemory(GPT2, { method: 'full' }, 1, 128, true);
    expect(full.optimizer).toBe(3 * 124_439_808 * 4);
    const lora = estimateMemory(GPT2, { method: 'lora', rank: 8, alpha: 16 }, 1, 128, true);
    // A [8, 768] and B [2304, 8] per layer.
    expect(lora.optimizer).toBe(3 * 12 * (8 * 768 + 2304 * 8) * 4);
    expect(lora.params).toBe((124_439_808 + 12 * (8 * 768 + 2304 * 8)) * 4);
  });

  it('grows activations linearly in B·T and keeps no B·T×V logits', () => {
    const a = estimateMemory(GPT2, { method: 'prefix', prefixLength: 16 }, 1, 128, true);
    const b = estimateMemory(GPT2, { method: 'prefix', prefixLength: 16 }, 2, 128, true);
    expect(b.activations).toBe(2 * a.activations);
    expect(a.activations).toBeLessThan(128 * 50257 * 4 * 4); // far below 4× the logits alone
  });
});

describe('the decode line (generation with the KV cache)', () => {
  it("is 0 without generation, and for gpt2 at a full context holds 2 × 12 layers × 1024 × 768 floats of cache plus the step buffers", () => {
    expect(estimateMemory(GPT2, { method: 'none' }, 1, 128, false).decode).toBe(0);
    const e = estimateMemory(GPT2, { method: 'none' }, 1, 1, false, { generation: { promptTokens: 1000, maxNewTokens: 25 } });
    const cache = 2 * 12 * 1024 * 768 * 4;
    // Step buffers for the 1000-token prompt, per row: x0, wpe, ln1, qkv (3), q, o, att,
    // resid2, ln2, fc (4), fcg (4), out, lnf = 21C; 3 LayerNorms' mean and rstd; lse (H).
    const step = 1000 * (21 * 768 + 6 + 12) * 4;
    expect(e.decode).toBe(cache + step + 50257 * 4 + 12); // logits [1, V] rounded up to 16 bytes
    expect(e.total - estimateMemory(GPT2, { method: 'none' }, 1, 1, false).total).toBe(e.decode);
  });
  it('sizes the cache as generate() does and adds NTK terms per layer', () => {
    const small = estimateMemory(GPT2, { method: 'none' }, 1, 1, false, { generation: { promptTokens: 8, maxNewTokens: 9 } });
    expect(small.decode).toBeLessThan(2 * 12 * 17 * 768 * 4 + 8 * 800 * 768 * 4); // capacity 16, not 1024
    const ntk = estimateMemory(GPT2, { method: 'ntk', featureMap: 'elu1', kParam: 'exp', rank: 4 }, 1, 1, false, { generation: { promptTokens: 8, maxNewTokens: 9 } });
    // k̃ [12, 64] and the formed low-rank Z [12, 64, 64] per layer.
    expect(ntk.decode - small.decode).toBe(12 * (12 * 64 + 12 * 64 * 64) * 4);
  });
  it('names the line when a generation does not fit', () => {
    const dev = { maxBufferSize: 4 * GiB, maxStorageBufferBindingSize: 2 * GiB, budgetBytes: 0.55 * GiB };
    const run = { adapter: { method: 'none' } as const, batch: 1, seqLen: 1, training: false };
    expect(checkRunFits(GPT2, run, dev, 'gpt2')).toBeNull();
    expect(checkRunFits(GPT2, { ...run, generation: { promptTokens: 1000, maxNewTokens: 24 } }, dev, 'gpt2')).toMatch(/KV cache and decode 1\d\d MB/);
  });
});

describe('checkFits', () => {
  const roomy = { maxBufferSize: 4 * GiB, maxStorageBufferBindingSize: 2 * GiB, budgetBytes: 8 * GiB };
  it('lets gpt2 + LoRA at B 1 × T 128 fit in 8 GB', () => {
    expect(checkFits(estimateMemory(GPT2, { method: 'lora', rank: 8, alpha: 16 }, 1, 128, true), roomy, 'run')).toBeNull();
  });
  it('refuses full fine-tuning of gpt2-medium in 4 GiB with every part in numbers', () => {
    const msg = checkFits(estimateMemory(MEDIUM, { method: 'full' }, 1, 128, true), { ...roomy, budgetBytes: 4 * GiB }, 'full fine-tuning of gpt2-medium');
    expect(msg).toMatch(/needs about 5\.\d\d GB .*parameters 1\.42 GB, optimizer 4\.2\d GB.*more than the 4\.29 GB allowed/);
  });
  it('refuses a tensor over maxBufferSize, naming it', () => {
    expect(checkFits(estimateMemory(MEDIUM, { method: 'none' }, 1, 8, false), { ...roomy, maxBufferSize: 128 * 1024 ** 2 }, 'load')).toMatch(/tensor wte needs 206 MB in one buffer, but this GPU's largest buffer is 134 MB/);
  });
  it('refuses a batch whose MLP activation exceeds one binding, saying how many tokens fit', () => {
    const msg = checkFits(estimateMemory(MEDIUM, { method: 'lora', rank: 8, alpha: 16 }, 16, 1024, true), { ...roomy, maxStorageBufferBindingSize: 128 * 1024 ** 2, budgetBytes: 100 * GiB }, 'run');
    expect(msg).toMatch(/16384 tokens per batch need 268 MB in one binding, over this GPU's 134 MB: use at most 8192 tokens per batch/);
  });
});

describe('checkRunFits', () => {
  it('checks a planned run from the config alone, capping the sequence at the context as the trainer does', () => {
    const dev = { maxBufferSize: 4 * GiB, maxStorageBufferBindingSize: 2 * GiB, budgetBytes: 4 * GiB };
    const run = { adapter: { method: 'full' } as const, batch: 1, seqLen: 4096, training: true };
    expect(checkRunFits(MEDIUM, run, dev, 'gpt2-medium')).toMatch(/^gpt2-medium \(training, full, batch 1 × sequence 1024\) needs about 7\.\d\d GB .*more than the 4\.29 GB allowed/);
    expect(checkRunFits(MEDIUM, { ...run, adapter: { method: 'lora', rank: 8, alpha: 16 }, seqLen: 128 }, dev, 'gpt2-medium')).toBeNull();
  });
});

describe('formatBytes', () => {
  it.each([[0, '0 B'], [999, '999 B'], [1000, '1.00 kB'], [154_389_504, '154 MB'], [1.5e9, '1.50 GB']])('%d → %s', (n, s) => {
    expect(formatBytes(n)).toBe(s);
  });
});
