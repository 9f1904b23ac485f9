// Edge cases of the run config's parsing (every message, the string fields, numbers given
// as strings with spaces, bounds exactly at min/max), run names, the schedule's end when
// warm-up fills the run, and RunControl called with nobody waiting.
import { describe, expect, it } from 'vitest';
import { defaultConfig, describeChange, parseConfig, parseField } from './config';
import { RunControl } from './control';
import { learningRate } from './schedule';

describe('parseField', () => {
  it('enums: a listed choice as is, anything else the default with a message naming the choices', () => {
    expect(parseField('method', 'lora')).toEqual({ value: 'lora' });
    expect(parseField('method', 'LoRA')).toEqual({ value: 'prefix', issue: "method: 'LoRA' is not one of full, prefix, ntk, lora; using prefix" });
  });

  it('strings: 1 to maxLength characters, else the default with a message', () => {
    expect(parseField('task', 'reverse')).toEqual({ value: 'reverse' });
    expect(parseField('task', 'x'.repeat(64))).toEqual({ value: 'x'.repeat(64) });
    expect(parseField('task', 'x')).toEqual({ value: 'x' });
    for (const bad of ['', 'x'.repeat(65)]) expect(parseField('task', bad)).toEqual({ value: 'sotu', issue: 'task: must be 1-64 characters; using sotu' });
    // A number is a string field's text, not a number.
    expect(parseField('task', 12)).toEqual({ value: '12' });
  });

  it('numbers: strings with spaces, rounding of ints (said), floats kept, not-a-number said', () => {
    expect(parseField('steps', ' 30 ')).toEqual({ value: 30, issue: undefined });
    expect(parseField('steps', 30)).toEqual({ value: 30, issue: undefined });
    expect(parseField('steps', '30.4')).toEqual({ value: 30, issue: 'steps: 30.4 rounded to 30' });
    expect(parseField('lr', '0.0015')).toEqual({ value: 0.0015, issue: undefined });
    for (const bad of ['', '  ', 'abc', 'Infinity', NaN]) {
      expect(parseField('steps', bad)).toEqual({ value: 200, issue: `steps: '${String(bad)}' is not a number; using 200` });
    }
  });

  it('bounds are inclusive: min and max pass unchanged, one beyond is clamped with a message', () => {
    expect(parseField('batch', 1)).toEqual({ value: 1, issue: undefined });
    expect(parseField('batch', 512)).toEqual({ value: 512, issue: undefined });
    expect(parseField('batch', 0)).toEqual({ value: 1, issue: 'batch: 0 is outside 1…512; clamped to 1' });
    expect(parseField('batch', 513)).toEqual({ value: 512, issue: 'batch: 513 is outside 1…512; clamped to 512' });
    expect(parseField('minLrRatio', 0)).toEqual({ value: 0, issue: undefined });
    expect(parseField('minLrRatio', 1)).toEqual({ value: 1, issue: undefined });
  });
});

describe('parseConfig and describeChange', () => {
  it('reports an unknown key by name and ignores it', () => {
    const { config, issues } = parseConfig({ stepz: 3, steps: '7' });
    expect(issues).toEqual([{ field: 'stepz', message: "unknown setting 'stepz' ignored" }]);
    expect(config).toEqual({ ...defaultConfig(), steps: 7 });
  });

  it('names a first run by its method, and every short field name', () => {
    const a = defaultConfig();
    expect(describeChange(null, { ...a, method: 'ntk' })).toBe('ntk');
    expect(describeChange(a, a)).toBe('repeat');
    expect(
      describeChange(a, { ...a, loraRank: 4, loraAlpha: 8, featureMap: 'taylor2', kParam: 'abs', ntkRank: 2 }),
    ).toBe('φ elu1→taylor2, k exp→abs, s 0→2, r 8→4, α 16→8');
  });
});

describe('schedule end and RunControl without a waiter', () => {
  it('a run whose warm-up fills it ends at minLr on its last step', () => {
    const s = { lr: 1, minLr: 0.1, warmup: 10, steps: 10 };
    expect(learningRate(s, 9)).toBe(1);
    expect(learningRate(s, 10)).toBe(0.1);
  });

  it('resume, step and stop with nobody waiting do not throw; the flags say the state', async () => {
    const c = new RunControl();
    expect([c.isPaused, c.isStopped]).toEqual([false, false]);
    c.resume();
    c.step();
    c.pause();
    expect(c.isPaused).toBe(true);
    // The step granted before is used by the next checkpoint.
    expect(await c.checkpoint()).toBe(true);
    c.stop();
    expect(c.isStopped).toBe(true);
    expect(await c.checkpoint()).toBe(false);
  });
});
