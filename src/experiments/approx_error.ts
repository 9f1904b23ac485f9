// The approximation-error experiment (paper §4.4) with the corrected protocol of
// docs/ntk-attention.md §11, on the GPU kernels. For each replicate (seed) and prefix length m:
//
//   T  = exact prefix attention on the evaluation inputs X (queries from X only, causal
//        over X, the whole prefix visible to every query): the target;
//   Y₀ = the same attention without the prefix (what "nothing captured" looks like);
//   Y  = NTK-Attention on X with (Z, k) from one of three methods (approx_config.ts):
//        closed form from the prefix, or trained with Adam on MSE(Y, T) over a separate
//        training set under the paper's or the scale-robust parameterisation.
//
// Metrics per (m, seed, method, feature map), all over the evaluation set:
//   rel    = ‖T − Y‖ / ‖T − Y₀‖: the error relative to the prefix's effect (1 = nothing
//            of the prefix captured, 0 = exact);
//   maxAbs = max |T − Y| (the theorem's norm);
//   beta   = mean prefix mass of T (the share of attention the prefix takes).
// Reductions run on the GPU (kernels/metrics.ts): only a few floats come back per point.
//
// Results stream through `onPoint` as each point finishes; the returned object is plain
// JSON (non-finite metrics of a diverged run are null).
import type { Gpu, Tensor } from '../gpu/runtime';
import { describeAdapter } from '../gpu/device';
import { adamw, type AdamWHyper } from '../kernels/adamw';
import { trainRatio, type ApproxPoint } from './approx_points';
import { scaleByScalar } from '../kernels/gradnorm';
import { errorMetrics } from '../kernels/metrics';
import { prefixAttentionForward } from '../kernels/prefix_attention';
import { add } from '../kernels/residual';
import type { FeatureMapName } from '../train/config';
import { makeSetup, replicateSeed, slicePrefix, type ApproxSetup, type AttnInputs } from './approx_data';
import { resolveApproxConfig, type ApproxConfig, type ApproxMethod } from './approx_config';
import { accumulateClosedForm, featureDim, initialKTilde, ntkBackward, ntkForward, robustBackward, robustForward, type NtkSet } from './approx_ntk';
import { fitPowerLaw, groupBy, powersOfTwo, spread, type PowerFit, type Spread } from './stats';

export { DEFAULT_APPROX_CONFIG, resolveApproxConfig, type ApproxConfig, type ApproxMethod } from './approx_config';
export type { ApproxPoint } from './approx_points';

export interface ApproxSummaryRow {
  method: ApproxMethod;
  map: FeatureMapName;
  m: number;
  rel: Spread;
  maxAbs: Spread;
  beta: Spread;
  /** Trained methods: final training MSE / training MSE at the initialisation (NaN for closed). */
  trainRatio: Spread;
}

export interface ApproxFit {
  method: ApproxMethod;
  map: FeatureMapName;
  /** log rel against log m over every seed's points. */
  all: PowerFit;
  /** The same over the upper half of the m range (log scale): where a floor shows. */
  tail: PowerFit;
  tailFrom: number;
  /** One fit per seed: mean and spread of the slopes. */
  perSeed: Spread;
}

export interface ApproxSeedInfo {
  seed: number;
  rngSeed: number;
  /** Fraction of prefix rows the bound scaled down, and the largest |c·q·p| left. */
  clippedFraction: number;
  maxScore: number;
}

export interface ApproxResult {
  experiment: 'approx-error';
  config: ApproxConfig;
  points: ApproxPoint[];
  summary: ApproxSummaryRow[];
  fits: ApproxFit[];
  seeds: ApproxSeedInfo[];
  adapter: string;
  elapsedMs: number;
  /** True when stopped early through the abort signal (points so far are kept). */
  aborted: boolean;
}

export interface ApproxProgress {
  /** Work done and total, in rough cost units (proportional to expected time). */
  done: number;
  total: number;
  points: number;
  label: string;
}

export interface ApproxHooks {
  onPoint?: (p: ApproxPoint) => void;
  onProgress?: (p: ApproxProgress) => void;
  signal?: AbortSignal;
}

const ADAM: Omit<AdamWHyper, 'lr'> = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };
/** Sync (and report progress, check abort) every this many training steps. */
const SYNC_EVERY = 50;

/** The m values of the sweep for one method. */
export function sweepFor(cfg: ApproxConfig, method: ApproxMethod): number[] {
  return powersOfTwo(method === 'closed' ? cfg.maxM : cfg.trainMaxM);
}

/**
 * Rough cost of each piece in milliseconds, fitted to runs of the defaults on lavapipe
 * (2 busy cores): only the progress bar's ETA depends on it.
 */
function costs(cfg: ApproxConfig) {
  const { d, heads: H, L } = cfg;
  const rowsEval = cfg.evalSeqs * H * L;
  const rowsTrain = cfg.trainSeqs * H * L;
  return {
    /** Drawing the data on the CPU: max |c·q·p| over every query for each prefix row. */
    setup: (M: number) => 1 + (M * H * (cfg.evalSeqs + cfg.trainSeqs) * L * d) / 1e6,
    /** Exact prefix attention over rows queries and m prefix keys. */
    target: (m: number, rows: number) => 1 + (m * rows * d) / 3e4,
    /** Closed form of a block of rows added to (Z, k). */
    closed: (rowsAdded: number, map: FeatureMapName) => 1 + (rowsAdded * H * featureDim(map, d) * (d + 1)) / 6e4,
    train: (map: FeatureMapName, method: ApproxMethod) => 1 + cfg.steps * ((method === 'robust' ? 15 : 5) + (rowsTrain * (L + featureDim(map, d)) * d) / 2.4e4),
    rowsEval,
    rowsTrain,
  };
}

function totalCost(cfg: ApproxConfig): number {
  const c = costs(cfg);
  const closedMs = cfg.methods.includes('closed') ? sweepFor(cfg, 'closed') : [];
  const trained = cfg.methods.filter((m) => m !== 'closed');
  const trainMs = trained.length ? sweepFor(cfg, 'paper') : [];
  const ms = [...new Set([...closedMs, ...trainMs])];
  let per = c.setup(Math.max(...ms));
  let prev = 0;
  for (const m of closedMs) {
    for (const map of cfg.maps) per += c.closed(m - prev, map);
    prev = m;
  }
  for (const m of ms) per += c.target(m, c.rowsEval);
  for (const m of trainMs) {
    per += c.target(m, c.rowsTrain);
    for (const map of cfg.maps) for (const method of trained) per += c.train(map, method);
  }
  return per * cfg.seeds;
}

interface GpuSet extends NtkSet {
  n: number;
}

function upload(gpu: Gpu, s: AttnInputs, name: string): GpuSet {
  return {
    n: s.n,
    q: gpu.tensor([s.q.length], s.q, `${name}.q`),
    k: gpu.tensor([s.k.length], s.k, `${name}.k`),
    v: gpu.tensor([s.v.length], s.v, `${name}.v`),
  };
}

/** Runs the sweep. Results stream through hooks.onPoint; the result is plain JSON. */
export async function runApproxError(gpu: Gpu, config: Partial<ApproxConfig> = {}, hooks: ApproxHooks = {}): Promise<ApproxResult> {
  const cfg = resolveApproxConfig(config);
  const t0 = performance.now();
  const points: ApproxPoint[] = [];
  const seeds: ApproxSeedInfo[] = [];
  const { heads: H, L, d } = cfg;
  const trained = cfg.methods.filter((m): m is 'paper' | 'robust' => m !== 'closed');
  const closedMs = cfg.methods.includes('closed') ? sweepFor(cfg, 'closed') : [];
  const trainMs = trained.length ? sweepFor(cfg, 'paper') : [];
  const allMs = [...new Set([...closedMs, ...trainMs])].sort((a, b) => a - b);
  const M = allMs[allMs.length - 1] ?? 0;
  const cost = costs(cfg);
  const total = totalCost(cfg);
  let done = 0;
  let aborted = false;
  const progress = (units: number, label: string) => {
    done += units;
    hooks.onProgress?.({ done: Math.min(done, total), total, points: points.length, label });
  };
  const emit = (p: ApproxPoint) => {
    points.push(p);
    hooks.onPoint?.(p);
  };

  const owned: Tensor[] = [];
  const own = (shape: number[], data?: Float32Array, label?: string) => {
    const t = gpu.tensor(shape, data, label);
    owned.push(t);
    return t;
  };
  try {
    for (let s = 0; s < cfg.seeds && !aborted; s++) {
      const rngSeed = replicateSeed(cfg.seed, s);
      const setup: ApproxSetup = makeSetup(cfg, rngSeed, M);
      progress(cost.setup(M), `seed ${s + 1}/${cfg.seeds} data`);
      seeds.push({ seed: s, rngSeed, clippedFraction: setup.clippedFraction, maxScore: setup.maxScore });
      const ev = upload(gpu, setup.evalSet, 'eval');
      const tr = trained.length ? upload(gpu, setup.trainSet, 'train') : null;
      owned.push(ev.q, ev.k, ev.v, ...(tr ? [tr.q, tr.k, tr.v] : []));
      const nE = ev.n * H * L * d;
      const dummy = own([4], new Float32Array(4), 'no-prefix');
      const y0 = own([nE], undefined, 'Y0');
      const lseE = own([ev.n * H * L], undefined, 'lse.eval');
      const betaE = own([ev.n * H * L], undefined, 'beta.eval');
      const target = own([nE], undefined, 'T.eval');
      const y = own([nE], undefined, 'Y.eval');
      const statsE = own([ev.n * H * L * 2], undefined, 'ntk.stats.eval');
      prefixAttentionForward(gpu, { q: ev.q, k: ev.k, v: ev.v, pk: dummy, pv: dummy, o: y0, lse: lseE }, { B: ev.n, H, L, d, m: 0 });
      // Closed form per map, accumulated over the sweep (zeros written: pooled buffers are not).
      const closed = new Map<FeatureMapName, { z: Tensor; k: Tensor; upTo: number }>();
      if (closedMs.length) {
        for (const map of cfg.maps) {
          const r = featureDim(map, d);
          closed.set(map, { z: own([H * r * d], new Float32Array(H * r * d), `Z.closed.${map}`), k: own([H * r], new Float32Array(H * r), `k.closed.${map}`), upTo: 0 });
        }
      }

      for (const m of allMs) {
        if (hooks.signal?.aborted) {
          aborted = true;
          break;
        }
        const tStart = performance.now();
        const pk = gpu.tensor([H * m * d], slicePrefix(setup.pk, H, M, m, d), 'pk');
        const pv = gpu.tensor([H * m * d], slicePrefix(setup.pv, H, M, m, d), 'pv');
        try {
          prefixAttentionForward(gpu, { q: ev.q, k: ev.k, v: ev.v, pk, pv, o: target, lse: lseE, beta: betaE }, { B: ev.n, H, L, d, m });
          const eff = await errorMetrics(gpu, y0, target);
          const betaVals = await gpu.read(betaE);
          const beta = mean(betaVals);
          const effNorm = Math.sqrt(eff.sumSq);
          const tNorm = Math.sqrt(eff.refSumSq);
          progress(cost.target(m, cost.rowsEval), `seed ${s + 1}/${cfg.seeds} m=${m} target`);
          let firstMs = performance.now() - tStart;
          const score = async (out: Tensor) => {
            const e = await errorMetrics(gpu, out, target);
            const ok = Number.isFinite(e.sumSq);
            return {
              rel: ok ? Math.sqrt(e.sumSq) / effNorm : null,
              maxAbs: ok && Number.isFinite(e.maxAbs) ? e.maxAbs : null,
              relTarget: ok ? Math.sqrt(e.sumSq) / tNorm : null,
            };
          };
          const base = { seed: s, m, effect: effNorm / tNorm, beta };

          if (closedMs.includes(m)) {
            for (const map of cfg.maps) {
              const t1 = performance.now();
              // Add the rows drawn since the last m: (Z, k) of the first m rows.
              const c = closed.get(map)!;
              const prevUpTo = c.upTo;
              const pkB = gpu.tensor([H * (m - c.upTo) * d], slicePrefix(setup.pk, H, M, m, d, c.upTo), 'pk.block');
              const pvB = gpu.tensor([H * (m - c.upTo) * d], slicePrefix(setup.pv, H, M, m, d, c.upTo), 'pv.block');
              accumulateClosedForm(gpu, pkB, pvB, c.z, c.k, { H, m: m - c.upTo, d, map });
              gpu.release(pkB, pvB);
              c.upTo = m;
              ntkForward(gpu, ev, c.z, c.k, y, statsE, { B: ev.n, H, L, d, map, kParam: 'identity' });
              const sc = await score(y);
              emit({ ...base, method: 'closed', map, ...sc, ms: performance.now() - t1 + firstMs });
              firstMs = 0;
              progress(cost.closed(m - prevUpTo, map), `seed ${s + 1}/${cfg.seeds} m=${m} closed ${map}`);
            }
          }

          if (tr && trainMs.includes(m)) {
            const t1 = performance.now();
            const nT = tr.n * H * L * d;
            const negT = gpu.tensor([nT], undefined, 'T.train.neg');
            const lseT = gpu.tensor([tr.n * H * L], undefined, 'lse.train');
            const minusOne = gpu.tensor([1], Float32Array.of(-1), '-1');
            try {
              prefixAttentionForward(gpu, { q: tr.q, k: tr.k, v: tr.v, pk, pv, o: negT, lse: lseT }, { B: tr.n, H, L, d, m });
              scaleByScalar(gpu, negT, minusOne);
              firstMs += performance.now() - t1;
              progress(cost.target(m, cost.rowsTrain), `seed ${s + 1}/${cfg.seeds} m=${m} train target`);
              for (const map of cfg.maps) {
                for (const method of trained) {
                  if (hooks.signal?.aborted) {
                    aborted = true;
                    break;
                  }
                  const t2 = performance.now();
                  const label = `seed ${s + 1}/${cfg.seeds} m=${m} ${method} ${map}`;
                  const res = await train(gpu, cfg, method, map, tr, negT, ev, y, score, (u) => progress(u, label), cost.train(map, method));
                  emit({ ...base, method, map, ...res.score, initRel: res.initRel, initTrainLoss: res.initTrainLoss, trainLoss: res.trainLoss, ms: performance.now() - t2 + firstMs });
                  firstMs = 0;
                }
              }
            } finally {
              gpu.release(negT, lseT, minusOne);
            }
          }
        } finally {
          gpu.release(pk, pv);
        }
      }
      gpu.release(...owned.splice(0));
    }
  } finally {
    gpu.release(...owned);
  }

  return {
    experiment: 'approx-error',
    config: cfg,
    points,
    summary: summarize(points),
    fits: fitAll(points, cfg),
    seeds,
    adapter: describeAdapter(gpu.report),
    elapsedMs: performance.now() - t0,
    aborted,
  };
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return a.length ? s / a.length : NaN;
}

type Score = { rel: number | null; maxAbs: number | null; relTarget: number | null };

/**
 * Trains (Z, k) by full-batch Adam on MSE(Y, T) over the training set, then scores on the
 * evaluation set. negT holds −T of the training set, so Y + negT = Y − T ∝ ∂MSE/∂Y; the
 * MSE's 2/n enters through adamw's gradScale.
 *
 * - paper:  Z [H,r,d] and κ [H,r] trained directly, kParam 'abs' (k̃ = |κ|).
 * - robust: k = exp(κ), Z = diag(k)·W̃; W̃ [H,r,d] and κ are trained. The kernels run with
 *   kParam 'exp', so their dκ is already ∂ℓ/∂κ through k̃ = e^κ; the chain rule of
 *   Z = diag(k)·W̃ adds ∂ℓ/∂W̃ = diag(k)·dZ and ∂ℓ/∂κ += k ⊙ rowsum(dZ ⊙ W̃)
 *   (robustForward/robustBackward in approx_ntk.ts: batched matmuls, no readback per step).
 * Both start from the same function: Z = 0 and k̃ = initialKTilde (approx_ntk.ts), a small
 * attention sink that leaves Y ≈ Y₀ (relative error ≈ 1, nothing captured).
 */
async function train(
  gpu: Gpu,
  cfg: ApproxConfig,
  method: 'paper' | 'robust',
  map: FeatureMapName,
  tr: GpuSet,
  negT: Tensor,
  ev: GpuSet,
  yEval: Tensor,
  score: (y: Tensor) => Promise<Score>,
  tick: (units: number) => void,
  units: number,
): Promise<{ score: Score; initRel: number | null; initTrainLoss: number | null; trainLoss: number | null }> {
  const { heads: H, L, d } = cfg;
  const r = featureDim(map, d);
  const nZ = H * r * d;
  const nK = H * r;
  const nY = tr.n * H * L * d;
  const kTilde = initialKTilde(map, d, H);
  const robust = method === 'robust';
  const kParam = robust ? 'exp' : 'abs';
  const kappa0 = Float32Array.from(robust ? kTilde.map(Math.log) : kTilde);
  const hp: AdamWHyper = { ...ADAM, lr: cfg.lr };
  const dimsT = { B: tr.n, H, L, d, map, kParam } as const;
  const dimsE = { B: ev.n, H, L, d, map, kParam } as const;
  const shape = { H, r, d };

  const ts: Tensor[] = [];
  const t = (n: number, data?: Float32Array, label?: string) => {
    const x = gpu.tensor([n], data, label);
    ts.push(x);
    return x;
  };
  const zeros = (n: number, label: string) => t(n, new Float32Array(n), label);
  const z = zeros(nZ, 'Z');
  const kappa = t(nK, kappa0, 'kappa');
  const w = robust ? zeros(nZ, 'W~') : null;
  const k = robust ? t(nK, undefined, 'k = exp(kappa)') : null;
  const gw = robust ? t(nZ, undefined, 'dW~') : null;
  const dz = t(nZ, undefined, 'dZ');
  const dkappa = t(nK, undefined, 'dkappa');
  const y = t(nY, undefined, 'Y.train');
  const dO = t(nY, undefined, 'dY');
  const dq = t(nY, undefined, 'dq');
  const dk = t(nY, undefined, 'dk');
  const dv = t(nY, undefined, 'dv');
  const statsT = t(tr.n * H * L * 2, undefined, 'stats.train');
  const statsE = t(ev.n * H * L * 2, undefined, 'stats.eval');
  const scale = t(1, Float32Array.of(2 / nY), '2/n');
  const trained = robust ? w! : z;
  const trainedGrad = robust ? gw! : dz;
  const mz = zeros(nZ, 'adam.m.Z');
  const vz = zeros(nZ, 'adam.v.Z');
  const mk = zeros(nK, 'adam.m.kappa');
  const vk = zeros(nK, 'adam.v.kappa');
  /** MSE(Y, T) over the training set at the current (Z, k). */
  const trainMse = async () => {
    if (robust) robustForward(gpu, kappa, k!, w!, z, shape);
    ntkForward(gpu, tr, z, kappa, y, statsT, dimsT);
    add(gpu, y, negT, dO);
    const { sumSq } = await errorMetrics(gpu, dO);
    return Number.isFinite(sumSq) ? sumSq / nY : null;
  };
  try {
    ntkForward(gpu, ev, z, kappa, yEval, statsE, dimsE);
    const initRel = (await score(yEval)).rel;
    const initTrainLoss = await trainMse();

    const perSync = units / Math.max(1, Math.ceil(cfg.steps / SYNC_EVERY));
    for (let step = 1; step <= cfg.steps; step++) {
      if (robust) robustForward(gpu, kappa, k!, w!, z, shape);
      ntkForward(gpu, tr, z, kappa, y, statsT, dimsT);
      add(gpu, y, negT, dO);
      ntkBackward(gpu, tr, z, kappa, y, statsT, dO, { dq, dk, dv, dz, dkappa }, dimsT);
      if (robust) robustBackward(gpu, k!, w!, dz, gw!, dkappa, shape);
      adamw(gpu, trained, trainedGrad, mz, vz, hp, step, { decay: false, gradScale: scale });
      adamw(gpu, kappa, dkappa, mk, vk, hp, step, { decay: false, gradScale: scale });
      if (step % SYNC_EVERY === 0 || step === cfg.steps) {
        await gpu.sync();
        tick(perSync);
      }
    }
    if (cfg.steps === 0) tick(units);
    const trainLoss = await trainMse();
    ntkForward(gpu, ev, z, kappa, yEval, statsE, dimsE);
    return { score: await score(yEval), initRel, initTrainLoss, trainLoss };
  } finally {
    gpu.release(...ts);
  }
}

// ---------------------------------------------------------------------------- summaries

/** Mean and spread over seeds per (method, map, m). */
export function summarize(points: readonly ApproxPoint[]): ApproxSummaryRow[] {
  const rows: ApproxSummaryRow[] = [];
  for (const ps of groupBy(points, (p) => `${p.method}|${p.map}|${p.m}`).values()) {
    const nums = (f: (p: ApproxPoint) => number | null | undefined) => ps.map((p) => f(p) ?? NaN);
    rows.push({ method: ps[0].method, map: ps[0].map, m: ps[0].m, rel: spread(nums((p) => p.rel)), maxAbs: spread(nums((p) => p.maxAbs)), beta: spread(nums((p) => p.beta)), trainRatio: spread(nums((p) => trainRatio(p))) });
  }
  const order = (r: ApproxSummaryRow) => `${['closed', 'paper', 'robust'].indexOf(r.method)}|${r.map}`;
  return rows.sort((a, b) => order(a).localeCompare(order(b)) || a.m - b.m);
}

/** Power-law fits of rel against m per (method, map): all points, the tail, per seed. */
export function fitAll(points: readonly ApproxPoint[], cfg: Pick<ApproxConfig, 'maxM' | 'trainMaxM'>): ApproxFit[] {
  const fits: ApproxFit[] = [];
  for (const ps of groupBy(points, (p) => `${p.method}|${p.map}`).values()) {
    const { method, map } = ps[0];
    const maxM = method === 'closed' ? cfg.maxM : cfg.trainMaxM;
    const tailFrom = Math.max(1, 2 ** Math.floor(Math.log2(maxM) / 2));
    const xs = ps.map((p) => p.m);
    const ys = ps.map((p) => p.rel ?? NaN);
    const tail = ps.filter((p) => p.m >= tailFrom);
    const perSeed = [...groupBy(ps, (p) => String(p.seed)).values()].map((q) => fitPowerLaw(q.map((p) => p.m), q.map((p) => p.rel ?? NaN)).slope);
    fits.push({
      method,
      map,
      all: fitPowerLaw(xs, ys),
      tail: fitPowerLaw(tail.map((p) => p.m), tail.map((p) => p.rel ?? NaN)),
      tailFrom,
      perSeed: spread(perSeed),
    });
  }
  return fits;
}
