// Number formatting and log-axis helpers shared by the charts.

/** Short human number: 4 significant digits, exponent form for very large/small. */
export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2).replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}

/** Integer with thin grouping, e.g. 1 234 567 (parameter counts). */
export function fmtCount(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.round(v).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '\u2009');
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function fmtBytes(b: number | null | undefined): string {
  if (b === null || b === undefined || !Number.isFinite(b)) return '–';
  let v = b;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v.toFixed(0) : Number(v.toPrecision(3))} ${BYTE_UNITS[u]}`;
}

export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return `${fmt(v)} ms`;
}

/** Positive finite values only (what a log axis can show). */
export function positives(values: Iterable<number | null | undefined>): number[] {
  const out: number[] = [];
  for (const v of values) if (typeof v === 'number' && v > 0 && Number.isFinite(v)) out.push(v);
  return out;
}

/** A log-axis domain around the data, padded by `pad` (a factor) on each side.
 *  Null when there is nothing positive to show. */
export function logDomain(values: Iterable<number | null | undefined>, pad = 1.15): [number, number] | null {
  const p = positives(values);
  if (p.length === 0) return null;
  let lo = Math.min(...p);
  let hi = Math.max(...p);
  if (lo === hi) {
    lo /= 2;
    hi *= 2;
  }
  return [lo / pad, hi * pad];
}

/** Tick values for a base-10 log axis on [lo, hi]: 1·10^k, adding 2 and 5 (then 3 and 7)
 *  mantissas when that gives fewer than 3 ticks, thinning when there are too many, and
 *  falling back to evenly spaced round values on ranges narrower than that. */
export function logTicks10(lo: number, hi: number, maxTicks = 8): number[] {
  if (!(lo > 0) || !(hi >= lo)) return [];
  const k0 = Math.floor(Math.log10(lo));
  const k1 = Math.ceil(Math.log10(hi));
  const inRange = (t: number) => t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9);
  for (const mant of [[1], [1, 2, 5], [1, 2, 3, 5, 7]]) {
    const ticks: number[] = [];
    for (let k = k0; k <= k1; k++) for (const m of mant) {
      const t = Number((m * 10 ** k).toPrecision(12));
      if (inRange(t)) ticks.push(t);
    }
    if (ticks.length >= 3) return thin(ticks, maxTicks);
  }
  // A narrow range (e.g. losses 1.1…1.6) holds too few round log ticks: use evenly spaced
  // round values instead (still placed correctly on the log axis).
  const raw = (hi - lo) / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * p).find((st) => st >= raw * (1 - 1e-12))!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi * (1 + 1e-9); t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks.filter(inRange);
}

/** Powers of two on [lo, hi] (for prefix length m), thinned to at most maxTicks. */
export function logTicks2(lo: number, hi: number, maxTicks = 10): number[] {
  if (!(lo > 0) || !(hi >= lo)) return [];
  const ticks: number[] = [];
  for (let k = Math.ceil(Math.log2(lo) - 1e-9); 2 ** k <= hi * (1 + 1e-9); k++) ticks.push(2 ** k);
  return thin(ticks, maxTicks);
}

/** Every s-th tick so at most maxTicks remain (keeps the first). */
function thin(ticks: number[], maxTicks: number): number[] {
  if (ticks.length <= maxTicks) return ticks;
  const s = Math.ceil(ticks.length / maxTicks);
  return ticks.filter((_, i) => i % s === 0);
}

/** Tick label for m: 2^k written as a plain integer while short, else as 2^k. */
export function fmtPow2(v: number): string {
  const k = Math.log2(v);
  if (Number.isInteger(k) && k >= 14) return `2^${k}`;
  return fmt(v);
}

/** Evenly spaced ticks 0, s, 2s, … up to the first tick ≥ max, with s a "nice" multiple of
 *  `unit` (1, 2, 2.5 or 5 × 10^k units): e.g. byte axes in whole MiB steps. */
export function niceTicks(max: number, unit = 1, target = 5): number[] {
  if (!(unit > 0)) throw new Error(`niceTicks: unit must be positive (got ${unit})`);
  if (!(max > 0) || !Number.isFinite(max)) return [0, unit];
  const raw = max / unit / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * p).find((s) => s >= raw * (1 - 1e-12))! * unit;
  const ticks = [0];
  while (ticks[ticks.length - 1] < max * (1 - 1e-12)) ticks.push(Number((ticks.length * step).toPrecision(12)));
  return ticks;
}

/** The binary unit (1, 1024, 1024², …) in which max reads as a number below 1024. */
export function byteUnit(max: number): number {
  let u = 1;
  while (max / u >= 1024 && u < 1024 ** 4) u *= 1024;
  return u;
}
