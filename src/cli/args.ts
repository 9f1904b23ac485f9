// A small typed argument parser for the CLI's commands. Each command declares its options
// (type, default, range or allowed values, help text) and positionals; parsing returns a
// typed object or throws ArgError with a message that names the option and what it wants.
//
// Accepted forms: `--name value`, `--name=value`, bare `--flag` (boolean true), `--no-flag`,
// `--flag true|false`, `--` (everything after it is positional), `-h` / `--help`.
import type { Gpu } from '../gpu/runtime';

export type OptionSpec =
  | { type: 'string'; help: string; default?: string; required?: boolean; placeholder?: string }
  | { type: 'number'; help: string; default?: number; required?: boolean; min?: number; max?: number; integer?: boolean; placeholder?: string }
  | { type: 'boolean'; help: string; default?: boolean }
  | { type: 'enum'; help: string; values: readonly string[]; default?: string; required?: boolean };

export type OptionSpecs = Record<string, OptionSpec>;

export interface PositionalSpec {
  name: string;
  help: string;
  required?: boolean;
  /** When given, the positional must be one of these. */
  values?: readonly string[];
}

type ValueOf<S> = S extends { type: 'string' }
  ? string
  : S extends { type: 'number' }
    ? number
    : S extends { type: 'boolean' }
      ? boolean
      : S extends { type: 'enum'; values: readonly (infer V)[] }
        ? V
        : never;

/** An option's value: always set when it has a default or is required, else possibly undefined. */
type Resolved<S> = S extends { default: unknown } ? ValueOf<S> : S extends { required: true } ? ValueOf<S> : ValueOf<S> | undefined;

export type ParsedOptions<S extends OptionSpecs> = { -readonly [K in keyof S]: Resolved<S[K]> };

export interface ParsedArgs<S extends OptionSpecs> {
  options: ParsedOptions<S>;
  positionals: string[];
  /** Which options were given on the command line (as opposed to defaults). */
  given: Set<string>;
  /** `--help` or `-h` was given: the caller prints help and nothing else is validated. */
  help: boolean;
}

export interface ArgsSpec<S extends OptionSpecs = OptionSpecs> {
  options: S;
  positionals?: readonly PositionalSpec[];
}

/** A setting's camelCase name as a flag: prefixLength → prefix-length. */
export const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A usage error: printed with a pointer to `--help`, exit status 2. */
export class ArgError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArgError';
  }
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses argv (without the program and command names) against a spec. */
export function parseArgs<const S extends OptionSpecs>(spec: ArgsSpec<S>, argv: readonly string[]): ParsedArgs<S> {
  const raw = new Map<string, string | boolean>();
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-h' || a === '--help') {
      help = true;
      continue;
    }
    if (!a.startsWith('-') || a === '-' || NUMBER.test(a)) {
      positionals.push(a);
      continue;
    }
    if (!a.startsWith('--')) throw new ArgError(`unknown option ${a} (options are spelled --name)`);
    const eq = a.indexOf('=');
    let name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    let value: string | boolean | undefined = eq >= 0 ? a.slice(eq + 1) : undefined;
    let o = spec.options[name];
    if (!o && name.startsWith('no-') && spec.options[name.slice(3)]?.type === 'boolean' && value === undefined) {
      name = name.slice(3);
      o = spec.options[name];
      value = false;
    }
    if (!o || !Object.prototype.hasOwnProperty.call(spec.options, name)) {
      const near = closest(name, Object.keys(spec.options));
      throw new ArgError(`unknown option --${name}${near ? ` (did you mean --${near}?)` : ''}`);
    }
    if (raw.has(name)) throw new ArgError(`--${name} given twice`);
    if (value === undefined) {
      if (o.type === 'boolean') {
        // A boolean takes the next word only when it reads as one (`--causal false`).
        const next = argv[i + 1]?.toLowerCase();
        if (next !== undefined && (TRUE.has(next) || FALSE.has(next))) {
          value = argv[++i];
        } else value = true;
      } else {
        if (i + 1 >= argv.length) throw new ArgError(`--${name} needs a value (${describeValue(o)})`);
        value = argv[++i];
      }
    }
    raw.set(name, value);
  }

  const options: Record<string, unknown> = {};
  const given = new Set(raw.keys());
  for (const [name, o] of Object.entries(spec.options)) {
    const v = raw.get(name);
    if (v === undefined) {
      if ('required' in o && o.required && !help) throw new ArgError(`--${name} is required (${o.help})`);
      options[name] = o.default;
      continue;
    }
    options[name] = convert(name, o, v);
  }

  if (!help) {
    const specs = spec.positionals ?? [];
    specs.forEach((p, k) => {
      const v = positionals[k];
      if (v === undefined) {
        if (p.required) throw new ArgError(`missing <${p.name}>${p.values ? `: one of ${p.values.join(', ')}` : ` (${p.help})`}`);
        return;
      }
      if (p.values && !p.values.includes(v)) {
        const near = closest(v, p.values);
        throw new ArgError(`<${p.name}> must be one of ${p.values.join(', ')}; got '${v}'${near ? ` (did you mean ${near}?)` : ''}`);
      }
    });
    if (positionals.length > specs.length) {
      throw new ArgError(`unexpected argument '${positionals[specs.length]}'${specs.length ? '' : ' (this command takes only --options)'}`);
    }
  }
  return { options: options as ParsedOptions<S>, positionals, given, help };
}

function convert(name: string, o: OptionSpec, v: string | boolean): unknown {
  switch (o.type) {
    case 'boolean': {
      if (typeof v === 'boolean') return v;
      const s = v.toLowerCase();
      if (TRUE.has(s)) return true;
      if (FALSE.has(s)) return false;
      throw new ArgError(`--${name}: expected true or false, got '${v}'`);
    }
    case 'string':
      return String(v);
    case 'enum': {
      const s = String(v);
      if (!o.values.includes(s)) {
        const near = closest(s, o.values);
        throw new ArgError(`--${name}: must be one of ${o.values.join(', ')}; got '${s}'${near ? ` (did you mean ${near}?)` : ''}`);
      }
      return s;
    }
    case 'number': {
      const s = String(v);
      if (!NUMBER.test(s.trim())) throw new ArgError(`--${name}: expected a number, got '${s}'`);
      const x = Number(s);
      if (!Number.isFinite(x)) throw new ArgError(`--${name}: expected a finite number, got '${s}'`);
      if (o.integer && !Number.isInteger(x)) throw new ArgError(`--${name}: expected an integer, got '${s}'`);
      if (o.min !== undefined && x < o.min) throw new ArgError(`--${name}: ${x} is below the minimum ${o.min}`);
      if (o.max !== undefined && x > o.max) throw new ArgError(`--${name}: ${x} is above the maximum ${o.max}`);
      return x;
    }
  }
}

function describeValue(o: OptionSpec): string {
  switch (o.type) {
    case 'boolean':
      return 'true or false';
    case 'enum':
      return o.values.join('|');
    case 'number': {
      const kind = o.integer ? 'an integer' : 'a number';
      if (o.min !== undefined && o.max !== undefined) return `${kind} in [${o.min}, ${o.max}]`;
      if (o.min !== undefined) return `${kind} ≥ ${o.min}`;
      if (o.max !== undefined) return `${kind} ≤ ${o.max}`;
      return kind;
    }
    case 'string':
      return o.placeholder ?? 'a string';
  }
}

/** The closest candidate by edit distance, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== null && bestD <= Math.max(1, Math.floor(best.length / 3)) ? best : null;
}

// Optimal string alignment distance: Levenshtein plus adjacent transpositions ("stesp").
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** `--help` text: usage line, description, positionals, and every option with its default. */
export function formatHelp(usage: string, description: string, spec: ArgsSpec): string {
  const lines = [`Usage: ${usage}`, '', description.trim(), ''];
  const rows: [string, string][] = [];
  for (const p of spec.positionals ?? []) {
    rows.push([`<${p.name}>`, `${p.help}${p.values ? ` (${p.values.join(', ')})` : ''}${p.required ? '' : ' (optional)'}`]);
  }
  if (rows.length) {
    lines.push('Arguments:');
    lines.push(...table(rows));
    lines.push('');
  }
  const opts: [string, string][] = Object.entries(spec.options).map(([name, o]) => {
    const left = o.type === 'boolean' ? `--${name} [true|false]` : `--${name} <${o.type === 'enum' ? o.values.join('|') : (o.type === 'string' || o.type === 'number') && o.placeholder ? o.placeholder : o.type}>`;
    const extra: string[] = [];
    if (o.type === 'number' && (o.min !== undefined || o.max !== undefined || o.integer)) extra.push(describeValue(o));
    if ('required' in o && o.required) extra.push('required');
    else if (o.default !== undefined) extra.push(`default: ${JSON.stringify(o.default)}`);
    return [left, `${o.help}${extra.length ? ` (${extra.join('; ')})` : ''}`];
  });
  opts.push(['-h, --help', 'show this help']);
  lines.push('Options:');
  lines.push(...table(opts));
  return lines.join('\n');
}

function table(rows: [string, string][]): string[] {
  const w = Math.min(34, Math.max(...rows.map((r) => r[0].length)));
  return rows.map(([l, r]) => (l.length > w ? `  ${l}\n  ${' '.repeat(w)}  ${r}` : `  ${l.padEnd(w)}  ${r}`));
}

// ---------------------------------------------------------------------------- commands

/** What a command gets besides its arguments: output sinks and a GPU on demand. */
export interface CliContext {
  /** Results and summaries (stdout). */
  out(line: string): void;
  /** Warnings and diagnostics (stderr). */
  err(line: string): void;
  /** A GPU device, created on first call (Node: Dawn); tests pass their own. */
  gpu(): Promise<Gpu>;
}

/**
 * One CLI command, one file in src/cli/ exporting `command`. `run` returns an exit status
 * (0 or nothing for success); throw ArgError for usage errors, anything else for failures.
 */
export interface Command<S extends OptionSpecs = OptionSpecs> extends ArgsSpec<S> {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Paragraphs for `--help`. */
  description: string;
  run(args: ParsedArgs<S>, ctx: CliContext): Promise<number | void>;
}

/** Identity, for type inference: option types flow from the spec into `run`'s arguments. */
export function defineCommand<const S extends OptionSpecs>(c: Command<S>): Command<S> {
  return c;
}

/** `--help` for a command. */
export function commandHelp(c: Command, prog = 'npm run cli --'): string {
  const pos = (c.positionals ?? []).map((p) => (p.required ? `<${p.name}>` : `[${p.name}]`)).join(' ');
  return formatHelp(`${prog} ${c.name}${pos ? ` ${pos}` : ''} [options]`, c.description, c);
}
