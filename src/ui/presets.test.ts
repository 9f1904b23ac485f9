// Presets wait for the adapter's description: before it the page cannot tell a GPU from a
// software adapter, and a GPU's "Quick demo" on SwiftShader is a run of the better part of an
// hour (issue 12). Once it is known, Quick demo on a software adapter is sized to be quick.
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../model/params';
import { defaultConfig, type RunConfig } from '../train/config';
import { presetByName } from './settings';
import { memoryBudget, presetsWaitReason, runEta, sizePreset } from './sizing';
import { applyPreset, useApp } from './store';

// The shipped base model (public/models/base/config.json).
const SHIPPED: ModelConfig = { vocabSize: 89, contextLength: 64, nLayer: 2, nHead: 4, nEmbd: 64 };
const software = { isFallbackAdapter: true, limits: {} };

function quickOn(report: { isFallbackAdapter: boolean; limits: Record<string, number> }, valuesFor: boolean): RunConfig {
  const values = sizePreset('quick', presetByName('quick')!.values(valuesFor), defaultConfig(), SHIPPED, report, memoryBudget(report));
  return { ...defaultConfig(), ...values };
}

describe('presets before and after the adapter is known', () => {
  it('wait, saying why, until there is an adapter description', () => {
    expect(presetsWaitReason(null)).toMatch(/sized for the WebGPU adapter: available once it is found/);
    expect(presetsWaitReason(software)).toBeNull();
    expect(presetsWaitReason({ isFallbackAdapter: false })).toBeNull();
  });

  it('size Quick demo for a software adapter once it is known: about a minute, not the GPU sizes', () => {
    const sized = quickOn(software, true);
    const eta = runEta(SHIPPED, sized, true, null);
    expect(eta.kind).toBe('estimate');
    expect(eta.ms).toBeLessThan(3 * 60_000);
    // What a guess (a GPU's values) would have promised on the same software adapter.
    const guessed = runEta(SHIPPED, quickOn(software, false), true, null);
    expect(guessed.ms).toBeGreaterThan(10 * eta.ms);
    expect(guessed.ms).toBeGreaterThan(20 * 60_000);
  });
});

describe('the store applies a preset only once the adapter is known', () => {
  it('changes nothing before (a click that slipped through, a script), then sizes for the adapter', () => {
    const report = { vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallbackAdapter: true, features: [], limits: {} };
    useApp.setState({ gpu: { state: 'probing' }, config: defaultConfig(), base: { state: 'waiting', message: '', fraction: 0, info: null } });
    expect(applyPreset('quick')).toBe(false);
    expect(useApp.getState().config).toEqual(defaultConfig());
    useApp.setState({ gpu: { state: 'ok', report, description: 'SwiftShader (software fallback)' } });
    expect(applyPreset('quick')).toBe(true);
    expect(useApp.getState().config).toMatchObject({ steps: 40, batch: 4, seqLen: 32 });
  });
});
