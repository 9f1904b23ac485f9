// Runs sized to the base and the adapter: the memory budget and where it comes from, the
// refusal with numbers, presets for a GPT-2 on a software adapter, and the ETA's two kinds.
import { beforeEach, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../model/params';
import { defaultConfig, type RunConfig } from '../train/config';
import { PRESETS } from './settings';
import { connectEngine } from './route';
import { isLargeModel, memoryBudget, runEta, runFit, sizePreset } from './sizing';
import { setConfig, startRun, useApp } from './store';
import { fakeWorker } from './worker/fakeWorker';
import type { BaseInfo, FromWorker, ToWorker } from './worker/protocol';

const GPT2: ModelConfig = { vocabSize: 50257, contextLength: 1024, nLayer: 12, nHead: 12, nEmbd: 768 };
const TINY: ModelConfig = { vocabSize: 80, contextLength: 32, nLayer: 2, nHead: 4, nEmbd: 64 };
const software = { isFallbackAdapter: true, limits: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30 } };
const hardware = { isFallbackAdapter: false, limits: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30 } };
const cfg = (over: Partial<RunConfig> = {}): RunConfig => ({ ...defaultConfig(), ...over });
const preset = (name: string) => PRESETS.find((p) => p.name === name)!;

describe('memory budget', () => {
  it('takes navigator.deviceMemory on a software adapter, else a 4 GB default, and says which', () => {
    expect(memoryBudget(software, 8)).toMatchObject({ bytes: 8e9, source: expect.stringContaining('navigator.deviceMemory 8 GB') });
    expect(memoryBudget(software, undefined)).toMatchObject({ bytes: 4e9, source: expect.stringContaining('does not say') });
    expect(memoryBudget(hardware, 8)).toMatchObject({ bytes: 4e9, source: expect.stringContaining('WebGPU does not report') });
  });
});

describe('run fit', () => {
  it('refuses full fine-tuning of GPT-2 at batch 16 × 1024 with the numbers, and passes a prefix run at 1 × 32', () => {
    const budget = memoryBudget(hardware);
    const big = runFit(GPT2, cfg({ method: 'full', batch: 16, seqLen: 1024 }), hardware, budget);
    expect(big.problem).toMatch(/needs about \d[\d.]* GB .*more than the 4\.00 GB allowed/);
    const small = runFit(GPT2, cfg({ method: 'prefix', batch: 1, seqLen: 32 }), hardware, budget);
    expect(small.problem).toBeNull();
    // Weights alone are ~498 MB in float32; the estimate is at least that.
    expect(small.estimate.total).toBeGreaterThan(124e6 * 4);
  });

  it('refuses a tensor larger than the adapter allows in one buffer', () => {
    const r = runFit(GPT2, cfg({ batch: 1, seqLen: 32 }), { isFallbackAdapter: false, limits: { maxBufferSize: 64 * 2 ** 20, maxStorageBufferBindingSize: 64 * 2 ** 20 } }, memoryBudget(hardware));
    expect(r.problem).toContain('tensor wte needs 154');
  });
});

describe('presets sized to the model and adapter', () => {
  it('makes Tiny tiny for a GPT-2 on a software adapter: batch 1, 32 tokens, a few steps', () => {
    expect(isLargeModel(GPT2)).toBe(true);
    const v = sizePreset('tiny', preset('tiny').values(true), cfg(), GPT2, software, memoryBudget(software));
    expect(v).toMatchObject({ batch: 1, seqLen: 32 });
    expect(v.steps).toBeLessThanOrEqual(6);
  });

  it('leaves the small base its presets, with the sequence clamped to its context', () => {
    expect(isLargeModel(TINY)).toBe(false);
    expect(sizePreset('tiny', preset('tiny').values(true), cfg(), TINY, software, memoryBudget(software))).toEqual(preset('tiny').values(true));
    expect(sizePreset('paper', preset('paper').values(false), cfg(), TINY, hardware, memoryBudget(hardware)).seqLen).toBe(32);
  });

  it('halves the batch until the run fits the budget', () => {
    const budget = { bytes: 1.2e9, source: 'test' };
    const v = sizePreset('paper', preset('paper').values(false), cfg({ method: 'lora' }), GPT2, hardware, budget);
    expect(v.batch).toBeLessThan(16);
    expect(runFit(GPT2, cfg({ method: 'lora', ...v }), hardware, budget).problem).toBeNull();
    // One batch size more would not have fitted.
    expect(runFit(GPT2, cfg({ method: 'lora', ...v, batch: v.batch! * 2 }), hardware, budget).problem).not.toBeNull();
  });
});

describe('ETA', () => {
  it('is labelled an estimate before any step ran, slower on a software adapter', () => {
    const c = cfg({ batch: 1, seqLen: 32, steps: 4, evalEvery: 2, evalBatches: 1 });
    const sw = runEta(GPT2, c, true, null);
    const hw = runEta(GPT2, c, false, null);
    expect(sw.kind).toBe('estimate');
    expect(sw.note).toContain('0.25 GFLOP/s');
    expect(sw.ms).toBeGreaterThan(hw.ms * 10);
    // GPT-2's forward alone is ~2·124M FLOPs per token: 4 steps of 32 tokens take minutes at 0.25 GFLOP/s.
    expect(sw.ms).toBeGreaterThan(60_000);
  });

  it('uses a measured step time for the same method, scaled by tokens per batch', () => {
    const c = cfg({ method: 'prefix', batch: 2, seqLen: 32, steps: 10 });
    const e = runEta(GPT2, c, true, { msPerStep: 500, tokens: 32, method: 'prefix' });
    expect(e).toMatchObject({ kind: 'measured', ms: 500 * 2 * 10 });
    expect(runEta(GPT2, c, true, { msPerStep: 500, tokens: 32, method: 'lora' }).kind).toBe('estimate');
  });
});

describe('the store with a large base', () => {
  const info = (fingerprint: string, modelConfig: ModelConfig): BaseInfo => ({ source: 'files', modelConfig, params: 0, vocabSize: modelConfig.vocabSize, fingerprint, openedFrom: 'gpt2', format: 'huggingface', ms: 0 });
  const adapter = (isFallbackAdapter: boolean) =>
    handleWorkerMessage({ type: 'adapter', description: 't', report: { vendor: 'v', architecture: 'a', device: '', description: '', isFallbackAdapter, features: [], limits: hardware.limits } });
  let sent: ToWorker[];
  let handleWorkerMessage: (m: FromWorker) => void;
  beforeEach(() => {
    const w = fakeWorker();
    sent = w.sent;
    handleWorkerMessage = w.reply;
    connectEngine(w.client);
    useApp.setState({ runs: [], activeRunId: null, config: defaultConfig(), notices: [], runRefusal: null, base: { state: 'waiting', message: '', fraction: 0, info: null } });
  });

  it('turns the settings into the tiny preset for a GPT-2 on a software adapter, and says so', () => {
    adapter(true);
    handleWorkerMessage({ type: 'base-ready', info: info('aaaa', GPT2) });
    expect(useApp.getState().config).toMatchObject({ batch: 1, seqLen: 32 });
    expect(useApp.getState().config.steps).toBeLessThanOrEqual(6);
    expect(useApp.getState().notices.map((n) => n.text).join(' ')).toMatch(/Tiny preset sized for it \(batch 1, sequence length 32, \d+ steps/);
  });

  it('refuses a run that will not fit with the numbers, and sends nothing', () => {
    adapter(false);
    handleWorkerMessage({ type: 'base-ready', info: info('bbbb', GPT2) });
    setConfig({ method: 'full', batch: 64, seqLen: 1024 });
    expect(startRun()).toBeNull();
    expect(useApp.getState().runRefusal).toMatch(/needs about [\d.]+ GB .*more than the 4\.00 GB allowed/);
    expect(sent.some((m) => m.type === 'start')).toBe(false);
    setConfig({ method: 'prefix', batch: 1, seqLen: 32 });
    expect(useApp.getState().runRefusal).toBeNull();
    expect(startRun()).not.toBeNull();
    expect(sent.filter((m) => m.type === 'start')).toHaveLength(1);
  });
});
