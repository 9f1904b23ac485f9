// The run configuration: one schema for the CLI's flags, the UI's controls and the URL.
// Every field has a default, a range or a set of choices, and a one-line description;
// values from outside (URL, files, flags) go through `parseConfig`, which validates and
// clamps and never trusts its input.

import type { FeatureMapName, KParam } from '../kernels/ntk_types';

export type { FeatureMapName, KParam } from '../kernels/ntk_types';
export type Method = 'full' | 'prefix' | 'ntk' | 'lora';
export type PrefixInit = 'random' | 'from-text';

interface NumField {
  kind: 'int' | 'float';
  default: number;
  min: number;
  max: number;
  log?: boolean;
  help: string;
}
interface EnumField<T extends string = string> {
  kind: 'enum';
  default: T;
  choices: readonly T[];
  help: string;
}
interface StrField {
  kind: 'string';
  default: string;
  maxLength: number;
  help: string;
}
export type Field = NumField | EnumField | StrField;

export const RUN_FIELDS = {
  method: { kind: 'enum', default: 'prefix', choices: ['full', 'prefix', 'ntk', 'lora'], help: 'adaptation method' },
  task: { kind: 'string', default: 'sotu', maxLength: 64, help: 'task: a corpus name (moby-dick, sotu), a synthetic task (reverse, sort, add) or a file' },
  prefixLength: { kind: 'int', default: 16, min: 0, max: 65536, log: true, help: 'prefix length m (prefix tuning)' },
  prefixInit: { kind: 'enum', default: 'random', choices: ['random', 'from-text'], help: 'prefix initialisation' },
  featureMap: { kind: 'enum', default: 'elu1', choices: ['elu1', 'taylor2'], help: 'NTK-Attention feature map φ' },
  kParam: { kind: 'enum', default: 'exp', choices: ['abs', 'exp', 'softplus', 'identity'], help: "parameterisation of NTK-Attention's k" },
  ntkRank: { kind: 'int', default: 0, min: 0, max: 4096, help: 'rank s of Z = Z_A·Z_B (0 = full rank)' },
  loraRank: { kind: 'int', default: 8, min: 1, max: 256, help: 'LoRA rank r' },
  loraAlpha: { kind: 'float', default: 16, min: 0.01, max: 1024, help: 'LoRA alpha (scale alpha/r)' },
  steps: { kind: 'int', default: 200, min: 1, max: 1_000_000, help: 'training steps' },
  batch: { kind: 'int', default: 8, min: 1, max: 512, help: 'batch size' },
  seqLen: { kind: 'int', default: 64, min: 1, max: 4096, help: 'sequence length (≤ the model context)' },
  lr: { kind: 'float', default: 3e-3, min: 1e-6, max: 1, log: true, help: 'peak learning rate' },
  minLrRatio: { kind: 'float', default: 0.1, min: 0, max: 1, help: 'final learning rate as a fraction of the peak' },
  warmup: { kind: 'int', default: 20, min: 0, max: 100_000, help: 'linear warm-up steps' },
  weightDecay: { kind: 'float', default: 0.0, min: 0, max: 1, help: 'AdamW decoupled weight decay (matrices only)' },
  gradClip: { kind: 'float', default: 1.0, min: 0, max: 1e6, help: 'global gradient-norm clip (0 = off)' },
  evalEvery: { kind: 'int', default: 25, min: 1, max: 1_000_000, help: 'validation every N steps' },
  evalBatches: { kind: 'int', default: 4, min: 1, max: 1000, help: 'validation batches per evaluation' },
  seed: { kind: 'int', default: 1, min: 0, max: 2 ** 31 - 1, help: 'random seed (same seed, same adapter: same run)' },
} as const satisfies Record<string, Field>;

export type RunFieldName = keyof typeof RUN_FIELDS;

export interface RunConfig {
  method: Method;
  task: string;
  prefixLength: number;
  prefixInit: PrefixInit;
  featureMap: FeatureMapName;
  kParam: KParam;
  ntkRank: number;
  loraRank: number;
  loraAlpha: number;
  steps: number;
  batch: number;
  seqLen: number;
  lr: number;
  minLrRatio: number;
  warmup: number;
  weightDecay: number;
  gradClip: number;
  evalEvery: number;
  evalBatches: number;
  seed: number;
}

export function defaultConfig(): RunConfig {
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(RUN_FIELDS)) out[k] = f.default;
  return out as unknown as RunConfig;
}

export interface ParseIssue {
  field: string;
  message: string;
}

/** Parses one field's value from a string or number; clamps numbers, rejects bad choices. */
export function parseField(name: RunFieldName, raw: unknown): { value: unknown; issue?: string } {
  const f = RUN_FIELDS[name] as Field;
  if (f.kind === 'enum') {
    const s = String(raw);
    if ((f.choices as readonly string[]).includes(s)) return { value: s };
    return { value: f.default, issue: `${name}: '${s}' is not one of ${f.choices.join(', ')}; using ${f.default}` };
  }
  if (f.kind === 'string') {
    const s = String(raw);
    if (s.length === 0 || s.length > f.maxLength) return { value: f.default, issue: `${name}: must be 1-${f.maxLength} characters; using ${f.default}` };
    return { value: s };
  }
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (String(raw).trim() === '' || !Number.isFinite(n)) return { value: f.default, issue: `${name}: '${String(raw)}' is not a number; using ${f.default}` };
  let v = f.kind === 'int' ? Math.round(n) : n;
  let issue: string | undefined;
  if (f.kind === 'int' && v !== n) issue = `${name}: ${n} rounded to ${v}`;
  if (v < f.min || v > f.max) {
    const c = Math.min(f.max, Math.max(f.min, v));
    issue = `${name}: ${v} is outside ${f.min}…${f.max}; clamped to ${c}`;
    v = c;
  }
  return { value: v, issue };
}

/** Builds a config from untrusted key/values (URL params, JSON): unknown keys are reported, never used. */
export function parseConfig(input: Record<string, unknown>, base: RunConfig = defaultConfig()): { config: RunConfig; issues: ParseIssue[] } {
  const config = { ...base } as unknown as Record<string, unknown>;
  const issues: ParseIssue[] = [];
  for (const [k, raw] of Object.entries(input)) {
    if (!(k in RUN_FIELDS)) {
      issues.push({ field: k, message: `unknown setting '${k}' ignored` });
      continue;
    }
    const { value, issue } = parseField(k as RunFieldName, raw);
    config[k] = value;
    if (issue) issues.push({ field: k, message: issue });
  }
  return { config: config as unknown as RunConfig, issues };
}

/** The fields that differ from the defaults (what a shareable URL carries). */
export function diffFromDefaults(c: RunConfig): Partial<RunConfig> {
  const d = defaultConfig();
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(RUN_FIELDS) as RunFieldName[]) if (c[k] !== d[k]) out[k] = c[k];
  return out as Partial<RunConfig>;
}

export function configToSearchParams(c: RunConfig): URLSearchParams {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(diffFromDefaults(c))) p.set(k, String(v));
  return p;
}

export function configFromSearchParams(p: URLSearchParams): { config: RunConfig; issues: ParseIssue[] } {
  const input: Record<string, string> = {};
  p.forEach((v, k) => (input[k] = v));
  return parseConfig(input);
}

/** A short name for a run, from what differs from the previous run (e.g. "m 16→64"). */
export function describeChange(prev: RunConfig | null, next: RunConfig): string {
  if (!prev) return next.method === 'prefix' ? `prefix m=${next.prefixLength}` : next.method;
  const short: Partial<Record<RunFieldName, string>> = { prefixLength: 'm', loraRank: 'r', loraAlpha: 'α', featureMap: 'φ', kParam: 'k', ntkRank: 's' };
  const parts: string[] = [];
  for (const k of Object.keys(RUN_FIELDS) as RunFieldName[]) {
    if (prev[k] !== next[k]) parts.push(`${short[k] ?? k} ${prev[k]}→${next[k]}`);
  }
  return parts.length ? parts.join(', ') : 'repeat';
}
