// Seeded PRNG (mulberry32) and normal samples: runs are reproducible from their seed.
export class Rng {
  private s: number;
  constructor(readonly seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  normals(n: number, std = 1): Float64Array {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = std * this.normal();
    return a;
  }
  uniforms(n: number, lo = -1, hi = 1): Float64Array {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = this.uniform(lo, hi);
    return a;
  }
}

/** A fresh seed per run unless SEED is set (tests print the seed on failure). */
export function freshSeed(): number {
  const env = typeof process !== 'undefined' ? process.env?.SEED : undefined;
  if (env) return Number(env) >>> 0;
  return (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) >>> 0;
}
