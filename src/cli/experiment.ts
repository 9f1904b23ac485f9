// `npm run cli -- experiment <name> [options]`: runs one of the paper's experiments
// (src/experiments/) on the GPU with a progress bar, prints a table and writes the JSON
// result to --out. Experiments: approx (paper §4.4, approximation error vs prefix length),
// and the training experiments of ./experiment_runs.ts (loss-vs-m, cost-vs-m, ntk-regime),
// whose flags come from their settings schemas.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FeatureMapName } from '../train/config';
import { APPROX_MAPS, APPROX_METHODS, DEFAULT_APPROX_CONFIG, PREFIX_MODES, resolveApproxConfig, type ApproxMethod } from '../experiments/approx_config';
import type { PrefixMode } from '../experiments/approx_data';
import { runApproxError, type ApproxResult } from '../experiments/approx_error';
import { overfitPoints } from '../experiments/approx_points';
import { ArgError, defineCommand, type CliContext, type OptionSpec } from './args';
import { loadBase, writeJson } from './common';
import { ENGINE_EXPERIMENTS, schemaOptions, settingsFrom } from './experiment_runs';
import { formatDuration, Progress, type ProgressStream } from './progress';

const EXPERIMENTS = ['approx', ...ENGINE_EXPERIMENTS.map((e) => e.name)] as const;
const D = DEFAULT_APPROX_CONFIG;

/** Splits "a,b" into a list of allowed words; errors name the option. */
function listOf<T extends string>(name: string, raw: string, allowed: readonly T[]): T[] {
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new ArgError(`--${name}: give a comma-separated list of ${allowed.join(', ')}`);
  for (const it of items) if (!allowed.includes(it as T)) throw new ArgError(`--${name}: unknown '${it}' (one or more of ${allowed.join(', ')})`);
  if (new Set(items).size !== items.length) throw new ArgError(`--${name}: an entry is listed twice`);
  return items as T[];
}

const APPROX_OPTIONS = {
    d: { type: 'number', integer: true, min: 1, max: 64, default: D.d, help: 'head dimension (paper: 64; the NTK kernels allow up to 64)' },
    L: { type: 'number', integer: true, min: 1, max: 4096, default: D.L, help: 'input sequence length' },
    heads: { type: 'number', integer: true, min: 1, max: 64, default: D.heads, help: 'heads (independent replicates per seed)' },
    'eval-seqs': { type: 'number', integer: true, min: 1, max: 1024, default: D.evalSeqs, help: 'evaluation sequences' },
    'train-seqs': { type: 'number', integer: true, min: 1, max: 1024, default: D.trainSeqs, help: 'training sequences (trained methods)' },
    bound: { type: 'number', default: D.bound, help: 'bound B on |c q.p| of the prefix scores (0: no clip)' },
    prefix: { type: 'enum', values: PREFIX_MODES, default: D.prefix, help: 'prefix: direct keys/values, or P ~ N(0,I) through W_K, W_V' },
    'max-m': { type: 'number', integer: true, min: 1, max: 2 ** 22, default: D.maxM, help: 'largest m of the closed-form sweep', placeholder: 'm' },
    'train-max-m': { type: 'number', integer: true, min: 1, max: 2 ** 22, default: D.trainMaxM, help: 'largest m for the trained methods', placeholder: 'm' },
    steps: { type: 'number', integer: true, min: 0, max: 1_000_000, default: D.steps, help: 'Adam steps per trained point' },
    lr: { type: 'number', min: 0, default: D.lr, help: 'Adam learning rate' },
    seeds: { type: 'number', integer: true, min: 1, max: 1000, default: D.seeds, help: 'replicates (mean and spread are over these)' },
    seed: { type: 'number', integer: true, min: 0, max: 2 ** 32 - 1, default: D.seed, help: 'base random seed' },
    maps: { type: 'string', default: D.maps.join(','), help: `feature maps (${APPROX_MAPS.join(',')})`, placeholder: 'list' },
    methods: { type: 'string', default: D.methods.join(','), help: `how (Z, k) are obtained (${APPROX_METHODS.join(',')})`, placeholder: 'list' },
    out: { type: 'string', help: 'write the JSON result here (folders are created)', placeholder: 'file' },
  
} as const satisfies Record<string, OptionSpec>;

/** Flags of the training experiments that approx does not have (shared names keep approx's spec). */
const ENGINE_ONLY_OPTIONS: Record<string, OptionSpec> = {};
for (const e of ENGINE_EXPERIMENTS) {
  for (const [k, v] of Object.entries(schemaOptions(e.schema, e.defaults))) if (!(k in APPROX_OPTIONS) && !(k in ENGINE_ONLY_OPTIONS)) ENGINE_ONLY_OPTIONS[k] = v;
}
const BASE_OPTION: OptionSpec = { type: 'string', help: 'training experiments: a base model folder or .zip to adapt (default: each pretrains its own micro base)', placeholder: 'path' };

export const command = defineCommand({
  name: 'experiment',
  summary: "run one of the paper's experiments: approx, loss-vs-m, cost-vs-m, ntk-regime",
  description: [
    'Runs an experiment on the GPU, shows progress, prints a table and writes the full JSON',
    'result (every point, mean and spread over seeds, fits) to --out.',
    '',
    'approx: approximation error of NTK-Attention against exact prefix attention as the',
    'prefix grows (paper section 4.4, with the protocol in docs/ntk-attention.md). For m = 1,',
    '2, 4, ... it compares T (prefix attention on inputs X) with Y (NTK-Attention on X) whose',
    '(Z, k) come from the closed form (closed), training with Z free and k = |kappa| (paper),',
    'or training with k = exp(kappa), Z = diag(k) W (robust). Reports ||T-Y||/||T-Y0|| (Y0:',
    'no prefix; 1 = nothing captured), max|T-Y|, the prefix mass, and the fitted slope of',
    'log error against log m.',
    '',
    ...ENGINE_EXPERIMENTS.map((e) => `${e.name}: ${e.summary}.`),
    'Their flags are their settings (each with its default in the list below); --base adapts',
    'a model of yours instead of the micro base each pretrains by default.',
  ].join('\n'),
  positionals: [{ name: 'name', help: 'the experiment', required: true, values: EXPERIMENTS }],
  options: { ...ENGINE_ONLY_OPTIONS, ...APPROX_OPTIONS, base: BASE_OPTION },
  async run({ options: o, positionals, given }, ctx: CliContext) {
    const name = positionals[0];
    const engine = ENGINE_EXPERIMENTS.find((e) => e.name === name);
    if (engine) return runEngineExperiment(engine, o as Record<string, unknown>, given, ctx);
    for (const g of given) if (g in ENGINE_ONLY_OPTIONS || g === 'base') throw new ArgError(`--${g} is not a setting of approx`);
    let cfg;
    try {
      cfg = resolveApproxConfig({
        d: o.d,
        L: o.L,
        heads: o.heads,
        evalSeqs: o['eval-seqs'],
        trainSeqs: o['train-seqs'],
        bound: o.bound,
        prefix: o.prefix as PrefixMode,
        maxM: o['max-m'],
        trainMaxM: o['train-max-m'],
        steps: o.steps,
        lr: o.lr,
        seeds: o.seeds,
        seed: o.seed,
        maps: listOf<FeatureMapName>('maps', o.maps, APPROX_MAPS),
        methods: listOf<ApproxMethod>('methods', o.methods, APPROX_METHODS),
      });
    } catch (e) {
      if (e instanceof ArgError) throw e;
      throw new ArgError((e as Error).message);
    }
    const gpu = await ctx.gpu();
    // A terminal gets the redrawn bar; anything else (a log, a test) gets plain lines through ctx.err.
    const tty = (globalThis as { process?: { stderr?: ProgressStream } }).process?.stderr;
    const stream: ProgressStream = tty?.isTTY ? tty : { write: (s: string) => ctx.err(s.replace(/\n$/, '')) };
    let bar: Progress | null = null;
    ctx.err(`approx: d=${cfg.d} L=${cfg.L} heads=${cfg.heads} B=${cfg.bound} prefix=${cfg.prefix} m≤${cfg.maxM} (trained m≤${cfg.trainMaxM}, ${cfg.steps} steps, lr ${cfg.lr}), ${cfg.seeds} seeds, maps ${cfg.maps.join(',')}, methods ${cfg.methods.join(',')}`);
    const result = await runApproxError(gpu, cfg, {
      onProgress: (p) => {
        // Work is estimated in ms; the bar counts estimated seconds.
        bar ??= new Progress(Math.max(1, Math.ceil(p.total / 1000)), { label: 'approx', stream });
        bar.update(p.done >= p.total ? bar.total : Math.floor(p.done / 1000), p.label);
      },
    });
    (bar as Progress | null)?.finish(`${result.points.length} points`);
    for (const line of formatApproxTables(result)) ctx.out(line);
    ctx.err(`ran on ${result.adapter} in ${formatDuration(result.elapsedMs)}`);
    if (o.out) {
      await mkdir(dirname(o.out), { recursive: true });
      await writeFile(o.out, JSON.stringify(result, null, 1) + '\n');
      ctx.err(`wrote ${result.points.length} points to ${o.out}`);
    }
    return 0;
  },
});

// ---------------------------------------------------------------------------- training experiments

async function runEngineExperiment(e: (typeof ENGINE_EXPERIMENTS)[number], o: Record<string, unknown>, given: Set<string>, ctx: CliContext) {
  const own = schemaOptions(e.schema, e.defaults);
  for (const g of given) if (!(g in own) && g !== 'out' && g !== 'base') throw new ArgError(`--${g} is not a setting of ${e.name} (see --help)`);
  // Only flags given on the command line: the experiment's own defaults fill the rest.
  const picked: Record<string, unknown> = {};
  for (const g of given) picked[g] = o[g];
  const settings = settingsFrom(picked, e.schema);
  const base = typeof o.base === 'string' ? await loadBase(o.base) : undefined;
  const gpu = await ctx.gpu();
  const tty = (globalThis as { process?: { stderr?: ProgressStream } }).process?.stderr;
  const stream: ProgressStream = tty?.isTTY ? tty : { write: (s: string) => ctx.err(s.replace(/\n$/, '')) };
  let bar: Progress | null = null;
  const t0 = performance.now();
  let result: object;
  try {
    result = await e.run(gpu, settings, (done, total, msg) => {
      bar ??= new Progress(Math.max(1, total), { label: e.name, stream });
      bar.update(done, msg);
    }, base);
  } catch (err) {
    // Settings the experiment rejects are usage errors (they name the setting).
    if (err instanceof Error && /settings:/.test(err.message)) throw new ArgError(err.message);
    throw err;
  }
  (bar as Progress | null)?.finish();
  ctx.out(e.table(result));
  ctx.err(`${e.name} took ${formatDuration(performance.now() - t0)}`);
  if (typeof o.out === 'string') {
    await writeJson(o.out, result);
    ctx.err(`wrote ${o.out}`);
  }
  return 0;
}

// ---------------------------------------------------------------------------- tables

const fmt = (x: number) => (!Number.isFinite(x) ? '—' : x === 0 ? '0' : Math.abs(x) >= 1e-2 && Math.abs(x) < 1e3 ? x.toPrecision(3) : x.toExponential(1));
const pm = (mean: number, std: number) => (Number.isFinite(mean) ? `${fmt(mean)}±${fmt(std)}` : 'diverged');

/** The printed summary: relative error and max-abs error per m (mean ± std over seeds), then the fits. */
export function formatApproxTables(r: ApproxResult): string[] {
  const cols = [...new Set(r.summary.map((s) => `${s.method}/${s.map}`))];
  const ms = [...new Set(r.summary.map((s) => s.m))].sort((a, b) => a - b);
  const cell = new Map(r.summary.map((s) => [`${s.method}/${s.map}|${s.m}`, s]));
  const w = Math.max(15, ...cols.map((c) => c.length + 1));
  const out: string[] = [];
  const n = r.config.seeds;
  const table = (title: string, pick: (s: (typeof r.summary)[number]) => { mean: number; std: number }, only: (col: string) => boolean = () => true) => {
    const shown = cols.filter(only);
    out.push('', `${title} (mean±std over ${n} seed${n > 1 ? 's' : ''})`);
    out.push(`${'m'.padStart(7)}  ${'β'.padEnd(6)}${shown.map((c) => c.padStart(w)).join('')}`);
    for (const m of ms) {
      const betaRow = cols.map((c) => cell.get(`${c}|${m}`)).find(Boolean);
      const beta = betaRow ? fmt(betaRow.beta.mean) : '';
      if (!shown.some((c) => cell.has(`${c}|${m}`))) continue;
      out.push(`${String(m).padStart(7)}  ${beta.padEnd(6)}${shown.map((c) => {
        const s = cell.get(`${c}|${m}`);
        return (s ? pm(pick(s).mean, pick(s).std) : '').padStart(w);
      }).join('')}`);
    }
  };
  table('relative error ||T-Y|| / ||T-Y0||', (s) => s.rel);
  table('max-abs error max|T-Y|', (s) => s.maxAbs);
  if (r.summary.some((s) => s.method !== 'closed')) table('trained methods: final / initial training MSE', (s) => s.trainRatio, (c) => !c.startsWith('closed/'));
  const over = overfitPoints(r.points);
  if (over.length) {
    const which = [...new Set(over.map((p) => `${p.method}/${p.map} m=${p.m}`))].join(', ');
    out.push('', `overfitting: ${over.length} trained point${over.length > 1 ? 's' : ''} fit the training set (MSE ≤ half its start) but ended with a larger evaluation error than they started with (${which}); more --train-seqs gives the trained (Z, k) more to fit`);
  }
  out.push('', 'fitted slope of log(rel) vs log(m): all m | m ≥ tail start | per-seed mean±std');
  for (const f of r.fits) {
    out.push(`  ${`${f.method}/${f.map}`.padEnd(16)} ${fmt(f.all.slope).padStart(8)} (r² ${fmt(f.all.r2)}) | m≥${f.tailFrom}: ${fmt(f.tail.slope).padStart(8)} | ${pm(f.perSeed.mean, f.perSeed.std)}`);
  }
  const clip = r.seeds.map((s) => `${(100 * s.clippedFraction).toFixed(0)}%`).join(', ');
  out.push('', `prefix rows clipped to |c q.p| ≤ ${r.config.bound}: ${clip} (per seed); max |c q.p| ${fmt(Math.max(...r.seeds.map((s) => s.maxScore)))}`);
  if (r.aborted) out.push('(stopped early: partial results)');
  return out;
}
