// NTK-Attention training step against the base step at GPT-2-small's head dimension (d = 64),
// issue 11's goal "elu1 within 5%". The train bench times the app's default model, whose
// heads are narrower; here a GPT-2-shaped model with d = 64 and random weights (initParams,
// fixed seed) stands in, small enough that a step stays well under a second on lavapipe.
// Same method as train.bench.ts: interleaved rounds, per-round step / base step, median
// [min–max], by wall and by CPU time (./bench.ts timeInterleaved, roundRatios).
import { loadavg } from 'node:os';
import type { Gpu } from '../gpu/runtime';
import { NTK_MAX_HEAD_DIM } from '../kernels/ntk_attention';
import { initParams } from '../model/init';
import { baseParamSpecs, featureDimOf, headDim, type AdapterSpec, type ModelConfig } from '../model/params';
import { defaultConfig } from '../train/config';
import { BatchBuffers } from '../train/trainer';
import { Rng } from '../util/rng';
import { fmtSpread, median, roundRatios, table, timeInterleaved, type Bench } from './bench';
import { oursStep, SEED, type StepSetting } from './train_setup';

/** Low rank s of taylor2's Z = Z_A·Z_B (full rank is r = 1 + d + d² = 4161 features at d 64). */
const TAYLOR2_RANK = 16;

export const bench: Bench = {
  name: 'ntk_d64',
  async run(gpu: Gpu, opts) {
    const quick = opts.quick;
    // Quick: a smoke run (tiny widths, same d, a few rounds).
    const config: ModelConfig = quick
      ? { vocabSize: 64, contextLength: 16, nLayer: 1, nHead: 1, nEmbd: 64 }
      : { vocabSize: 512, contextLength: 64, nLayer: 2, nHead: 2, nEmbd: 128 };
    const B = quick ? 1 : 4;
    const T = config.contextLength;
    const d = headDim(config);
    const run = defaultConfig();
    const base = initParams(baseParamSpecs(config), SEED);
    const rng = new Rng(SEED);
    const batches = Array.from({ length: 4 }, () => {
      const inputs = Int32Array.from({ length: B * T }, () => rng.int(0, config.vocabSize - 1));
      const targets = Int32Array.from({ length: B * T }, () => rng.int(0, config.vocabSize - 1));
      return { B, T, inputs, targets };
    });
    // The trainer's AdamW settings, as the train bench uses them.
    const hyper = { lr: run.lr, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: run.gradClip };
    const setting: StepSetting = { config, base, batches, B, T, hyper };

    const kParam = run.kParam;
    const methods: { label: string; adapter: AdapterSpec }[] = [
      { label: 'base (prefix m=0)', adapter: { method: 'prefix', prefixLength: 0 } },
      { label: `NTK elu1, full rank (r = d = ${d})`, adapter: { method: 'ntk', featureMap: 'elu1', kParam, rank: 0 } },
      // d = 64 is within NTK_MAX_HEAD_DIM, so taylor2 runs; full rank would be a 4161 × 64 Z per head.
      { label: `NTK taylor2, rank s=${TAYLOR2_RANK} (r = ${featureDimOf('taylor2', d)})`, adapter: { method: 'ntk', featureMap: 'taylor2', kParam, rank: TAYLOR2_RANK } },
    ];
    if (d > NTK_MAX_HEAD_DIM) throw new Error(`ntk_d64 bench: head dimension ${d} exceeds NTK-Attention's ${NTK_MAX_HEAD_DIM}`);
    const rounds = quick ? 2 : 16;
    const stepsPerRound = 1;
    const load0 = loadavg()[0];

    const buf = new BatchBuffers(gpu, B, T);
    const runners: { label: string; adapter: AdapterSpec; step: (i: number) => Promise<number>; destroy: () => void; firstLoss: number }[] = [];
    let times;
    try {
      for (const m of methods) {
        const ours = oursStep(gpu, setting, m.adapter, buf);
        const runner = { ...m, step: ours.step, destroy: () => ours.model.destroy(), firstLoss: NaN };
        runners.push(runner);
        // Warm-up: the first step compiles every pipeline.
        const t0 = performance.now();
        runner.firstLoss = await ours.step(0);
        await ours.step(1);
        console.log(`  ${m.label}: warm-up ${((performance.now() - t0) / 1000).toFixed(1)} s, first loss ${runner.firstLoss.toFixed(5)}`);
      }
      times = await timeInterleaved(runners.map((x) => x.step), rounds, stepsPerRound, 2);
    } finally {
      for (const x of runners) x.destroy();
      buf.release();
    }
    const load1 = loadavg()[0];

    const rows = runners.map((x, j) => ({
      label: x.label,
      adapter: x.adapter,
      firstLoss: x.firstLoss,
      msMin: Math.min(...times.wall[j].flat()),
      msMedian: median(times.wall[j].flat()),
      cpuMs: median(times.cpu[j].flat()),
      vsBaseRounds: roundRatios(times.wall[j], times.wall[0]),
      vsBaseCpuRounds: roundRatios(times.cpu[j], times.cpu[0]),
      samples: times.wall[j],
      cpuSamples: times.cpu[j],
    }));
    const [, elu1] = rows;
    const markdown = [
      `GPT-2-shaped model at GPT-2-small's head dimension d = ${d}: V=${config.vocabSize}, context ${config.contextLength}, ${config.nLayer} layers, ${config.nHead} heads, C=${config.nEmbd}; random weights (initParams, seed ${SEED}); batch B=${B}, T=${T}, random tokens; k parameterisation '${kParam}' (the app default); AdamW as in the train bench.`,
      `A step = upload the batch, forward, backward, clip + AdamW, await the loss; ${rounds} interleaved rounds × ${stepsPerRound} step per method after 2 warm-up steps (the train bench's method). 1-min load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end.`,
      '',
      table(
        ['method', 'fastest ms', 'median ms', 'CPU ms', 'per-round step / base, wall: median [min–max]', 'per-round step / base, CPU'],
        rows.map((r) => [r.label, r.msMin, r.msMedian, r.cpuMs, fmtSpread(r.vsBaseRounds), fmtSpread(r.vsBaseCpuRounds)]),
      ),
      '',
      `- NTK elu1 step / base step at d = ${d}: **${fmtSpread(elu1.vsBaseRounds)}** wall, **${fmtSpread(elu1.vsBaseCpuRounds)}** CPU (goal, issue 11: ≤ 1.05).`,
    ].join('\n');
    return {
      title: `NTK-Attention step / base step at head dimension d = ${d}`,
      markdown,
      data: { config, B, T, hyper, kParam, rounds, stepsPerRound, loadAverage: { start: load0, end: load1 }, rows },
    };
  },
};
