import { describe, expect, it } from 'vitest';
import { configFromSearchParams, configToSearchParams, defaultConfig, describeChange, parseConfig } from './config';

describe('run config', () => {
  it('round-trips through a URL carrying only what differs from the defaults', () => {
    const c = { ...defaultConfig(), method: 'ntk' as const, prefixLength: 64, lr: 0.001, seed: 7 };
    const p = configToSearchParams(c);
    expect([...p.keys()].sort()).toEqual(['lr', 'method', 'prefixLength', 'seed']);
    const back = configFromSearchParams(new URLSearchParams(p.toString()));
    expect(back.issues).toEqual([]);
    expect(back.config).toEqual(c);
  });
  it('validates and clamps untrusted values, reporting each issue', () => {
    const { config, issues } = parseConfig({ prefixLength: '999999', batch: '-3', method: 'magic', lr: 'abc', steps: '12.7', evil: '<script>' });
    expect(config.prefixLength).toBe(65536);
    expect(config.batch).toBe(1);
    expect(config.method).toBe('prefix');
    expect(config.lr).toBe(defaultConfig().lr);
    expect(config.steps).toBe(13);
    expect(issues.map((i) => i.field).sort()).toEqual(['batch', 'evil', 'lr', 'method', 'prefixLength', 'steps']);
    expect(config).not.toHaveProperty('evil');
  });
  it('names a run by what changed', () => {
    const a = defaultConfig();
    expect(describeChange(a, { ...a, prefixLength: 64 })).toBe('m 16→64');
    expect(describeChange(a, { ...a, method: 'lora', loraRank: 4 })).toBe('method prefix→lora, r 8→4');
    expect(describeChange(null, a)).toBe('prefix m=16');
  });
});
