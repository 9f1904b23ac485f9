// Shared benchmark types and timing helpers. Each src/bench/*.bench.ts exports
// `bench: Bench`; src/bench/main.ts runs them all in one process on one adapter and
// writes BENCHMARKS.md.
import type { Gpu } from '../gpu/runtime';

export interface BenchOptions {
  /** Smaller sizes / fewer repeats (used by the smoke test and `npm run bench -- --quick`). */
  quick: boolean;
}

export interface BenchSection {
  title: string;
  /** Markdown body: how to read it, then a table. */
  markdown: string;
  /** Machine-readable figures, written to bench-results/<name>.json. */
  data: unknown;
}

export interface Bench {
  name: string;
  run(gpu: Gpu, opts: BenchOptions): Promise<BenchSection>;
}

/**
 * Times `record` (which records GPU work) `reps` times after `warmup` runs. Returns GPU
 * milliseconds per repetition from timestamp-query when the adapter has it, else wall
 * milliseconds around gpu.sync().
 */
export async function timeGpu(gpu: Gpu, record: () => void, reps = 5, warmup = 1): Promise<{ ms: number; source: 'gpu-timestamps' | 'wall' }> {
  for (let i = 0; i < warmup; i++) record();
  await gpu.sync();
  if (gpu.hasTimestamps) {
    gpu.beginProfile();
    for (let i = 0; i < reps; i++) {
      record();
      gpu.flush();
    }
    const ns = await gpu.endProfile();
    await gpu.sync();
    if (ns !== null && ns > 0) return { ms: ns / 1e6 / reps, source: 'gpu-timestamps' };
  }
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) record();
  await gpu.sync();
  return { ms: (performance.now() - t0) / reps, source: 'wall' };
}

/** Markdown table from rows of cells. */
export function table(header: string[], rows: (string | number)[][]): string {
  const fmt = (c: string | number) => (typeof c === 'number' ? (Number.isInteger(c) ? String(c) : c.toPrecision(3)) : c);
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(fmt).join(' | ')} |`)].join('\n');
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Median of repeated readings with their spread (min, max), for "median [min–max]" cells. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(xs: readonly number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/** "1.23 [1.10–1.31]" (digits after the point). */
export function fmtSpread(s: Spread, digits = 2, suffix = ''): string {
  return `${s.median.toFixed(digits)}${suffix} [${s.min.toFixed(digits)}–${s.max.toFixed(digits)}]`;
}

/** Per-step wall and CPU milliseconds of each timed step, [runner][round][step]. */
export interface InterleavedTimes {
  wall: number[][][];
  cpu: number[][][];
}

/**
 * Times `steps` in interleaved rounds: each round runs every step function `stepsPerRound`
 * times, the starting one rotating, so load from other processes hits all alike. CPU time is
 * this process's (every thread: a software adapter's too). `counter` numbers the steps
 * (their batch index), continuing after the warm-up steps.
 */
export async function timeInterleaved(steps: readonly ((i: number) => Promise<unknown>)[], rounds: number, stepsPerRound: number, counter = 0): Promise<InterleavedTimes> {
  const wall: number[][][] = steps.map(() => []);
  const cpu: number[][][] = steps.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < steps.length; j++) {
      const at = (j + r) % steps.length;
      const times: number[] = [];
      const cpus: number[] = [];
      for (let s = 0; s < stepsPerRound; s++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await steps[at](counter++);
        times.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpus.push((c.user + c.system) / 1000);
      }
      wall[at].push(times);
      cpu[at].push(cpus);
    }
  }
  return { wall, cpu };
}

/** Round by round, the summed times of `xs` over those of `base`: median [min–max]. */
export function roundRatios(xs: readonly number[][], base: readonly number[][]): Spread {
  const sum = (v: readonly number[]) => v.reduce((a, b) => a + b, 0);
  return spread(xs.map((x, r) => sum(x) / sum(base[r])));
}
