// Pure rules of the experiment panels (no React, no worker; tested in Node): the tiny
// defaults that finish quickly on a software GPU, reading the panels' text fields into
// experiment settings with messages that name the field, the prefix lengths of a sweep,
// the time left, the points reshaped for the charts and for export, and the generation
// panel's sampling settings and which run it compares with the base.
import type { ApproxConfig, ApproxMethod } from '../../experiments/approx_config';
import type { ApproxPoint } from '../../experiments/approx_error';
import type { NtkRegimeConfig, NtkRegimePoint, Scaling } from '../../experiments/ntk_regime';
import type { FeatureMapName } from '../../train/config';
import type { RunRecord } from '../runs';

// ------------------------------------------------------------------ approximation error

/** The panel's fields (strings as typed, so a half-typed number is not clamped). */
export interface ApproxForm {
  d: string;
  L: string;
  heads: string;
  maxM: string;
  trainMaxM: string;
  trainSeqs: string;
  steps: string;
  lr: string;
  seeds: string;
  seed: string;
  maps: FeatureMapName[];
  methods: ApproxMethod[];
}

/** Seconds on SwiftShader (a CPU): head dimension 4, 8 queries, closed form up to m = 256,
 *  trained points up to m = 4 with 30 Adam steps, one replicate. The CLI's defaults
 *  (approx_config.ts) are for a GPU and minutes of patience. */
export const TINY_APPROX: Readonly<ApproxForm> = Object.freeze<ApproxForm>({
  d: '4',
  L: '8',
  heads: '2',
  maxM: '256',
  trainMaxM: '4',
  trainSeqs: '4',
  steps: '30',
  lr: '0.05',
  seeds: '1',
  seed: '1',
  maps: ['elu1', 'taylor2'],
  methods: ['closed', 'paper', 'robust'],
});

/** Field labels, used in messages (the panel shows the same words). */
export const APPROX_LABELS: Record<Exclude<keyof ApproxForm, 'maps' | 'methods'>, string> = {
  d: 'Head dimension d',
  L: 'Queries per sequence L',
  heads: 'Heads',
  maxM: 'Largest m (closed form)',
  trainMaxM: 'Largest m (trained)',
  trainSeqs: 'Training sequences',
  steps: 'Adam steps per trained point',
  lr: 'Adam step size',
  seeds: 'Replicates',
  seed: 'Random draw',
};

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** A whole number typed in a field, or an error naming the field. */
function intField(label: string, raw: string, errs: string[]): number {
  const t = raw.trim();
  const v = t === '' ? NaN : Number(t);
  if (!Number.isInteger(v)) errs.push(`${label}: enter a whole number (got '${raw}')`);
  return v;
}
function numField(label: string, raw: string, errs: string[]): number {
  const t = raw.trim();
  const v = t === '' ? NaN : Number(t);
  if (!Number.isFinite(v)) errs.push(`${label}: enter a number (got '${raw}')`);
  return v;
}

/** The form as experiment settings (the experiment checks ranges and combinations). */
export function approxConfigOf(f: ApproxForm): Parsed<Partial<ApproxConfig>> {
  const errs: string[] = [];
  const L = APPROX_LABELS;
  const c: Partial<ApproxConfig> = {
    d: intField(L.d, f.d, errs),
    L: intField(L.L, f.L, errs),
    heads: intField(L.heads, f.heads, errs),
    maxM: intField(L.maxM, f.maxM, errs),
    trainMaxM: intField(L.trainMaxM, f.trainMaxM, errs),
    trainSeqs: intField(L.trainSeqs, f.trainSeqs, errs),
    steps: intField(L.steps, f.steps, errs),
    lr: numField(L.lr, f.lr, errs),
    seeds: intField(L.seeds, f.seeds, errs),
    seed: intField(L.seed, f.seed, errs),
    maps: [...f.maps],
    methods: [...f.methods],
  };
  if (f.maps.length === 0) errs.push('Feature maps: tick at least one');
  if (f.methods.length === 0) errs.push('Approximations: tick at least one');
  return errs.length ? { ok: false, errors: errs } : { ok: true, value: c };
}

// ------------------------------------------------------------------ NTK regime

export interface NtkForm {
  task: string;
  ms: string;
  steps: string;
  lr: string;
  batch: string;
  seqLen: string;
  seed: string;
  scalings: Scaling[];
}

/** Half a minute on SwiftShader with the shipped base (2 layers, width 64): three prefix
 *  lengths, both parameterisations, six gradient-descent steps of two sequences. */
export const TINY_NTK: Readonly<NtkForm> = Object.freeze<NtkForm>({
  task: 'reverse',
  ms: '4, 16, 64',
  steps: '6',
  lr: '3',
  batch: '2',
  seqLen: '16',
  seed: '1',
  scalings: ['ntk', 'naive'],
});

export const NTK_LABELS: Record<Exclude<keyof NtkForm, 'scalings' | 'task'>, string> = {
  ms: 'Prefix lengths m',
  steps: 'Gradient-descent steps per run',
  lr: 'Step size η',
  batch: 'Sequences per step',
  seqLen: 'Tokens per sequence',
  seed: 'Random draw',
};

/** "4, 16, 64" (commas or spaces) as a list of whole numbers; errors name the field. */
export function parseIntList(label: string, raw: string): Parsed<number[]> {
  const parts = raw.split(/[\s,;]+/).filter((s) => s.length > 0);
  if (!parts.length) return { ok: false, errors: [`${label}: enter at least one whole number, e.g. 4, 16, 64`] };
  const bad = parts.filter((s) => !/^\d+$/.test(s));
  if (bad.length) return { ok: false, errors: [`${label}: '${bad[0]}' is not a whole number ≥ 0 (separate values with commas)`] };
  const xs = parts.map(Number);
  const dup = xs.find((x, i) => xs.indexOf(x) !== i);
  if (dup !== undefined) return { ok: false, errors: [`${label}: ${dup} is listed twice`] };
  return { ok: true, value: xs };
}

export function ntkConfigOf(f: NtkForm): Parsed<Partial<NtkRegimeConfig>> {
  const errs: string[] = [];
  const L = NTK_LABELS;
  const ms = parseIntList(L.ms, f.ms);
  if (!ms.ok) errs.push(...ms.errors);
  const seqLen = intField(L.seqLen, f.seqLen, errs);
  const c: Partial<NtkRegimeConfig> = {
    task: f.task,
    ms: ms.ok ? ms.value : [],
    steps: intField(L.steps, f.steps, errs),
    lr: numField(L.lr, f.lr, errs),
    batch: intField(L.batch, f.batch, errs),
    seqLen,
    seed: intField(L.seed, f.seed, errs),
    scalings: [...f.scalings],
    // One validation batch, a curve point per step: the tiny runs stay tiny.
    evalBatches: 1,
    // Synthetic strings short enough for the sequence length (two copies plus marks).
    taskMaxLen: Number.isInteger(seqLen) ? Math.max(2, Math.min(64, Math.floor((seqLen - 2) / 2))) : 6,
  };
  if (f.scalings.length === 0) errs.push('Parameterisations: tick at least one');
  return errs.length ? { ok: false, errors: errs } : { ok: true, value: c };
}

/** The NTK-regime chart's inputs: loss curves (steps with a finite loss) and the relative
 *  movement of finished (not diverged) runs. */
export function ntkChartData(points: readonly NtkRegimePoint[]) {
  const curves = points.map((p) => ({
    m: p.m,
    scaling: p.scaling,
    points: p.curve.filter((c): c is [number, number] => c[1] !== null && Number.isFinite(c[1])).map(([step, loss]) => ({ step, loss })),
  }));
  const movement = points
    .filter((p) => p.state === 'done' && p.relMove !== null && p.relMove > 0)
    .map((p) => ({ m: p.m, scaling: p.scaling, relMove: p.relMove as number }));
  return { curves, movement };
}

export function ntkExportRows(points: readonly NtkRegimePoint[]) {
  return points.map((p) => ({
    scaling: p.scaling, m: p.m, state: p.state, steps: p.steps, initialLoss: p.initialLoss, finalTrainLoss: p.finalTrainLoss,
    valLoss: p.valLoss, relMove: p.relMove, relMoveKeys: p.relMoveKeys, relMoveValues: p.relMoveValues, prefixMass: p.prefixMass,
    lrKeys: p.lrKeys, lrValues: p.lrValues, keyStd: p.keyStd, valueStd: p.valueStd,
  }));
}

export function approxExportRows(points: readonly ApproxPoint[]) {
  return points.map((p) => ({
    method: p.method, map: p.map, m: p.m, seed: p.seed, rel: p.rel, maxAbs: p.maxAbs, relTarget: p.relTarget,
    effect: p.effect, beta: p.beta, initRel: p.initRel ?? null, initTrainLoss: p.initTrainLoss ?? null, trainLoss: p.trainLoss ?? null, ms: p.ms,
  }));
}

// ------------------------------------------------------------------ progress

/** Milliseconds left, from the share done so far and the time it took; null until there is
 *  something to go on (or when done is past total). */
export function etaMs(done: number, total: number, elapsedMs: number): number | null {
  if (!(total > 0) || !(done > 0) || !(elapsedMs > 0) || done > total) return null;
  return (elapsedMs * (total - done)) / done;
}

// ------------------------------------------------------------------ prefix-length sweep

/** m = 1, 2, 4, … up to `max`, and `max` itself when it is not a power of two. */
export function sweepLengths(max: number): number[] {
  if (!Number.isFinite(max) || max < 1) return [];
  const out: number[] = [];
  for (let m = 1; m <= max; m *= 2) out.push(m);
  const top = Math.floor(max);
  if (out[out.length - 1] !== top) out.push(top);
  return out;
}

// ------------------------------------------------------------------ generation

/** The generation panel's fields (strings as typed). */
export interface GenerateForm {
  prompt: string;
  maxNewTokens: string;
  temperature: string;
  topK: string;
  seed: string;
}

export const DEFAULT_GENERATE: Readonly<GenerateForm> = Object.freeze({ prompt: 'Call me ', maxNewTokens: '40', temperature: '0.8', topK: '0', seed: '1' });

export interface GenerateSettings {
  maxNewTokens: number;
  temperature: number;
  topK: number;
  seed: number;
}

/** The form as sampling settings, or the first field that is out of range. */
export function generateSettingsOf(f: GenerateForm): Parsed<GenerateSettings> {
  const num = (raw: string) => (raw.trim() === '' ? NaN : Number(raw));
  const maxNewTokens = num(f.maxNewTokens);
  const temperature = num(f.temperature);
  const topK = num(f.topK);
  const seed = num(f.seed);
  const refuse = (error: string): Parsed<GenerateSettings> => ({ ok: false, errors: [error] });
  if (f.prompt.length === 0) return refuse('Prompt: type some text for the models to continue');
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1 || maxNewTokens > 1000) return refuse('Characters to generate: a whole number from 1 to 1000');
  if (!Number.isFinite(temperature) || temperature < 0 || temperature > 100) return refuse('Temperature: a number from 0 (always the likeliest character) to 100');
  if (!Number.isInteger(topK) || topK < 0) return refuse('Top-k: a whole number, 0 for all characters');
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) return refuse('Random draw: a whole number ≥ 0');
  return { ok: true, value: { maxNewTokens, temperature, topK, seed } };
}

/** The adapted model to compare with the base: the newest run that finished (or was
 *  stopped) and recorded metrics (notes in the runs list, such as a base-model change,
 *  have none), other than prefix m = 0 (the base itself); null when there is none. */
export function lastAdaptedRun(runs: readonly RunRecord[]): RunRecord | null {
  for (let i = runs.length - 1; i >= 0; i--) {
    const r = runs[i];
    const base = r.config.method === 'prefix' && r.config.prefixLength === 0;
    const measured = r.train.length > 0 || r.evals.length > 0;
    if ((r.state === 'done' || r.state === 'stopped') && measured && !base) return r;
  }
  return null;
}
