// Small statistics for the experiments: mean and spread over seeds, and least-squares
// power-law fits (slope of log y against log x). Plain float64, no dependencies, so the
// UI and the CLI summarise results the same way.

/** Mean and spread of a sample (seeds). Non-finite values are counted, not averaged. */
export interface Spread {
  /** Finite values used. */
  n: number;
  /** Values left out because they were NaN or ±Inf (a diverged run). */
  nonFinite: number;
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator); 0 for a single value. */
  std: number;
  min: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  const xs = values.filter((v) => Number.isFinite(v));
  const n = xs.length;
  const nonFinite = values.length - n;
  if (n === 0) return { n, nonFinite, mean: NaN, std: NaN, min: NaN, max: NaN };
  let sum = 0;
  for (const x of xs) sum += x;
  const mean = sum / n;
  let ss = 0;
  for (const x of xs) ss += (x - mean) * (x - mean);
  return { n, nonFinite, mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, min: Math.min(...xs), max: Math.max(...xs) };
}

/** Least-squares line log y = intercept + slope · log x (natural logs; the slope is base-free). */
export interface PowerFit {
  /** Points used: x > 0 and y > 0, both finite. */
  n: number;
  /** The exponent: y ∝ x^slope. */
  slope: number;
  intercept: number;
  /** Standard error of the slope (NaN with fewer than 3 points). */
  slopeStdErr: number;
  /** Coefficient of determination of the log-log line (NaN when the y's do not vary). */
  r2: number;
}

export function fitPowerLaw(xs: readonly number[], ys: readonly number[]): PowerFit {
  if (xs.length !== ys.length) throw new Error(`fitPowerLaw: ${xs.length} x values but ${ys.length} y values`);
  const lx: number[] = [];
  const ly: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    if (xs[i] > 0 && ys[i] > 0 && Number.isFinite(xs[i]) && Number.isFinite(ys[i])) {
      lx.push(Math.log(xs[i]));
      ly.push(Math.log(ys[i]));
    }
  }
  return fitLine(lx, ly);
}

/** Ordinary least squares y = intercept + slope·x. Needs ≥ 2 distinct x values, else NaNs. */
export function fitLine(xs: readonly number[], ys: readonly number[]): PowerFit {
  const n = xs.length;
  const nan = { n, slope: NaN, intercept: NaN, slopeStdErr: NaN, r2: NaN };
  if (n < 2) return nan;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
    syy += (ys[i] - my) ** 2;
  }
  if (sxx === 0) return nan;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i] - intercept - slope * xs[i]) ** 2;
  const slopeStdErr = n > 2 ? Math.sqrt(sse / (n - 2) / sxx) : NaN;
  const r2 = syy > 0 ? 1 - sse / syy : NaN;
  return { n, slope, intercept, slopeStdErr, r2 };
}

/** Groups items by a string key, keeping first-seen order of the keys. */
export function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
}

/** 1, 2, 4, … up to and including `max` (and `max` itself when it is not a power of two). */
export function powersOfTwo(max: number, min = 1): number[] {
  const out: number[] = [];
  for (let m = min; m <= max; m *= 2) out.push(m);
  if (out.length && out[out.length - 1] !== max && max > min) out.push(max);
  return out;
}
