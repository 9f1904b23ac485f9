// Settings logic the controls share: the prefix-length slider's log scale, presets, the
// task list, and reading the run configuration from the page's URL. Pure (tested in Node).
import { SYNTHETIC_TASKS } from '../data/synthetic';
import { configFromSearchParams, configToSearchParams, defaultConfig, type ParseIssue, type RunConfig } from '../train/config';

/** Slider stops: 0, then powers of two up to 4096 (a log scale with 0 in front). */
export const PREFIX_STOPS: readonly number[] = [0, ...Array.from({ length: 13 }, (_, i) => 2 ** i)];

/** The slider position for any m: the nearest stop on the log scale. */
export function prefixStopIndex(m: number): number {
  if (!(m >= 1)) return 0;
  return Math.min(PREFIX_STOPS.length - 1, Math.max(1, Math.round(Math.log2(m)) + 1));
}

export const CORPUS_TASKS = ['sotu', 'moby-dick'] as const;
export const BUILTIN_TASKS: readonly string[] = [...CORPUS_TASKS, ...SYNTHETIC_TASKS];
export const FILE_TASK_PREFIX = 'file:';

export const TASK_LABELS: Record<string, string> = {
  sotu: 'State of the Union (text)',
  'moby-dick': 'Moby Dick (text, the pretraining corpus)',
  reverse: 'Reverse a string (synthetic)',
  sort: 'Sort letters (synthetic)',
  add: 'Add two numbers (synthetic)',
  'copy-rule': 'Shift letters by one (synthetic)',
};

/** The task name a user's file gets (the config's task field holds at most 64 characters). */
export function fileTaskName(fileName: string): string {
  return (FILE_TASK_PREFIX + fileName).slice(0, 64);
}

export type PresetName = 'tiny' | 'quick' | 'paper' | 'stress';

export interface Preset {
  name: PresetName;
  label: string;
  help: string;
  /** The settings it changes; everything else (method, task, seed) stays. */
  values: (software: boolean) => Partial<RunConfig>;
}

// Sized for the tiny base model (2 layers, width 32, context 64). A software adapter
// (SwiftShader, CPU) runs roughly one step per second; a GPU a few hundred per second.
export const PRESETS: readonly Preset[] = [
  {
    name: 'tiny',
    label: 'Tiny',
    help: 'a handful of small steps: checks that everything works (seconds)',
    values: () => ({ steps: 6, batch: 2, seqLen: 16, lr: 3e-2, warmup: 1, evalEvery: 3, evalBatches: 1 }),
  },
  {
    name: 'quick',
    label: 'Quick demo',
    help: 'about a minute: enough steps to see the loss fall',
    values: (software) =>
      software ? { steps: 40, batch: 4, seqLen: 32, lr: 3e-2, warmup: 4, evalEvery: 10, evalBatches: 2 } : { steps: 1500, batch: 16, seqLen: 64, lr: 1e-2, warmup: 50, evalEvery: 100, evalBatches: 4 },
  },
  {
    name: 'paper',
    label: 'Paper setting',
    help: 'longer runs with a cosine schedule and warm-up, validation every 50 steps (minutes on a GPU)',
    values: () => ({ steps: 2000, batch: 16, seqLen: 64, lr: 1e-2, minLrRatio: 0.1, warmup: 100, evalEvery: 50, evalBatches: 8 }),
  },
  {
    name: 'stress',
    label: 'Stress',
    help: 'large batches and a 4096-long prefix: probes memory and speed',
    values: () => ({ steps: 500, batch: 64, seqLen: 64, prefixLength: 4096, lr: 1e-2, warmup: 20, evalEvery: 100, evalBatches: 4 }),
  },
];

export function presetByName(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name);
}

/** The config from a URL's query: only non-defaults are there; every value is validated and
 *  clamped (train/config.ts); an unknown task falls back to the default with an issue. */
export function configFromUrl(search: string): { config: RunConfig; issues: ParseIssue[] } {
  const { config, issues } = configFromSearchParams(new URLSearchParams(search));
  if (!BUILTIN_TASKS.includes(config.task) && !config.task.startsWith(FILE_TASK_PREFIX)) {
    issues.push({ field: 'task', message: `task: '${config.task}' is not a built-in task (${BUILTIN_TASKS.join(', ')}); using ${defaultConfig().task}` });
    config.task = defaultConfig().task;
  }
  return { config, issues };
}

/** The query string for a config ('' when everything is default). */
export function urlQueryOf(c: RunConfig): string {
  const q = configToSearchParams(c).toString();
  return q ? `?${q}` : '';
}
