// The training experiments of src/experiments (loss vs prefix length, cost vs prefix
// length, the NTK regime) for the `experiment` command: their flags come from each
// experiment's own settings schema (one flag per setting, kebab-case, lists comma-separated),
// so the CLI, the UI and the experiment share one set of names, ranges and help texts.
import type { Schema, Setting, ExperimentBase } from '../experiments/common';
import { DEFAULT_COST_VS_M_CONFIG, COST_VS_M_SCHEMA, runCostVsM, type CostVsMResult } from '../experiments/cost_vs_m';
import { DEFAULT_LOSS_VS_M_CONFIG, LOSS_VS_M_SCHEMA, runLossVsM, type LossVsMResult } from '../experiments/loss_vs_m';
import { DEFAULT_NTK_REGIME_CONFIG, NTK_REGIME_SCHEMA, runNtkRegime, type NtkRegimeResult } from '../experiments/ntk_regime';
import type { Gpu } from '../gpu/runtime';
import { nodeReader } from '../data/node';
import { ArgError, kebab, type OptionSpec } from './args';
import { table } from '../bench/bench';

/** One optional flag per setting (no default here: the experiment's own defaults apply). */
export function schemaOptions(schema: Schema<object>, defaults: object): Record<string, OptionSpec> {
  const out: Record<string, OptionSpec> = {};
  for (const [k, s] of Object.entries(schema) as [string, Setting][]) {
    const def = (defaults as Record<string, unknown>)[k];
    const help = `${s.help} (default ${Array.isArray(def) ? def.join(',') : String(def)})`;
    if (s.kind === 'int' || s.kind === 'float') out[kebab(k)] = { type: 'number', help, min: s.min, max: s.max, integer: s.kind === 'int' };
    else if (s.kind === 'enum') out[kebab(k)] = { type: 'enum', values: s.choices, help };
    else out[kebab(k)] = { type: 'string', help: s.kind === 'string' ? help : `${help}; comma-separated` };
  }
  return out;
}

/** The settings given on the command line (lists split on commas; ints parsed). */
export function settingsFrom(options: Record<string, unknown>, schema: Schema<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(schema) as [string, Setting][]) {
    const v = options[kebab(k)];
    if (v === undefined) continue;
    if (s.kind === 'intList') {
      const items = String(v).split(',').map((x) => x.trim()).filter(Boolean);
      const nums = items.map(Number);
      if (!items.length || nums.some((n) => !Number.isInteger(n))) throw new ArgError(`--${kebab(k)}: give a comma-separated list of integers (got '${v}')`);
      out[k] = nums;
    } else if (s.kind === 'enumList') out[k] = String(v).split(',').map((x) => x.trim()).filter(Boolean);
    else out[k] = v;
  }
  return out;
}

const f = (x: number | null | undefined, digits = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits));

export interface EngineExperiment {
  name: string;
  summary: string;
  schema: Schema<object>;
  defaults: object;
  run(gpu: Gpu, settings: Record<string, unknown>, onProgress: (done: number, total: number, msg: string) => void, base?: ExperimentBase): Promise<object>;
  table(result: object): string;
}

export const ENGINE_EXPERIMENTS: EngineExperiment[] = [
  {
    name: 'loss-vs-m',
    summary: 'validation loss of prefix tuning at m = 1, 2, 4, … against NTK-Attention, LoRA, full fine-tuning and the base',
    schema: LOSS_VS_M_SCHEMA as Schema<object>,
    defaults: DEFAULT_LOSS_VS_M_CONFIG,
    run: (gpu, s, onProgress, base) => runLossVsM({ gpu, onProgress, readText: nodeReader() }, s, base),
    table: (r) => {
      const res = r as LossVsMResult;
      return table(
        ['method', 'm', 'val loss', 'val accuracy', 'trainable params', 'prefix mass', 'ms/step'],
        res.points.map((p) => [p.method, p.m ?? '—', f(p.valLoss, 4), p.valAccuracy === null ? '—' : `${(100 * p.valAccuracy).toFixed(1)}%`, p.trainableParams, f(p.prefixMass), f(p.msPerStep, 1)]),
      );
    },
  },
  {
    name: 'cost-vs-m',
    summary: 'time per training step and peak GPU memory of prefix tuning as m grows, against NTK-Attention',
    schema: COST_VS_M_SCHEMA as Schema<object>,
    defaults: DEFAULT_COST_VS_M_CONFIG,
    run: (gpu, s, onProgress, base) => runCostVsM({ gpu, onProgress, readText: nodeReader() }, s, base),
    table: (r) => {
      const res = r as CostVsMResult;
      return table(
        ['method', 'm', 'ms/step (median)', 'min…max', 'peak MiB', 'trainable params'],
        res.points.map((p) => [p.method, p.m ?? '—', f(p.msPerStep, 1), `${f(p.msMin, 1)}…${f(p.msMax, 1)}`, (p.peakBytes / 2 ** 20).toFixed(2), p.trainableParams]),
      );
    },
  },
  {
    name: 'ntk-regime',
    summary: 'prefix training for m = 8 … 8192 under NTK and naive scaling: loss curves and relative parameter movement',
    schema: NTK_REGIME_SCHEMA as Schema<object>,
    defaults: DEFAULT_NTK_REGIME_CONFIG,
    run: (gpu, s, onProgress, base) => runNtkRegime({ gpu, onProgress, readText: nodeReader() }, s, base),
    table: (r) => {
      const res = r as NtkRegimeResult;
      const rows = table(
        ['scaling', 'm', 'initial loss', 'final train loss', 'val loss', 'relative movement', 'prefix mass', 'state'],
        res.points.map((p) => [p.scaling, p.m, f(p.initialLoss), f(p.finalTrainLoss), f(p.valLoss), f(p.relMove, 4), f(p.prefixMass), p.state]),
      );
      const fits = res.fits.map((x) => `${x.scaling}: relative movement ∝ m^${f(x.slope, 2)} (R² ${f(x.r2, 2)}, ${x.n} points; NTK theory −0.5)`).join('\n');
      return `${rows}\n\n${fits}`;
    },
  },
];
