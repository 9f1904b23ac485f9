// The kernel-check harness, shared by Vitest (Node/Dawn) and the in-browser check page
// (Chromium's WGSL compiler). A check runs a kernel on fresh random inputs and returns
// the relative errors it measured against the float64 reference, with their bounds.
import type { Gpu, Tensor } from '../gpu/runtime';
import { Rng } from '../util/rng';

export interface Metric {
  what: string;
  err: number;
  bound: number;
}

export interface KernelCheck {
  kernel: string;
  name: string;
  /** false for CPU-only checks (reference vs finite differences). */
  gpu: boolean;
  run(gpu: Gpu | null, rng: Rng): Promise<Metric[]>;
}

export interface CheckOutcome {
  kernel: string;
  name: string;
  seed: number;
  pass: boolean;
  metrics: Metric[];
  error?: string;
  ms: number;
}

/** ‖a−b‖/‖b‖; any non-finite value in `a` gives Infinity. When ‖b‖=0 returns ‖a‖. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) return Infinity;
    const d = a[i] - b[i];
    num += d * d;
    den += b[i] * b[i];
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

/** max |a−b| (Infinity on any non-finite value). */
export function maxAbsErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) return Infinity;
    m = Math.max(m, Math.abs(a[i] - b[i]));
  }
  return m;
}

/** A metric comparing a GPU float32 result with a float64 reference. */
export function compare(what: string, got: ArrayLike<number>, ref: ArrayLike<number>, bound = 1e-5): Metric {
  return { what, err: relErr(got, ref), bound };
}

/** Uploads float64 data as float32 (the values the GPU sees; the reference should use them too). */
export function toF32(a: ArrayLike<number>): Float32Array {
  return Float32Array.from(a);
}
/** Rounds float64 values to float32 precision so the reference sees the GPU's exact inputs. */
export function roundF32(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(Float32Array.from(a));
}

/** An output tensor filled with NaN, so that any element the kernel does not write fails. */
export function poisoned(gpu: Gpu, shape: number[], label = 'out'): Tensor {
  const t = gpu.tensor(shape, undefined, label);
  gpu.fill(t, Number.NaN);
  return t;
}

/**
 * Central finite differences of scalar f at x along `count` random coordinates, compared
 * with the analytic gradient `grad`. Returns the relative error over those coordinates.
 */
export function fdCheck(f: (x: Float64Array) => number, x: Float64Array, grad: ArrayLike<number>, rng: Rng, count = 24, h = 1e-5): number {
  const idx = fdCoordinates(x.length, rng, count);
  return relErr(idx.map((i) => grad[i]), idx.map((i) => centralDifference(f, x, i, h)));
}

/** The coordinates an FD check probes: all of them when there are at most `count`, else `count` drawn. */
export function fdCoordinates(n: number, rng: Rng, count: number): number[] {
  return n <= count ? Array.from({ length: n }, (_, i) => i) : Array.from({ length: count }, () => rng.int(0, n - 1));
}

/** (f(x + h·e_i) − f(x − h·e_i)) / 2h, leaving x as it was. */
export function centralDifference(f: (x: Float64Array) => number, x: Float64Array, i: number, h: number): number {
  const old = x[i];
  x[i] = old + h;
  const fp = f(x);
  x[i] = old - h;
  const fm = f(x);
  x[i] = old;
  return (fp - fm) / (2 * h);
}

/** Σ r·y for a fixed random r: turns a vector output into a scalar loss for FD checks. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export async function runCheck(c: KernelCheck, gpu: Gpu | null, seed: number): Promise<CheckOutcome> {
  const t0 = performance.now();
  try {
    const metrics = await c.run(gpu, new Rng(seed));
    const pass = metrics.length > 0 && metrics.every((m) => Number.isFinite(m.err) && m.err <= m.bound);
    return { kernel: c.kernel, name: c.name, seed, pass, metrics, ms: performance.now() - t0 };
  } catch (e) {
    return { kernel: c.kernel, name: c.name, seed, pass: false, metrics: [], error: (e as Error).stack ?? String(e), ms: performance.now() - t0 };
  }
}

export function formatOutcome(o: CheckOutcome): string {
  const m = o.metrics.map((x) => `${x.what}: ${x.err.toExponential(2)} (bound ${x.bound.toExponential(0)})`).join('; ');
  return `${o.pass ? 'PASS' : 'FAIL'} ${o.kernel} / ${o.name} [seed ${o.seed}] ${m}${o.error ? `\n${o.error}` : ''}`;
}
