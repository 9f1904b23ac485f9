import { describe, expect, it } from 'vitest';
import { Rng, freshSeed } from '../../util/rng';
import { approxModel, costPanel, heatmapModel, lossCurvesModel, lossCurvesRows, lossVsPrefixModel, regimeModel } from './data';
import { fitPowerLaw, formatSlope } from './fit';
import { byteUnit, fmtBytes, fmt, logDomain, logTicks10, logTicks2, niceTicks } from './format';
import type { RunSeries } from './types';

const seed = freshSeed();
const rng = new Rng(seed);

function randomRuns(nRuns: number): RunSeries[] {
  return Array.from({ length: nRuns }, (_, r) => {
    const steps = [...new Set(Array.from({ length: rng.int(1, 12) }, () => rng.int(0, 60)))].sort((a, b) => a - b);
    const pick = (): number | undefined => {
      const t = rng.int(0, 9);
      if (t === 0) return undefined;
      if (t === 1) return NaN;
      if (t === 2) return -rng.next(); // non-positive: hidden on log axes
      if (t === 3) return 0;
      return rng.uniform(0.1, 5);
    };
    const run: RunSeries = {
      id: `id${r}`,
      name: `run ${r}`,
      points: steps.map((step) => ({ step, train: pick(), val: pick(), acc: rng.int(0, 2) ? rng.next() : null })),
    };
    if (rng.int(0, 1)) run.diverged = { step: rng.int(0, 70), message: `NaN loss ${'x'.repeat(rng.int(0, 60))}` };
    return run;
  });
}

describe(`lossCurvesModel (seed ${seed})`, () => {
  it('merges every drawable value by step, hides what a log axis cannot show', () => {
    for (let trial = 0; trial < 25; trial++) {
      const runs = randomRuns(rng.int(1, 4));
      for (const log of [false, true]) {
        const model = lossCurvesModel(runs, 'loss', log);
        const steps = model.rows.map((r) => r.step as number);
        expect(steps).toEqual([...steps].sort((a, b) => a - b));
        expect(new Set(steps).size).toBe(steps.length);
        let hidden = 0;
        runs.forEach((run, ri) => {
          for (const p of run.points) {
            // a step with nothing drawable has no row at all
            const row = model.rows.find((r) => r.step === p.step) ?? {};
            for (const kind of ['train', 'val'] as const) {
              const v = p[kind];
              const drawable = v !== undefined && Number.isFinite(v) && (!log || v > 0);
              if (log && v !== undefined && Number.isFinite(v) && v <= 0) hidden++;
              expect(row[`r${ri}_${kind}`] ?? null).toBe(drawable ? v : null);
            }
          }
        });
        expect(model.hidden).toBe(log ? hidden : 0);
        expect(model.series.map((s) => [s.key, s.name])).toEqual(runs.flatMap((r, i) => [[`r${i}_train`, `${r.name} (train)`], [`r${i}_val`, r.name]]));
        if (log && model.logDomain) {
          for (const r of model.rows)
            for (const [k, v] of Object.entries(r))
              if (k !== 'step' && typeof v === 'number') {
                expect(v).toBeGreaterThanOrEqual(model.logDomain[0]);
                expect(v).toBeLessThanOrEqual(model.logDomain[1]);
              }
        }
      }
    }
  });

  it('marks a divergence at the latest drawn value up to that step (validation on ties)', () => {
    for (let trial = 0; trial < 25; trial++) {
      const runs = randomRuns(rng.int(1, 3));
      const model = lossCurvesModel(runs, 'loss', false);
      const diverged = runs.map((r, i) => [r, i] as const).filter(([r]) => r.diverged);
      expect(model.markers.length).toBe(diverged.length);
      for (const [run, ri] of diverged) {
        const mk = model.markers.find((m) => m.run === ri)!;
        const d = run.diverged!;
        // brute force: scan drawn values at steps ≤ d.step; later step wins, val beats train at a tie
        let best: { step: number; v: number; bold: boolean } | null = null;
        let first: number | null = null;
        for (const p of run.points)
          for (const kind of ['train', 'val'] as const) {
            const v = p[kind];
            if (v === undefined || !Number.isFinite(v)) continue;
            first ??= v;
            if (p.step > d.step) continue;
            const bold = kind === 'val';
            if (!best || p.step > best.step || (p.step === best.step && bold)) best = { step: p.step, v, bold };
          }
        expect(mk.y).toBe(best ? best.v : first);
        expect(mk.step).toBe(d.step);
        expect(mk.text).toBe(`diverged at step ${d.step}: ${d.message}`);
        expect(mk.label.length).toBeLessThanOrEqual(48);
        expect(mk.text.startsWith(mk.label.replace(/…$/, ''))).toBe(true);
        expect(model.rows.some((r) => r.step === d.step)).toBe(true); // inside the x range
        expect(model.summary).toContain(`${run.name} ${mk.text}`);
      }
    }
  });

  it('plots accuracy as one series per run, named after the run', () => {
    const runs = randomRuns(3);
    const model = lossCurvesModel(runs, 'accuracy', false);
    expect(model.series.map((s) => [s.key, s.name])).toEqual(runs.map((r, i) => [`r${i}_acc`, r.name]));
    runs.forEach((run, ri) => {
      for (const p of run.points) {
        const row = model.rows.find((r) => r.step === p.step) ?? {};
        expect((row as Record<string, unknown>)[`r${ri}_acc`] ?? null).toBe(p.acc ?? null);
      }
    });
  });

  it('summarises final validation loss (or training loss before any validation)', () => {
    const runs: RunSeries[] = [
      { id: 'a', name: 'A', points: [{ step: 0, train: 3, val: 3.5 }, { step: 10, train: 2 }, { step: 20, val: 1.25 }] },
      { id: 'b', name: 'B', points: [{ step: 0, train: 4 }, { step: 5, train: 3.125 }] },
    ];
    const s = lossCurvesModel(runs, 'loss', false).summary;
    expect(s).toContain('2 runs, steps 0 to 20');
    expect(s).toContain('A 1.25');
    expect(s).toContain('B 3.125 (train)');
    expect(lossCurvesModel([], 'loss', false).summary).toMatch(/no data/);
    expect(lossCurvesRows(runs)).toEqual([
      { run: 'A', run_id: 'a', step: 0, train: 3, val: 3.5, acc: null },
      { run: 'A', run_id: 'a', step: 10, train: 2, val: null, acc: null },
      { run: 'A', run_id: 'a', step: 20, train: null, val: 1.25, acc: null },
      { run: 'B', run_id: 'b', step: 0, train: 4, val: null, acc: null },
      { run: 'B', run_id: 'b', step: 5, train: 3.125, val: null, acc: null },
    ]);
  });
});

describe(`lossVsPrefixModel (seed ${seed})`, () => {
  it('averages repeats per m, keeps m = 0 off the log axis with a note, spans references', () => {
    const ms = [0, 1, 2, 4, 8, 16, 64].filter(() => rng.int(0, 3) > 0).concat([4]);
    const points = ms.flatMap((m) => Array.from({ length: rng.int(1, 3) }, () => ({ m, valLoss: rng.uniform(1, 3), params: m * 96 })));
    const refs = [
      { label: 'NTK-Attention', valLoss: rng.uniform(1, 2), params: 544 },
      { label: 'broken', valLoss: NaN, params: 1 },
      { label: 'base', valLoss: 3, params: 0 },
    ];
    const model = lossVsPrefixModel(points, refs);
    const positive = [...new Set(ms.filter((m) => m > 0))].sort((a, b) => a - b);
    expect(model.prefix.map((q) => q.m)).toEqual(positive);
    for (const q of model.prefix) {
      const at = points.filter((p) => p.m === q.m);
      expect(q.valLoss).toBeCloseTo(at.reduce((s, p) => s + p.valLoss, 0) / at.length, 12);
      expect(q.n).toBe(at.length);
      expect(q.params).toBe(q.m * 96);
    }
    expect(model.refs.map((r) => r.label)).toEqual(['NTK-Attention', 'base']);
    // every row carries every reference; the first and last rows are prefix-free domain ends
    expect(model.rows.length).toBe(positive.length + 2);
    for (const r of model.rows) for (const ref of model.refs) expect(r[ref.key]).toBe(ref.valLoss);
    expect(model.rows[0].prefix).toBeNull();
    expect(model.rows[0].m).toBe(model.xDomain![0]);
    expect(model.rows[model.rows.length - 1].m).toBe(model.xDomain![1]);
    expect(model.xDomain![0]).toBeLessThan(positive[0]);
    const zeros = points.filter((p) => p.m === 0);
    if (zeros.length) {
      expect(model.zero.length).toBe(zeros.length);
      expect(model.note).toContain(`m = 0 is not on the log axis: val loss ${zeros.map((z) => fmt(z.valLoss)).join(', ')}`);
    } else expect(model.note).toBeNull();
    expect(model.summary).toContain('References: NTK-Attention');
  });

  it('handles nothing to draw', () => {
    const model = lossVsPrefixModel([{ m: 0, valLoss: 2, params: 0 }], []);
    expect(model.rows).toEqual([]);
    expect(model.note).toContain('val loss 2');
  });
});

describe(`approxModel (seed ${seed})`, () => {
  it('gives mean, min and max over seeds per (method, map, m) and fits slopes on all seeds', () => {
    const points: { m: number; method: string; map: string; rel: number | null; maxAbs: number | null; seed: number }[] = [];
    for (const method of ['ntk', 'ntk-lowrank'])
      for (const map of ['elu1', 'taylor2'])
        for (const m of [0, 4, 8, 32, 128])
          for (let s = 0; s < rng.int(1, 4); s++) {
            const t = rng.int(0, 8);
            points.push({ m, method, map, seed: s, rel: t === 0 ? null : t === 1 ? 0 : rng.uniform(0.01, 1) * m ** -0.5, maxAbs: t === 2 ? NaN : rng.uniform(0.1, 2) });
          }
    for (const metric of ['rel', 'maxAbs'] as const) {
      const model = approxModel(points, metric);
      const ok = (v: number | null, m: number) => v !== null && Number.isFinite(v) && v > 0 && m > 0;
      expect(model.hidden).toBe(points.filter((p) => !ok(p[metric], p.m)).length);
      expect(model.series.map((s) => `${s.method}/${s.map}`)).toEqual(['ntk/elu1', 'ntk/taylor2', 'ntk-lowrank/elu1', 'ntk-lowrank/taylor2']);
      for (const s of model.series) {
        const mine = points.filter((p) => p.method === s.method && p.map === s.map && ok(p[metric], p.m));
        const fit = fitPowerLaw(mine.map((p) => p.m), mine.map((p) => p[metric]));
        expect(s.fit?.slope ?? null).toBe(fit?.slope ?? null);
        expect(s.name).toBe(`${s.method} · ${s.map} (slope ${fit ? formatSlope(fit.slope) : 'n/a'})`);
        for (const m of [4, 8, 32, 128]) {
          const vs = mine.filter((p) => p.m === m).map((p) => p[metric] as number);
          const row = model.rows.find((r) => r.m === m);
          if (vs.length === 0) {
            expect(row?.[`${s.key}_mean`] ?? null).toBeNull();
            continue;
          }
          expect(row![`${s.key}_mean`] as number).toBeCloseTo(vs.reduce((a, b) => a + b, 0) / vs.length, 12);
          expect(row![`${s.key}_band`]).toEqual([Math.min(...vs), Math.max(...vs)]);
          expect(row![`${s.key}_n`]).toBe(vs.length);
        }
      }
      expect(model.rows.some((r) => r.m === 0)).toBe(false);
    }
  });
});

describe(`costPanel (seed ${seed})`, () => {
  it('averages prefix cost per m and draws NTK/base as flat medians', () => {
    const ntk = Array.from({ length: rng.int(1, 5) }, () => rng.uniform(5, 20));
    const points = [
      ...[1, 4, 16].flatMap((m) => [0, 1].map(() => ({ method: 'prefix' as const, m, msPerStep: rng.uniform(5, 50), peakBytes: rng.int(1e6, 1e8) }))),
      { method: 'prefix' as const, m: 64, msPerStep: null, peakBytes: null },
      ...ntk.map((v, i) => ({ method: 'ntk' as const, m: 2 ** i, msPerStep: v, peakBytes: null })),
      { method: 'base' as const, m: 0, msPerStep: 3, peakBytes: 5e6 },
    ];
    const p = costPanel(points, 'msPerStep');
    const sorted = [...ntk].sort((a, b) => a - b);
    const med = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    expect(p.ntk).toBeCloseTo(med, 12);
    expect(p.base).toBe(3);
    expect(p.prefixCount).toBe(3);
    expect(p.rows.map((r) => r.m)).toEqual([p.xDomain![0], 1, 4, 16, p.xDomain![1]]);
    for (const m of [1, 4, 16]) {
      const vs = points.filter((q) => q.method === 'prefix' && q.m === m).map((q) => q.msPerStep as number);
      expect(p.rows.find((r) => r.m === m)!.prefix as number).toBeCloseTo((vs[0] + vs[1]) / 2, 12);
    }
    for (const r of p.rows) expect([r.ntk, r.base]).toEqual([p.ntk, 3]);
    expect(p.yMax).toBe(Math.max(...p.rows.map((r) => Math.max((r.prefix as number | null) ?? 0, p.ntk!, 3))));
    const mem = costPanel(points, 'peakBytes');
    expect(mem.ntk).toBeNull();
    expect(mem.base).toBe(5e6);
    expect(mem.summary).toContain('NTK-Attention –');
    expect(costPanel([], 'peakBytes').summary).toMatch(/not measured/);
  });
});

describe('heatmapModel', () => {
  it('rejects bad shapes with the reason and summarises extremes', () => {
    expect(heatmapModel(0, 2, [], 4).error).toMatch(/positive integers/);
    expect(heatmapModel(2, 2, [[0.1, 0.2]], 4).error).toBe('mass has 1 rows but layers = 2');
    const m = heatmapModel(2, 3, [[0.1, 0.9, NaN], [0.5, 0.05, 0.2]], null, 'NTK stand-in');
    expect(m.error).toBeNull();
    expect(m.cells[0][2]).toBeNull();
    expect(m.summary).toContain('NTK stand-in');
    expect(m.summary).toContain('highest 90.0% at layer 0 head 1');
    expect(m.summary).toContain('lowest 5.0% at layer 1 head 1');
    expect(m.summary).toContain(`mean ${(((0.1 + 0.9 + 0.5 + 0.05 + 0.2) / 5) * 100).toFixed(1)}%`);
  });
});

describe(`regimeModel (seed ${seed})`, () => {
  it('colours curves by the rank of m, merges steps and fits movement per scaling', () => {
    const ms = [256, 16, 64];
    const curves = ms.flatMap((m) =>
      (['ntk', 'naive'] as const).map((scaling) => {
        let step = rng.int(0, 3);
        return { m, scaling, points: Array.from({ length: rng.int(2, 6) }, () => ({ step: (step += rng.int(1, 3)), loss: rng.uniform(0.1, 3) })) };
      }),
    );
    const movement = [8, 16, 32, 64].flatMap((m) => [
      { m, scaling: 'ntk' as const, relMove: m ** -0.5 },
      { m, scaling: 'ntk' as const, relMove: m ** -0.5 },
      { m, scaling: 'naive' as const, relMove: 0.2 * m ** 0.25 * rng.uniform(0.9, 1.1) },
    ]);
    const model = regimeModel(curves, movement);
    expect(model.curves.map((c) => c.colour)).toEqual([2, 2, 0, 0, 1, 1]);
    curves.forEach((c, i) => {
      for (const p of c.points) expect(model.rows.find((r) => r.step === p.step)![`c${i}`]).toBe(p.loss);
    });
    expect(model.moveRows.map((r) => r.m)).toEqual([8, 16, 32, 64]);
    const ntk = model.moveSeries.find((s) => s.key === 'ntk')!;
    expect(ntk.fit!.slope).toBeCloseTo(-0.5, 10);
    expect(ntk.name).toBe('NTK scaling (slope \u22120.50)');
    const naive = model.moveSeries.find((s) => s.key === 'naive')!;
    const fit = fitPowerLaw(movement.filter((q) => q.scaling === 'naive').map((q) => q.m), movement.filter((q) => q.scaling === 'naive').map((q) => q.relMove))!;
    expect(naive.fit!.slope).toBe(fit.slope);
    expect(model.moveSummary).toContain('naive scaling (slope');
  });
});

describe(`axis helpers (seed ${seed})`, () => {
  it('log10 ticks lie in range, include the decades inside it, and stay few', () => {
    for (let trial = 0; trial < 400; trial++) {
      const lo = 10 ** rng.uniform(-6, 3);
      const hi = lo * 10 ** (trial < 100 ? rng.uniform(0.05, 0.3) : rng.uniform(0.2, 9));
      const ticks = logTicks10(lo, hi);
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      expect(ticks.length).toBeLessThanOrEqual(8);
      for (let i = 0; i < ticks.length; i++) {
        expect(ticks[i]).toBeGreaterThanOrEqual(lo * (1 - 1e-9));
        expect(ticks[i]).toBeLessThanOrEqual(hi * (1 + 1e-9));
        if (i) expect(ticks[i]).toBeGreaterThan(ticks[i - 1]);
      }
      const decades = Math.floor(Math.log10(hi)) - Math.ceil(Math.log10(lo)) + 1;
      if (decades >= 2 && decades <= 8) for (let k = Math.ceil(Math.log10(lo)); 10 ** k <= hi; k++) expect(ticks.some((t) => Math.abs(t / 10 ** k - 1) < 1e-9)).toBe(true);
    }
  });

  it('log2 ticks are powers of two in range', () => {
    expect(logTicks2(0.7, 300)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256]);
    const t = logTicks2(1, 2 ** 20);
    expect(t.length).toBeLessThanOrEqual(10);
    for (const x of t) expect(Number.isInteger(Math.log2(x))).toBe(true);
  });

  it('nice ticks start at 0, cover max with one even step in whole units', () => {
    for (let trial = 0; trial < 200; trial++) {
      const max = 10 ** rng.uniform(-2, 10);
      const unit = rng.int(0, 1) ? byteUnit(max) : 1;
      const ticks = niceTicks(max, unit);
      expect(ticks[0]).toBe(0);
      expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(max * (1 - 1e-9));
      expect(ticks[ticks.length - 2]).toBeLessThan(max);
      expect(ticks.length).toBeLessThanOrEqual(12);
      const step = ticks[1] / unit;
      const mant = step / 10 ** Math.floor(Math.log10(step) + 1e-12);
      expect([1, 2, 2.5, 5].some((k) => Math.abs(mant - k) < 1e-6)).toBe(true);
      for (let i = 1; i < ticks.length; i++) expect(ticks[i] - ticks[i - 1]).toBeCloseTo(ticks[1], 6);
    }
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(() => niceTicks(5, 0)).toThrow(/unit must be positive/);
  });

  it('formats bytes in binary units and domains around positive data', () => {
    expect(fmtBytes(512)).toBe('512 B');
    expect(fmtBytes(1536)).toBe('1.5 KiB');
    expect(fmtBytes(3 * 1024 ** 3)).toBe('3 GiB');
    expect(byteUnit(5 * 1024 ** 2)).toBe(1024 ** 2);
    expect(logDomain([0, -1, null, NaN])).toBeNull();
    const d = logDomain([2, 8, 0], 2)!;
    expect(d).toEqual([1, 16]);
  });
});
