// The pure parts of a run's model build on the CPU: the adapter a configuration asks for,
// the settings a base cannot take, and buildAdaptedModel's refusals before any GPU work (a
// GPU stand-in that fails on first use shows where the build reaches the device).
import { describe, expect, it } from 'vitest';
import type { Task } from '../data';
import type { Gpu } from '../gpu/runtime';
import { baseParamSpecs, type ModelConfig } from '../model/params';
import { adapterSpecOf, buildAdaptedModel, checkAgainstBase } from './adapt';
import { defaultConfig, type RunConfig } from './config';
import { runSeqLen, validationSeed } from './trainer';

const rc = (o: Partial<RunConfig>): RunConfig => ({ ...defaultConfig(), ...o });
const model = (nEmbd: number, nHead: number): ModelConfig => ({ vocabSize: 11, contextLength: 8, nLayer: 1, nHead, nEmbd });

/** A Gpu whose every use throws 'gpu used': the build got past its host-side checks. */
const noGpu = new Proxy({} as Gpu, {
  get() {
    throw new Error('gpu used');
  },
});

const baseOf = (c: ModelConfig) => ({ config: c, params: new Map(baseParamSpecs(c).map((s) => [s.name, new Float32Array(s.numel)])) });

describe('adapterSpecOf', () => {
  it('takes each method its own settings, and only those', () => {
    const o = { prefixLength: 7, featureMap: 'taylor2', kParam: 'exp', ntkRank: 3, loraRank: 5, loraAlpha: 9 } as const;
    expect(adapterSpecOf(rc({ ...o, method: 'full' }))).toEqual({ method: 'full' });
    expect(adapterSpecOf(rc({ ...o, method: 'prefix' }))).toEqual({ method: 'prefix', prefixLength: 7 });
    expect(adapterSpecOf(rc({ ...o, method: 'ntk' }))).toEqual({ method: 'ntk', featureMap: 'taylor2', kParam: 'exp', rank: 3 });
    expect(adapterSpecOf(rc({ ...o, method: 'lora' }))).toEqual({ method: 'lora', rank: 5, alpha: 9 });
  });
});

describe('checkAgainstBase', () => {
  it('NTK-Attention up to head dimension 64; LoRA rank up to the width', () => {
    expect(checkAgainstBase(rc({ method: 'ntk' }), model(128, 2))).toBeNull(); // d = 64
    expect(checkAgainstBase(rc({ method: 'ntk' }), model(130, 2))).toBe('NTK-Attention supports head dimensions up to 64; this base has 65');
    for (const method of ['full', 'prefix', 'lora'] as const) expect(checkAgainstBase(rc({ method, loraRank: 1 }), model(130, 2))).toBeNull();
    expect(checkAgainstBase(rc({ method: 'lora', loraRank: 16 }), model(16, 2))).toBeNull();
    expect(checkAgainstBase(rc({ method: 'lora', loraRank: 17 }), model(16, 2))).toBe('loraRank 17 exceeds the model width 16');
    for (const method of ['full', 'prefix', 'ntk'] as const) expect(checkAgainstBase(rc({ method, loraRank: 17 }), model(16, 2))).toBeNull();
  });
});

describe('buildAdaptedModel before the GPU', () => {
  const c = model(16, 2);

  it('refuses a setting the base cannot take, and a missing or mis-sized base tensor, naming it', async () => {
    await expect(buildAdaptedModel(noGpu, baseOf(c), rc({ method: 'lora', loraRank: 17 }))).rejects.toThrow('loraRank 17 exceeds the model width 16');
    const missing = baseOf(c);
    missing.params.delete('ln_f.weight');
    await expect(buildAdaptedModel(noGpu, missing, rc({ method: 'lora', loraRank: 4 }))).rejects.toThrow('base model parameter ln_f.weight: expected 16 values, got none');
    const short = baseOf(c);
    short.params.set('wte', new Float32Array(3));
    await expect(buildAdaptedModel(noGpu, short, rc({ method: 'full' }))).rejects.toThrow(`base model parameter wte: expected ${11 * 16} values, got 3`);
    // Everything in place: the build goes on to the device.
    await expect(buildAdaptedModel(noGpu, baseOf(c), rc({ method: 'lora', loraRank: 4 }))).rejects.toThrow('gpu used');
  });

  it("a 'from-text' prefix needs the task; an empty or random prefix does not", async () => {
    await expect(buildAdaptedModel(noGpu, baseOf(c), rc({ method: 'prefix', prefixLength: 4, prefixInit: 'from-text' }))).rejects.toThrow(
      "prefixInit 'from-text' needs the task whose text initialises the prefix",
    );
    await expect(buildAdaptedModel(noGpu, baseOf(c), rc({ method: 'prefix', prefixLength: 0, prefixInit: 'from-text' }))).rejects.toThrow('gpu used');
    // With the task given, it goes on to read it through the base on the device.
    const task = { kind: 'text', name: 'stand-in' } as unknown as Task;
    await expect(buildAdaptedModel(noGpu, baseOf(c), rc({ method: 'prefix', prefixLength: 4, prefixInit: 'from-text' }), task)).rejects.toThrow('gpu used');
    await expect(buildAdaptedModel(noGpu, baseOf(c), rc({ method: 'prefix', prefixLength: 4, prefixInit: 'random' }))).rejects.toThrow('gpu used');
    await expect(buildAdaptedModel(noGpu, baseOf(c), rc({ method: 'lora', loraRank: 4, prefixInit: 'from-text' }))).rejects.toThrow('gpu used');
  });
});

describe('trainer: the pure parts', () => {
  it('runSeqLen is the smallest of the asked length, the context and the task maximum', () => {
    expect(runSeqLen({ seqLen: 5 }, { contextLength: 9 }, { maxSeqLen: 7 })).toBe(5);
    expect(runSeqLen({ seqLen: 9 }, { contextLength: 5 }, { maxSeqLen: 7 })).toBe(5);
    expect(runSeqLen({ seqLen: 9 }, { contextLength: 7 }, { maxSeqLen: 5 })).toBe(5);
  });

  it('validationSeed is the seed xor 0x5eed5eed as an unsigned 32-bit integer', () => {
    expect(validationSeed(0)).toBe(1592614637); // 0x5eed5eed
    expect(validationSeed(0xffffffff)).toBe(2702352658); // 0xa112a112
    expect(validationSeed(-1)).toBe(2702352658);
    expect(validationSeed(1)).toBe(1592614636);
  });
});
