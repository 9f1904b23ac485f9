// The experiment panels' pure rules: reading the fields, the tiny defaults being valid
// experiment settings, sweep lengths, the time left, the chart and export shapes, and
// which run counts as "the last adapted model".
import { describe, expect, it } from 'vitest';
import { resolveApproxConfig } from '../../experiments/approx_config';
import type { ApproxPoint } from '../../experiments/approx_error';
import { resolveNtkRegimeConfig, type NtkRegimePoint } from '../../experiments/ntk_regime';
import { defaultConfig } from '../../train/config';
import { newRun, type RunRecord } from '../runs';
import { freshSeed, Rng } from '../../util/rng';
import { approxConfigOf, approxExportRows, DEFAULT_GENERATE, etaMs, generateSettingsOf, lastAdaptedRun, ntkChartData, ntkConfigOf, ntkExportRows, parseIntList, sweepLengths, TINY_APPROX, TINY_NTK } from './logic';

const seed = freshSeed();

describe('approximation-error form', () => {
  it('the tiny defaults are valid settings, much smaller than the CLI defaults', () => {
    const r = approxConfigOf({ ...TINY_APPROX, maps: [...TINY_APPROX.maps], methods: [...TINY_APPROX.methods] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const c = resolveApproxConfig(r.value);
    expect(c).toMatchObject({ d: 4, L: 8, maxM: 256, trainMaxM: 4, steps: 30, seeds: 1 });
    expect(c.maps).toEqual(['elu1', 'taylor2']);
    expect(c.methods).toEqual(['closed', 'paper', 'robust']);
  });

  it('names every field that is not a number, and empty choices', () => {
    const r = approxConfigOf({ ...TINY_APPROX, d: '4.5', L: '', lr: 'abc', maps: [], methods: [] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(5);
    expect(r.errors.join('\n')).toMatch(/Head dimension d: enter a whole number \(got '4\.5'\)/);
    expect(r.errors.join('\n')).toMatch(/Queries per sequence L/);
    expect(r.errors.join('\n')).toMatch(/Adam step size: enter a number/);
    expect(r.errors.join('\n')).toMatch(/Feature maps: tick at least one/);
    expect(r.errors.join('\n')).toMatch(/Approximations: tick at least one/);
  });

  it('passes numbers through as typed (ranges are the experiment’s to check)', () => {
    const rng = new Rng(seed);
    const d = rng.int(1, 64);
    const maxM = rng.int(1, 5000);
    const r = approxConfigOf({ ...TINY_APPROX, d: ` ${d} `, maxM: String(maxM), lr: '1e-3', maps: ['taylor2'], methods: ['closed'] });
    expect(r.ok && r.value).toMatchObject({ d, maxM, lr: 1e-3, maps: ['taylor2'], methods: ['closed'] });
    const bad = approxConfigOf({ ...TINY_APPROX, d: '0', maps: ['elu1'], methods: ['closed'] });
    expect(bad.ok).toBe(true); // read fine …
    expect(() => resolveApproxConfig(bad.ok ? bad.value : {})).toThrow(/d must be an integer in \[1, 64\] \(got 0\)/); // … refused by the experiment
  });
});

describe('NTK-regime form', () => {
  it('the tiny defaults are valid settings', () => {
    const r = ntkConfigOf({ ...TINY_NTK, scalings: [...TINY_NTK.scalings] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const c = resolveNtkRegimeConfig(r.value);
    expect(c).toMatchObject({ ms: [4, 16, 64], steps: 6, batch: 2, seqLen: 16, evalBatches: 1, task: 'reverse' });
    // Synthetic examples (2·maxLen + 2 characters) fit the sequence length.
    expect(2 * c.taskMaxLen + 1).toBeLessThanOrEqual(c.seqLen);
  });

  it('synthetic string length follows the sequence length', () => {
    for (const T of [5, 6, 14, 33, 64]) {
      const r = ntkConfigOf({ ...TINY_NTK, seqLen: String(T) });
      expect(r.ok).toBe(true);
      if (r.ok) expect(2 * r.value.taskMaxLen! + 1).toBeLessThanOrEqual(Math.max(T, 5));
    }
  });

  it('parses lists of prefix lengths and says what is wrong', () => {
    expect(parseIntList('m', '4, 16,64')).toEqual({ ok: true, value: [4, 16, 64] });
    expect(parseIntList('m', ' 8 32\t128 ')).toEqual({ ok: true, value: [8, 32, 128] });
    expect(parseIntList('m', '')).toMatchObject({ ok: false, errors: [expect.stringMatching(/^m: enter at least one/)] });
    expect(parseIntList('m', '4, x')).toMatchObject({ ok: false, errors: [expect.stringMatching(/'x' is not a whole number/)] });
    expect(parseIntList('m', '4, -2')).toMatchObject({ ok: false, errors: [expect.stringMatching(/'-2' is not a whole number/)] });
    expect(parseIntList('m', '4, 2.5')).toMatchObject({ ok: false, errors: [expect.stringMatching(/'2.5'/)] });
    expect(parseIntList('m', '4, 8, 4')).toMatchObject({ ok: false, errors: ['m: 4 is listed twice'] });
    const r = ntkConfigOf({ ...TINY_NTK, ms: '4,,x', steps: 'two', scalings: [] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual([expect.stringMatching(/^Prefix lengths m: 'x'/), expect.stringMatching(/^Gradient-descent steps per run/), 'Parameterisations: tick at least one']);
  });

  it('chart data keeps finite losses and movement of finished runs only', () => {
    const pt = (scaling: 'ntk' | 'naive', m: number, over: Partial<NtkRegimePoint>): NtkRegimePoint => ({
      scaling, m, curve: [[0, 5], [1, 4.5], [2, 4]], initialLoss: 5, finalTrainLoss: 4, valLoss: 4.2, relMove: 0.1, relMoveKeys: 0.1, relMoveValues: 0.1,
      prefixMass: 0.5, steps: 2, state: 'done', lrKeys: 3, lrValues: 3 * m, keyStd: 1, valueStd: Math.sqrt(m), ...over,
    });
    const points = [pt('ntk', 4, {}), pt('naive', 4, { relMove: 0.3 }), pt('ntk', 16, { state: 'diverged', curve: [[0, 5], [1, null]], relMove: 2 }), pt('naive', 16, { relMove: null })];
    const d = ntkChartData(points);
    expect(d.curves.map((c) => c.points.length)).toEqual([3, 3, 1, 3]);
    expect(d.curves[2]).toEqual({ m: 16, scaling: 'ntk', points: [{ step: 0, loss: 5 }] });
    expect(d.movement).toEqual([
      { m: 4, scaling: 'ntk', relMove: 0.1 },
      { m: 4, scaling: 'naive', relMove: 0.3 },
    ]);
    const rows = ntkExportRows(points);
    expect(rows).toHaveLength(4);
    expect(rows[2]).toMatchObject({ scaling: 'ntk', m: 16, state: 'diverged', relMove: 2, lrValues: 48 });
    expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);
  });
});

describe('approximation export rows', () => {
  it('flat rows with nulls for the trained-only fields of closed-form points', () => {
    const p: ApproxPoint = { seed: 0, m: 8, method: 'closed', map: 'elu1', rel: 0.4, maxAbs: 0.2, relTarget: 0.1, effect: 0.3, beta: 0.6, ms: 5 };
    const q: ApproxPoint = { ...p, method: 'paper', initRel: 1, trainLoss: 0.01 };
    const rows = approxExportRows([p, q]);
    expect(rows[0]).toMatchObject({ method: 'closed', m: 8, rel: 0.4, initRel: null, trainLoss: null });
    expect(rows[1]).toMatchObject({ method: 'paper', initRel: 1, trainLoss: 0.01 });
    for (const r of rows) for (const v of Object.values(r)) expect(v === null || typeof v === 'number' || typeof v === 'string').toBe(true);
  });
});

describe('progress and sweeps', () => {
  it('time left scales the elapsed time by the share still to do', () => {
    const rng = new Rng(seed + 1);
    const total = rng.uniform(10, 1000);
    const done = rng.uniform(1, total);
    const el = rng.uniform(100, 1e5);
    expect(etaMs(done, total, el)).toBeCloseTo((el / done) * (total - done), 6);
    expect(etaMs(total, total, el)).toBe(0);
    expect(etaMs(0, total, el)).toBeNull();
    expect(etaMs(5, 0, el)).toBeNull();
    expect(etaMs(total + 1, total, el)).toBeNull();
    expect(etaMs(done, total, 0)).toBeNull();
  });

  it('sweep lengths are the powers of two up to the setting, then the setting', () => {
    expect(sweepLengths(16)).toEqual([1, 2, 4, 8, 16]);
    expect(sweepLengths(1)).toEqual([1]);
    expect(sweepLengths(12)).toEqual([1, 2, 4, 8, 12]);
    expect(sweepLengths(3)).toEqual([1, 2, 3]);
    expect(sweepLengths(0)).toEqual([]);
    expect(sweepLengths(NaN)).toEqual([]);
    const m = new Rng(seed + 2).int(1, 4096);
    const s = sweepLengths(m);
    expect(s[s.length - 1]).toBe(m);
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeGreaterThan(s[i - 1]);
    for (const x of s.slice(0, -1)) expect(Math.log2(x) % 1).toBe(0);
  });
});

describe('the last adapted model', () => {
  const run = (id: string, state: RunRecord['state'], over: Partial<RunRecord['config']> = {}, measured = true): RunRecord => ({
    ...newRun(id, id, { ...defaultConfig(), ...over }),
    state,
    train: measured ? [{ step: 1, loss: 3 }] : [],
  });

  it('is the newest finished or stopped run with metrics, never the base itself', () => {
    expect(lastAdaptedRun([])).toBeNull();
    const a = run('a', 'done');
    const b = run('b', 'stopped', { method: 'lora' });
    const c = run('c', 'running');
    const d = run('d', 'error');
    const e = run('e', 'done', { method: 'prefix', prefixLength: 0 });
    const note = run('base-change-1', 'done', {}, false);
    expect(lastAdaptedRun([a, b, c, d, e, note])?.id).toBe('b');
    expect(lastAdaptedRun([b, a])?.id).toBe('a');
    expect(lastAdaptedRun([c, d, e, note])).toBeNull();
    // An imported adapter has an evaluation but no training steps.
    const imported = { ...run('imp', 'done', {}, false), evals: [{ step: 0, val: 2, acc: null, mass: null }] };
    expect(lastAdaptedRun([a, imported])?.id).toBe('imp');
  });
});

describe('generation form', () => {
  it('the defaults read as numbers; each bad field is refused by its name', () => {
    expect(generateSettingsOf(DEFAULT_GENERATE)).toEqual({ ok: true, value: { maxNewTokens: 40, temperature: 0.8, topK: 0, seed: 1 } });
    const refused = (patch: Partial<typeof DEFAULT_GENERATE>) => {
      const r = generateSettingsOf({ ...DEFAULT_GENERATE, ...patch });
      return r.ok ? null : r.errors;
    };
    expect(refused({ prompt: '' })?.[0]).toMatch(/^Prompt:/);
    for (const maxNewTokens of ['', '0', '1001', '2.5']) expect(refused({ maxNewTokens })?.[0]).toMatch(/^Characters to generate:/);
    for (const temperature of ['-0.1', '101', 'x']) expect(refused({ temperature })?.[0]).toMatch(/^Temperature:/);
    for (const topK of ['-1', '1.5']) expect(refused({ topK })?.[0]).toMatch(/^Top-k:/);
    for (const seed of ['-1', String(2 ** 32)]) expect(refused({ seed })?.[0]).toMatch(/^Random draw:/);
    // Edges that are allowed.
    expect(refused({ maxNewTokens: '1000', temperature: '0', topK: '5', seed: String(2 ** 32 - 1) })).toBeNull();
  });
});
