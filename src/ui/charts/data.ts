// Pure data shaping for the charts (no React, no DOM), so it is unit-tested in Node.
// Each *Model function turns a component's props into chart rows, series descriptions and a
// one-sentence summary used as the chart's accessible name.
import { fitPowerLaw, formatSlope, type PowerLawFit } from './fit';
import { fmt, fmtBytes, fmtCount, fmtMs, logDomain } from './format';
import type { ExportRow, RunSeries } from './types';

export type Row = Record<string, number | null | [number, number]>;

/** A finite number, else null (NaN/Infinity cannot be drawn). */
function finite(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

function list(names: readonly string[], max = 4): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

// ---------------------------------------------------------------- loss curves

export interface CurveSeries {
  key: string;
  /** Legend name: the run's name on its bold line, "(train)" added on the thin one. */
  name: string;
  run: number;
  kind: 'train' | 'val' | 'acc';
}

export interface DivergenceMarker {
  run: number;
  name: string;
  step: number;
  /** Where to put the dot: the run's last drawn value up to that step (null: none drawn). */
  y: number | null;
  /** Full text, "diverged at step N: message". */
  text: string;
  /** Short form for the on-chart label. */
  label: string;
}

export interface LossCurvesModel {
  rows: Row[];
  series: CurveSeries[];
  markers: DivergenceMarker[];
  /** Values hidden because a log axis cannot show them (≤ 0). */
  hidden: number;
  /** Log-scale y domain (null on a linear axis or with nothing positive to show). */
  logDomain: [number, number] | null;
  summary: string;
}

export function lossCurvesModel(runs: readonly RunSeries[], metric: 'loss' | 'accuracy', logScale: boolean): LossCurvesModel {
  const kinds: ('train' | 'val' | 'acc')[] = metric === 'loss' ? ['train', 'val'] : ['acc'];
  const byStep = new Map<number, Row>();
  const series: CurveSeries[] = [];
  const markers: DivergenceMarker[] = [];
  const shown: number[] = [];
  let hidden = 0;
  const rowAt = (step: number): Row => {
    let r = byStep.get(step);
    if (!r) byStep.set(step, (r = { step }));
    return r;
  };
  runs.forEach((run, ri) => {
    for (const kind of kinds) series.push({ key: `r${ri}_${kind}`, name: kind === 'train' ? `${run.name} (train)` : run.name, run: ri, kind });
    let lastStep = -Infinity;
    let lastY: number | null = null;
    let anyY: number | null = null;
    for (const pt of run.points) {
      if (!Number.isFinite(pt.step)) continue;
      for (const kind of kinds) {
        const v = finite(pt[kind]);
        if (v === null) continue;
        if (logScale && v <= 0) {
          hidden++;
          continue;
        }
        rowAt(pt.step)[`r${ri}_${kind}`] = v;
        shown.push(v);
        anyY ??= v;
        // The marker sits on the latest drawn value before the blow-up (the bold line on ties).
        if (run.diverged && pt.step <= run.diverged.step && (pt.step > lastStep || (pt.step === lastStep && kind !== 'train'))) {
          lastStep = pt.step;
          lastY = v;
        }
      }
    }
    if (run.diverged && Number.isFinite(run.diverged.step)) {
      const text = `diverged at step ${run.diverged.step}: ${run.diverged.message}`;
      markers.push({ run: ri, name: run.name, step: run.diverged.step, y: lastY ?? anyY, text, label: truncate(text, 48) });
      rowAt(run.diverged.step); // keep the step inside the x range
    }
  });
  const rows = [...byStep.values()].sort((a, b) => (a.step as number) - (b.step as number));
  const steps = rows.map((r) => r.step as number);
  const what = metric === 'loss' ? 'Loss' : 'Accuracy';
  let summary: string;
  if (runs.length === 0 || rows.length === 0) summary = `${what} curves: no data yet.`;
  else {
    const finals = runs.map((run) => {
      const key = metric === 'loss' ? 'val' : 'acc';
      let last: number | null = null;
      let lastTrain: number | null = null;
      for (const p of run.points) {
        last = finite(p[key]) ?? last;
        lastTrain = finite(p.train) ?? lastTrain;
      }
      // A run without validation yet reports its training loss rather than nothing.
      const v = last ?? (metric === 'loss' ? lastTrain : null);
      return `${run.name} ${v === null ? 'no value' : fmt(v)}${v !== null && last === null ? ' (train)' : ''}`;
    });
    summary =
      `${what} curves for ${runs.length} run${runs.length === 1 ? '' : 's'}, steps ${steps[0]} to ${steps[steps.length - 1]}` +
      `${logScale ? ', log scale' : ''}. Final ${metric === 'loss' ? 'validation loss' : 'accuracy'}: ${list(finals, 6)}.` +
      markers.map((m) => ` ${m.name} ${m.text}.`).join('') +
      (hidden ? ` ${hidden} non-positive value${hidden === 1 ? '' : 's'} not shown on the log axis.` : '');
  }
  return { rows, series, markers, hidden, logDomain: logScale ? logDomain(shown) : null, summary };
}

/** Long-format export rows for runs (one per run and logged step). */
export function lossCurvesRows(runs: readonly RunSeries[]): ExportRow[] {
  const out: ExportRow[] = [];
  for (const run of runs)
    for (const p of run.points)
      out.push({ run: run.name, run_id: run.id, step: p.step, train: p.train ?? null, val: p.val ?? null, acc: p.acc ?? null });
  return out;
}

// ---------------------------------------------------------------- loss vs prefix length

export interface RefSeries {
  key: string;
  label: string;
  valLoss: number;
  params: number;
}

export interface LossVsPrefixModel {
  rows: Row[];
  /** Prefix points by m (m > 0), the mean over repeats at the same m. */
  prefix: { m: number; valLoss: number; params: number; n: number }[];
  refs: RefSeries[];
  /** m = 0 points: a log axis has no place for them, so they are reported in a note. */
  zero: { valLoss: number; params: number }[];
  xDomain: [number, number] | null;
  note: string | null;
  summary: string;
}

export function lossVsPrefixModel(
  points: readonly { m: number; valLoss: number; params: number }[],
  refs: readonly { label: string; valLoss: number; params: number }[],
): LossVsPrefixModel {
  const groups = new Map<number, { loss: number[]; params: number }>();
  const zero: { valLoss: number; params: number }[] = [];
  for (const p of points) {
    if (!Number.isFinite(p.m) || p.m < 0 || finite(p.valLoss) === null) continue;
    if (p.m === 0) {
      zero.push({ valLoss: p.valLoss, params: p.params });
      continue;
    }
    const g = groups.get(p.m) ?? { loss: [], params: p.params };
    g.loss.push(p.valLoss);
    groups.set(p.m, g);
  }
  const prefix = [...groups].sort((a, b) => a[0] - b[0]).map(([m, g]) => ({ m, valLoss: mean(g.loss), params: g.params, n: g.loss.length }));
  const rs: RefSeries[] = refs.filter((r) => finite(r.valLoss) !== null).map((r, i) => ({ key: `ref${i}`, label: r.label, valLoss: r.valLoss, params: r.params }));
  const xDomain = logDomain(prefix.map((p) => p.m), Math.SQRT2);
  const rows: Row[] = [];
  const refCells = (): Row => Object.fromEntries(rs.map((r) => [r.key, r.valLoss]));
  if (xDomain) {
    // Rows at both domain ends carry only the references, so their lines span the plot.
    rows.push({ m: xDomain[0], prefix: null, ...refCells() });
    for (const p of prefix) rows.push({ m: p.m, prefix: p.valLoss, ...refCells() });
    rows.push({ m: xDomain[1], prefix: null, ...refCells() });
  }
  const note = zero.length
    ? `m = 0 is not on the log axis: val loss ${zero.map((z) => fmt(z.valLoss)).join(', ')} (${fmtCount(zero[0].params)} trainable parameters).`
    : null;
  let summary: string;
  if (prefix.length === 0 && rs.length === 0) summary = 'Final validation loss against prefix length: no data yet.';
  else {
    const span = prefix.length ? `prefix tuning from m = ${prefix[0].m} (val loss ${fmt(prefix[0].valLoss)}) to m = ${prefix[prefix.length - 1].m} (${fmt(prefix[prefix.length - 1].valLoss)})` : 'no prefix runs yet';
    summary = `Final validation loss against prefix length m on a log2 axis: ${span}. References: ${rs.length ? rs.map((r) => `${r.label} ${fmt(r.valLoss)}`).join(', ') : 'none'}.${note ? ` ${note}` : ''}`;
  }
  return { rows, prefix, refs: rs, zero, xDomain, note, summary };
}

// ---------------------------------------------------------------- approximation error

export interface ApproxSeries {
  key: string;
  method: string;
  map: string;
  fit: PowerLawFit | null;
  /** Legend text, with the fitted slope. */
  name: string;
}

export interface ApproxModel {
  rows: Row[];
  series: ApproxSeries[];
  /** Measurements a log-log plot cannot show (m ≤ 0, value null/≤ 0/non-finite). */
  hidden: number;
  xDomain: [number, number] | null;
  yDomain: [number, number] | null;
  summary: string;
}

export function approxModel(
  points: readonly { m: number; method: string; map: string; rel: number | null; maxAbs: number | null; seed: number }[],
  metric: 'rel' | 'maxAbs',
): ApproxModel {
  const groups = new Map<string, { method: string; map: string; xs: number[]; ys: number[]; byM: Map<number, number[]> }>();
  let hidden = 0;
  for (const p of points) {
    const v = p[metric];
    const id = `${p.method}\u0000${p.map}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { method: p.method, map: p.map, xs: [], ys: [], byM: new Map() }));
    if (!(p.m > 0) || !Number.isFinite(p.m) || v === null || !(v > 0) || !Number.isFinite(v)) {
      hidden++;
      continue;
    }
    g.xs.push(p.m);
    g.ys.push(v);
    const at = g.byM.get(p.m) ?? [];
    at.push(v);
    g.byM.set(p.m, at);
  }
  const series: ApproxSeries[] = [];
  const byM = new Map<number, Row>();
  const all: number[] = [];
  let i = 0;
  for (const g of groups.values()) {
    const key = `s${i++}`;
    const fit = fitPowerLaw(g.xs, g.ys);
    series.push({ key, method: g.method, map: g.map, fit, name: `${g.method} · ${g.map} (slope ${fit ? formatSlope(fit.slope) : 'n/a'})` });
    for (const [m, vs] of g.byM) {
      let r = byM.get(m);
      if (!r) byM.set(m, (r = { m }));
      const lo = Math.min(...vs);
      const hi = Math.max(...vs);
      r[`${key}_mean`] = mean(vs);
      r[`${key}_band`] = [lo, hi];
      r[`${key}_n`] = vs.length;
      all.push(lo, hi);
    }
  }
  const rows = [...byM.values()].sort((a, b) => (a.m as number) - (b.m as number));
  const what = metric === 'rel' ? 'relative error' : 'max absolute error';
  const summary = series.length
    ? `Approximation ${what} against prefix length m, log-log, mean over seeds with min–max band: ` +
      series.map((s) => `${s.method} with ${s.map} map ${s.fit ? `slope ${formatSlope(s.fit.slope)}` : 'no slope (fewer than two m)'}`).join('; ') +
      `.${hidden ? ` ${hidden} measurement${hidden === 1 ? '' : 's'} not on the log axes.` : ''}`
    : `Approximation ${what}: no data yet.`;
  return { rows, series, hidden, xDomain: logDomain(rows.map((r) => r.m as number), Math.SQRT2), yDomain: logDomain(all, 1.3), summary };
}

// ---------------------------------------------------------------- cost

export interface CostPanel {
  rows: Row[];
  /** Flat references (median over their measurements). */
  ntk: number | null;
  base: number | null;
  prefixCount: number;
  xDomain: [number, number] | null;
  /** Largest value drawn (prefix means and references), for the y ticks; 0 when none. */
  yMax: number;
  summary: string;
}

export function costPanel(
  points: readonly { method: 'prefix' | 'ntk' | 'base'; m: number; msPerStep: number | null; peakBytes: number | null }[],
  field: 'msPerStep' | 'peakBytes',
): CostPanel {
  const prefix = new Map<number, number[]>();
  const flat: Record<'ntk' | 'base', number[]> = { ntk: [], base: [] };
  for (const p of points) {
    const v = finite(p[field]);
    if (v === null || v < 0) continue;
    if (p.method === 'prefix') {
      if (!(p.m > 0) || !Number.isFinite(p.m)) continue;
      const at = prefix.get(p.m) ?? [];
      at.push(v);
      prefix.set(p.m, at);
    } else if (p.method === 'ntk' || p.method === 'base') flat[p.method].push(v);
  }
  const ntk = flat.ntk.length ? median(flat.ntk) : null;
  const base = flat.base.length ? median(flat.base) : null;
  const ms = [...prefix.keys()].sort((a, b) => a - b);
  const xDomain = logDomain(ms, Math.SQRT2);
  const rows: Row[] = [];
  if (xDomain) {
    const refs = { ntk, base };
    rows.push({ m: xDomain[0], prefix: null, ...refs });
    for (const m of ms) rows.push({ m, prefix: mean(prefix.get(m)!), ...refs });
    rows.push({ m: xDomain[1], prefix: null, ...refs });
  }
  const f = field === 'msPerStep' ? fmtMs : fmtBytes;
  const what = field === 'msPerStep' ? 'Time per training step' : 'Peak memory';
  const summary =
    ms.length || ntk !== null || base !== null
      ? `${what} against prefix length m (log axis): prefix ${ms.length ? `${f(mean(prefix.get(ms[0])!))} at m = ${ms[0]} to ${f(mean(prefix.get(ms[ms.length - 1])!))} at m = ${ms[ms.length - 1]}` : 'not measured'}; NTK-Attention ${f(ntk)}; base ${f(base)}.`
      : `${what}: not measured yet.`;
  const drawn = [...ms.map((m) => mean(prefix.get(m)!)), ...(ntk === null ? [] : [ntk]), ...(base === null ? [] : [base])];
  return { rows, ntk, base, prefixCount: ms.length, xDomain, yMax: drawn.length ? Math.max(...drawn) : 0, summary };
}

// ---------------------------------------------------------------- prefix mass heatmap

export interface HeatmapModel {
  /** Null when the input is well formed; else what is wrong. */
  error: string | null;
  /** mass[l][h] as given (non-finite → null). */
  cells: (number | null)[][];
  summary: string;
}

export function heatmapModel(layers: number, heads: number, mass: readonly (readonly number[])[], m: number | null, label?: string): HeatmapModel {
  const who = label ?? (m === null ? 'NTK-Attention' : `prefix (m = ${m})`);
  if (!Number.isInteger(layers) || !Number.isInteger(heads) || layers < 1 || heads < 1)
    return { error: `layers and heads must be positive integers (got ${layers} × ${heads})`, cells: [], summary: `Attention share of ${who}: invalid shape.` };
  if (mass.length !== layers)
    return { error: `mass has ${mass.length} rows but layers = ${layers}`, cells: [], summary: `Attention share of ${who}: invalid shape.` };
  for (let l = 0; l < layers; l++)
    if (mass[l].length !== heads)
      return { error: `mass row ${l} has ${mass[l].length} values but heads = ${heads}`, cells: [], summary: `Attention share of ${who}: invalid shape.` };
  const cells = mass.map((row) => row.map((v) => finite(v)));
  let best = { v: -Infinity, l: 0, h: 0 };
  let worst = { v: Infinity, l: 0, h: 0 };
  const vals: number[] = [];
  cells.forEach((row, l) =>
    row.forEach((v, h) => {
      if (v === null) return;
      vals.push(v);
      if (v > best.v) best = { v, l, h };
      if (v < worst.v) worst = { v, l, h };
    }),
  );
  const summary = vals.length
    ? `Share of attention taken by the ${who}, ${layers} layers × ${heads} heads: mean ${pct(mean(vals))}, ` +
      `highest ${pct(best.v)} at layer ${best.l} head ${best.h}, lowest ${pct(worst.v)} at layer ${worst.l} head ${worst.h}.`
    : `Share of attention taken by the ${who}: no values yet.`;
  return { error: null, cells, summary };
}

export function pct(v: number | null): string {
  return v === null ? '–' : `${(v * 100).toFixed(1)}%`;
}

// ---------------------------------------------------------------- NTK regime

export interface RegimeCurve {
  key: string;
  m: number;
  scaling: 'ntk' | 'naive';
  /** Colour index: the rank of m among the distinct m values. */
  colour: number;
  name: string;
}

export interface RegimeModel {
  rows: Row[];
  curves: RegimeCurve[];
  /** Movement vs m, one column per scaling (mean over repeats). */
  moveRows: Row[];
  moveSeries: { key: 'ntk' | 'naive'; name: string; fit: PowerLawFit | null }[];
  moveXDomain: [number, number] | null;
  moveYDomain: [number, number] | null;
  lossSummary: string;
  moveSummary: string;
}

const SCALING_NAME = { ntk: 'NTK scaling', naive: 'naive scaling' } as const;

export function regimeModel(
  curves: readonly { m: number; scaling: 'ntk' | 'naive'; points: { step: number; loss: number }[] }[],
  movement: readonly { m: number; scaling: 'ntk' | 'naive'; relMove: number }[],
): RegimeModel {
  const distinctM = [...new Set(curves.map((c) => c.m))].sort((a, b) => a - b);
  const byStep = new Map<number, Row>();
  const rc: RegimeCurve[] = curves.map((c, i) => {
    const key = `c${i}`;
    for (const p of c.points) {
      const v = finite(p.loss);
      if (v === null || !Number.isFinite(p.step)) continue;
      let r = byStep.get(p.step);
      if (!r) byStep.set(p.step, (r = { step: p.step }));
      r[key] = v;
    }
    return { key, m: c.m, scaling: c.scaling, colour: distinctM.indexOf(c.m), name: `m = ${c.m}, ${c.scaling}` };
  });
  const rows = [...byStep.values()].sort((a, b) => (a.step as number) - (b.step as number));

  const mv = new Map<number, { ntk: number[]; naive: number[] }>();
  const xs = { ntk: [] as number[], naive: [] as number[] };
  const ys = { ntk: [] as number[], naive: [] as number[] };
  for (const p of movement) {
    if (!(p.m > 0) || !(p.relMove > 0) || !Number.isFinite(p.m) || !Number.isFinite(p.relMove)) continue;
    const at = mv.get(p.m) ?? { ntk: [], naive: [] };
    at[p.scaling].push(p.relMove);
    mv.set(p.m, at);
    xs[p.scaling].push(p.m);
    ys[p.scaling].push(p.relMove);
  }
  const moveRows: Row[] = [...mv]
    .sort((a, b) => a[0] - b[0])
    .map(([m, at]) => ({ m, ntk: at.ntk.length ? mean(at.ntk) : null, naive: at.naive.length ? mean(at.naive) : null }));
  const moveSeries = (['ntk', 'naive'] as const)
    .filter((s) => xs[s].length > 0)
    .map((s) => {
      const fit = fitPowerLaw(xs[s], ys[s]);
      return { key: s, name: `${SCALING_NAME[s]} (slope ${fit ? formatSlope(fit.slope) : 'n/a'})`, fit };
    });
  const finals = rc.map((c) => {
    const last = [...(curves[Number(c.key.slice(1))].points)].reverse().find((p) => finite(p.loss) !== null);
    return `${c.name} ends at ${last ? fmt(last.loss) : 'no value'}`;
  });
  const lossSummary = rc.length
    ? `Training loss against step for ${rc.length} curve${rc.length === 1 ? '' : 's'}, colour by m, dashed for naive scaling: ${list(finals, 6)}.`
    : 'No loss curves yet.';
  const moveSummary = moveSeries.length
    ? `Relative parameter movement against m, log-log: ${moveSeries.map((s) => s.name).join('; ')}.`
    : 'No parameter movement measured yet.';
  const allMoves = moveRows.flatMap((r) => [r.ntk as number | null, r.naive as number | null]);
  return {
    rows,
    curves: rc,
    moveRows,
    moveSeries,
    moveXDomain: logDomain(moveRows.map((r) => r.m as number), Math.SQRT2),
    moveYDomain: logDomain(allMoves, 1.3),
    lossSummary,
    moveSummary,
  };
}

/** Parameter-count text for tooltips. */
export function paramsText(n: number): string {
  return `${fmtCount(n)} params`;
}
