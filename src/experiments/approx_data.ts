// The inputs of the approximation-error experiment (docs/ntk-attention.md §11, corrected protocol),
// drawn on the CPU in float64 from one seed and handed to the GPU as float32:
//
//   - frozen per-head projections W_Q, W_K, W_V [d, d] with entries ~ N(0, 1/d), so that
//     q = x·W_Q has O(1) entries and scores c·q·k = q·k/√d are O(1) (the authors' script
//     used N(0, 1) weights whose scores overflow e^x);
//   - inputs X ~ N(0, I_d): an evaluation set and a separate training set, both [n, L, d],
//     shared by the heads (each head is an independent replicate through its own W's);
//   - one prefix per head of the largest length M; the prefix of length m is its first m
//     rows, so the sweep over m extends one prefix instead of drawing unrelated ones.
//
// Prefix modes:
//   'direct':    keys p ~ N(0, I_d); values w = μ + p·A + ε with a shared mean direction
//                μ ~ N(0, I_d) per head, a value map A [d, d] ~ N(0, 1/d) and noise
//                ε ~ N(0, I_d). μ keeps the values from averaging away as m grows; the
//                key-dependent part p·A makes the weighting of the prefix (e^t against its
//                approximation) matter for the output, not only its total mass.
//   'projected': the theory's stylised prefix: rows P ~ N(0, I_d), keys P·W_K, values
//                P·W_V through the same frozen projections as the input.
//
// Bound B on the prefix scores: after drawing, each prefix row is scaled (keys and values
// of that row together in 'projected' mode, the key before its value is formed in
// 'direct' mode) by min(1, B / max_i |c·q_i·p|), the max over every query of the
// experiment (evaluation and training sets) of that head. So |c·q·p| ≤ B holds for every
// query the experiment uses, rows stay independent of each other and of m (a per-row
// clip, not one rescale of the whole prefix), and rows whose scores were already within B
// are untouched. B ≤ 0 or B = Infinity switches the clip off.
import { Rng } from '../util/rng';

export type PrefixMode = 'direct' | 'projected';

export interface ApproxDataConfig {
  /** Head dimension. */
  d: number;
  /** Input sequence length. */
  L: number;
  /** Heads: independent replicates sharing X. */
  heads: number;
  /** Sequences in the evaluation and the training set. */
  evalSeqs: number;
  trainSeqs: number;
  /** Bound B on |c·q·p| (≤ 0 or Infinity: no clip). */
  bound: number;
  prefix: PrefixMode;
}

/** One attention input set, head-major [n, H, L, d] as the kernels want. */
export interface AttnInputs {
  n: number;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

export interface ApproxSetup {
  cfg: ApproxDataConfig;
  /** Score scale c = 1/√d. */
  scale: number;
  /** Largest prefix length drawn. */
  M: number;
  evalSet: AttnInputs;
  trainSet: AttnInputs;
  /** Prefix keys and values [H, M, d]. */
  pk: Float32Array;
  pv: Float32Array;
  /** Fraction of prefix rows the bound scaled down. */
  clippedFraction: number;
  /** max over rows of max_i |c·q_i·p| after the clip (≤ B up to rounding when clipped). */
  maxScore: number;
}

/** A seed per (base seed, replicate) that is stable and well mixed. */
export function replicateSeed(base: number, replicate: number): number {
  let h = (base ^ Math.imul(replicate + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** x [n, L, d] times W [d, d] per head → [n, H, L, d]. */
function project(x: Float64Array, w: Float64Array[], n: number, L: number, d: number): Float32Array {
  const H = w.length;
  const out = new Float32Array(n * H * L * d);
  for (let b = 0; b < n; b++) {
    for (let h = 0; h < H; h++) {
      const W = w[h];
      for (let i = 0; i < L; i++) {
        const xo = (b * L + i) * d;
        const oo = ((b * H + h) * L + i) * d;
        for (let e = 0; e < d; e++) {
          let s = 0;
          for (let f = 0; f < d; f++) s += x[xo + f] * W[f * d + e];
          out[oo + e] = s;
        }
      }
    }
  }
  return out;
}

/** Row vector p [d] times W [d, d] into out at offset. */
function rowTimes(p: Float64Array, W: Float64Array, d: number, out: Float64Array) {
  for (let e = 0; e < d; e++) {
    let s = 0;
    for (let f = 0; f < d; f++) s += p[f] * W[f * d + e];
    out[e] = s;
  }
}

/** Offset of the per-head prefix streams in replicateSeed's replicate index. */
const PREFIX_STREAM = 1 << 20;

/**
 * Draws everything for one replicate: weights and inputs from `seed`, each head's prefix
 * (μ, A, then row by row) from a stream of its own, so the same seed gives the same data
 * whatever M is: a run with a smaller M sees the first rows of a larger run's prefix.
 */
export function makeSetup(cfg: ApproxDataConfig, seed: number, M: number): ApproxSetup {
  const { d, L, heads: H, evalSeqs, trainSeqs, prefix } = cfg;
  const rng = new Rng(seed);
  const c = 1 / Math.sqrt(d);
  const wStd = 1 / Math.sqrt(d);
  const WQ: Float64Array[] = [];
  const WK: Float64Array[] = [];
  const WV: Float64Array[] = [];
  for (let h = 0; h < H; h++) {
    WQ.push(rng.normals(d * d, wStd));
    WK.push(rng.normals(d * d, wStd));
    WV.push(rng.normals(d * d, wStd));
  }
  const xs = (n: number) => rng.normals(n * L * d);
  const xEval = xs(evalSeqs);
  const xTrain = xs(trainSeqs);
  const set = (x: Float64Array, n: number): AttnInputs => ({ n, q: project(x, WQ, n, L, d), k: project(x, WK, n, L, d), v: project(x, WV, n, L, d) });
  const evalSet = set(xEval, evalSeqs);
  const trainSet = set(xTrain, trainSeqs);

  // Every query of head h, [nq, d] in float64 (the values the GPU sees, rounded to f32).
  const nq = (evalSeqs + trainSeqs) * L;
  const queries: Float64Array[] = [];
  for (let h = 0; h < H; h++) {
    const qs = new Float64Array(nq * d);
    let r = 0;
    for (const s of [evalSet, trainSet]) {
      for (let b = 0; b < s.n; b++) {
        for (let i = 0; i < L; i++, r++) {
          const o = ((b * H + h) * L + i) * d;
          for (let e = 0; e < d; e++) qs[r * d + e] = s.q[o + e];
        }
      }
    }
    queries.push(qs);
  }

  const clip = cfg.bound > 0 && Number.isFinite(cfg.bound);
  const pk = new Float32Array(H * M * d);
  const pv = new Float32Array(H * M * d);
  const raw = new Float64Array(d);
  const key = new Float64Array(d);
  const val = new Float64Array(d);
  let clipped = 0;
  let maxScore = 0;
  for (let h = 0; h < H; h++) {
    // Each head's prefix has its own stream, so its first m rows do not depend on M.
    const prng = new Rng(replicateSeed(seed, PREFIX_STREAM + h));
    const mu = prng.normals(d);
    const A = prng.normals(d * d, wStd);
    const qs = queries[h];
    for (let j = 0; j < M; j++) {
      for (let e = 0; e < d; e++) raw[e] = prng.normal();
      if (prefix === 'projected') rowTimes(raw, WK[h], d, key);
      else key.set(raw);
      const t = c * maxAbsDot(qs, nq, key, d);
      let s = 1;
      if (clip && t > cfg.bound) {
        s = cfg.bound / t;
        clipped++;
      }
      maxScore = Math.max(maxScore, t * s);
      const o = (h * M + j) * d;
      if (prefix === 'projected') {
        for (let e = 0; e < d; e++) raw[e] *= s;
        rowTimes(raw, WK[h], d, key);
        rowTimes(raw, WV[h], d, val);
      } else {
        for (let e = 0; e < d; e++) key[e] *= s;
        rowTimes(key, A, d, val);
        for (let e = 0; e < d; e++) val[e] += mu[e] + prng.normal();
      }
      for (let e = 0; e < d; e++) {
        pk[o + e] = key[e];
        pv[o + e] = val[e];
      }
    }
  }
  return { cfg, scale: c, M, evalSet, trainSet, pk, pv, clippedFraction: M > 0 ? clipped / (H * M) : 0, maxScore };
}

/** max_i |q_i · p| over the rows of qs [nq, d]. The experiment's CPU hot loop (nq·d per row). */
function maxAbsDot(qs: Float64Array, nq: number, p: Float64Array, d: number): number {
  let best = 0;
  for (let i = 0, o = 0; i < nq; i++, o += d) {
    let s = 0;
    for (let e = 0; e < d; e++) s += qs[o + e] * p[e];
    if (s > best) best = s;
    else if (-s > best) best = -s;
  }
  return best;
}

/** Rows [from, to) of each head of a [H, M, d] prefix, as a contiguous [H, to − from, d] array. */
export function slicePrefix(full: Float32Array, H: number, M: number, to: number, d: number, from = 0): Float32Array {
  if (to > M || from < 0 || from > to) throw new Error(`slicePrefix: rows [${from}, ${to}) outside the ${M} rows drawn`);
  if (from === 0 && to === M) return full;
  const n = to - from;
  const out = new Float32Array(H * n * d);
  for (let h = 0; h < H; h++) out.set(full.subarray((h * M + from) * d, (h * M + to) * d), h * n * d);
  return out;
}
