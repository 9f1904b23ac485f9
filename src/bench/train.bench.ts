// Training throughput of the app's default model with every method, against the same GPT
// written with TensorFlow.js (WebGPU backend 4.22, same Dawn adapter, same sizes, same
// optimiser, same initial weights, same batches) in one run.
//
// A step is what src/train/trainer.ts does: upload the batch, forward, backward, clipping +
// AdamW, then await the loss on the CPU (so all of the step's work has run); TF.js: the
// same through tf.variableGrads and tf-op AdamW (./tfjs_gpt.ts), then `await loss.data()`.
// Wall clock per step, timed in interleaved rounds (every method once per round, the
// starting method rotating) so that load from other processes hits all alike. Load only
// ever adds time, so a method's headline figure is its fastest step (the one least
// disturbed); the median over all its timed steps is shown beside it.
//
// Checks printed with the figures: the first-step loss of TF.js and ours (same weights,
// same batch) must agree within 1e-3, else the two models differ and the figures are void;
// the second-step loss (after one clipped AdamW update) is shown too.
import { loadavg } from 'node:os';
import { nodeGPU } from '../gpu/node';
import type { Gpu } from '../gpu/runtime';
import { type AdapterSpec, countParams } from '../model/params';
import { BatchBuffers } from '../train/trainer';
import { fmtSpread, median, roundRatios, table, timeInterleaved, type Bench, type Spread } from './bench';
import { registerTfGradients, TfGpt } from './tfjs_gpt';
import { defaultTrainSetting, oursStep } from './train_setup';

type Tf = typeof import('@tensorflow/tfjs-core');

/** First-step losses must agree this closely, or the two models differ. */
const LOSS_TOL = 1e-3;

/** TF.js's WebGPU backend looks for `navigator.gpu` when imported and when the backend is
 *  created: install the Dawn GPU object (same factory as ours: same adapter) meanwhile. */
async function loadTf(): Promise<{ tf: Tf; restore: () => void }> {
  const before = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: await nodeGPU(), userAgent: 'node' }, configurable: true, writable: true });
  const restore = () => {
    if (before) Object.defineProperty(globalThis, 'navigator', before);
    else delete (globalThis as { navigator?: unknown }).navigator;
  };
  try {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
    registerTfGradients();
    if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') failed");
    await tf.ready();
    return { tf, restore };
  } catch (e) {
    restore();
    throw e;
  }
}

interface Method {
  label: string;
  adapter: AdapterSpec;
  /** 'tfjs' runs ./tfjs_gpt.ts (full fine-tuning); 'tfjs-adam' the same with tf.train.adam; 'ours' runs GptGpu. */
  impl: 'ours' | 'tfjs' | 'tfjs-adam';
}

interface Row {
  label: string;
  impl: Method['impl'];
  method: AdapterSpec['method'];
  /** Prefix length (prefix rows), else null. */
  m: number | null;
  trainable: number;
  /** Fastest timed step, ms (the headline). */
  msPerStep: number;
  /** Median over every timed step, ms. */
  msMedian: number;
  tokensPerSec: number;
  /** Every timed step, ms, round by round. */
  samples: number[][];
  /** CPU time of this process (every thread: the software adapter's too) per timed step, ms. */
  cpuSamples: number[][];
  /** Median CPU ms per step. */
  cpuMs: number;
  /** ours / TF.js tokens per second. */
  vsTfjs: number | null;
  /** step time / the base model's (prefix m = 0: frozen base, nothing added). */
  vsBase: number | null;
  /** The same two ratios from the median CPU time per step. */
  vsTfjsCpu: number | null;
  vsBaseCpu: number | null;
  /** Per-round step / base step (each round times every method once): median [min–max]. */
  vsBaseRounds: Spread | null;
  vsBaseCpuRounds: Spread | null;
  /** Peak bytes of live tensors while the model was built and trained (ours only). */
  peakBytes: number | null;
  /** Prefix-shaped tensors (keys, values: params, grads, Adam m, v), bytes. */
  prefixBytes: number;
  beyondPrefixBytes: number | null;
  firstLoss: number;
  secondLoss: number;
}

/** Bytes of one gpu.tensor of numel floats (runtime.ts rounds buffers up to 16 bytes). */
const tensorBytes = (numel: number) => Math.max(16, Math.ceil((numel * 4) / 16) * 16);

/** Least-squares slope of log y on log x. */
function logSlope(pts: [number, number][]): number | null {
  const p = pts.filter(([x, y]) => x > 0 && y > 0);
  if (p.length < 2) return null;
  const lx = p.map(([x]) => Math.log(x));
  const ly = p.map(([, y]) => Math.log(y));
  const mx = lx.reduce((a, b) => a + b, 0) / p.length;
  const my = ly.reduce((a, b) => a + b, 0) / p.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < p.length; i++) {
    sxy += (lx[i] - mx) * (ly[i] - my);
    sxx += (lx[i] - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : null;
}

export const bench: Bench = {
  name: 'train',
  async run(gpu: Gpu, opts) {
    const quick = opts.quick;
    const setting = await defaultTrainSetting();
    const { run, B, T, config, base, batches, hyper } = setting;

    const ms = quick ? [0, 16, 256] : [0, 16, 256, 4096];
    const methods: Method[] = [
      { label: 'TF.js full', adapter: { method: 'full' }, impl: 'tfjs' },
      { label: 'TF.js full, tf.train.adam (no clip, no decay)', adapter: { method: 'full' }, impl: 'tfjs-adam' },
      { label: 'full', adapter: { method: 'full' }, impl: 'ours' },
      ...ms.map((m): Method => ({ label: m === 0 ? 'base (prefix m=0)' : `prefix m=${m}`, adapter: { method: 'prefix', prefixLength: m }, impl: 'ours' })),
      { label: 'NTK elu1', adapter: { method: 'ntk', featureMap: 'elu1', kParam: 'exp', rank: 0 }, impl: 'ours' },
      { label: 'NTK taylor2', adapter: { method: 'ntk', featureMap: 'taylor2', kParam: 'exp', rank: 0 }, impl: 'ours' },
      { label: 'LoRA r=8', adapter: { method: 'lora', rank: run.loraRank, alpha: run.loraAlpha }, impl: 'ours' },
    ];
    const rounds = quick ? 10 : 16;
    const stepsPerRound = 1;
    const load0 = loadavg()[0];

    const { tf, restore } = await loadTf();
    const buf = new BatchBuffers(gpu, B, T);
    const runners: { method: Method; step: (i: number) => Promise<number>; row: Row; dispose: () => void }[] = [];
    try {
      for (const method of methods) {
        const a = method.adapter;
        const m = a.method === 'prefix' ? a.prefixLength : 0;
        const prefixBytes = a.method === 'prefix' && m > 0 ? config.nLayer * 2 * 4 * tensorBytes(config.nHead * m * (config.nEmbd / config.nHead)) : 0;
        let step: (i: number) => Promise<number>;
        let dispose: () => void;
        let trainable: number;
        const base0 = gpu.memory().liveBytes;
        gpu.resetPeak();
        if (method.impl !== 'ours') {
          const model = new TfGpt(tf, config, base);
          const adam = method.impl === 'tfjs-adam' ? tf.train.adam(hyper.lr, hyper.beta1, hyper.beta2, hyper.eps) : null;
          trainable = countParams(model.specs);
          step = async (i) => {
            const b = batches[i % batches.length];
            const tk = tf.tensor2d(b.inputs, [B, T], 'int32');
            const tg = tf.tensor2d(b.targets, [B, T], 'int32');
            const loss = adam ? model.trainStepBuiltinAdam(tk, tg, adam) : model.trainStep(tk, tg, hyper);
            const v = (await loss.data())[0];
            tf.dispose([tk, tg, loss]);
            return v;
          };
          dispose = () => {
            model.dispose();
            adam?.dispose();
          };
        } else {
          const ours = oursStep(gpu, setting, a, buf);
          const model = ours.model;
          trainable = model.trainableCount();
          step = ours.step;
          dispose = () => model.destroy();
        }
        // Warm-up: the first step compiles every pipeline; both give the checked losses.
        const t0 = performance.now();
        const firstLoss = await step(0);
        const secondLoss = await step(1);
        const peak = method.impl === 'ours' ? gpu.memory().peakBytes - base0 : null;
        console.log(`  ${method.label}: warm-up ${((performance.now() - t0) / 1000).toFixed(1)} s, losses ${firstLoss.toFixed(5)}, ${secondLoss.toFixed(5)}`);
        runners.push({
          method, step, dispose,
          row: {
            label: method.label, impl: method.impl, method: a.method, m: a.method === 'prefix' ? m : null, trainable,
            msPerStep: NaN, msMedian: NaN, tokensPerSec: NaN, samples: [], cpuSamples: [], cpuMs: NaN, vsTfjs: null, vsBase: null, vsTfjsCpu: null, vsBaseCpu: null, vsBaseRounds: null, vsBaseCpuRounds: null,
            peakBytes: peak, prefixBytes, beyondPrefixBytes: peak === null ? null : peak - prefixBytes, firstLoss, secondLoss,
          },
        });
      }

      const times = await timeInterleaved(runners.map((x) => x.step), rounds, stepsPerRound, 2);
      runners.forEach((x, j) => {
        x.row.samples = times.wall[j];
        x.row.cpuSamples = times.cpu[j];
      });
    } finally {
      for (const x of runners) x.dispose();
      buf.release();
      tf.disposeVariables();
      tf.engine().reset();
      restore();
    }

    const rows = runners.map((x) => x.row);
    for (const row of rows) {
      row.msPerStep = Math.min(...row.samples.flat());
      row.msMedian = median(row.samples.flat());
      row.cpuMs = median(row.cpuSamples.flat());
      row.tokensPerSec = (B * T * 1000) / row.msPerStep;
    }
    const tfRow = rows.find((r) => r.impl === 'tfjs')!;
    const tfAdamRow = rows.find((r) => r.impl === 'tfjs-adam')!;
    const fullRow = rows.find((r) => r.impl === 'ours' && r.method === 'full')!;
    const baseRow = rows.find((r) => r.m === 0)!;
    for (const row of rows) {
      if (row.impl === 'ours') {
        row.vsTfjs = row.tokensPerSec / tfRow.tokensPerSec;
        row.vsTfjsCpu = tfRow.cpuMs / row.cpuMs;
      }
      row.vsBase = row.msPerStep / baseRow.msPerStep;
      row.vsBaseCpu = row.cpuMs / baseRow.cpuMs;
      row.vsBaseRounds = roundRatios(row.samples, baseRow.samples);
      row.vsBaseCpuRounds = roundRatios(row.cpuSamples, baseRow.cpuSamples);
    }
    const lossDiff = Math.abs(tfRow.firstLoss - fullRow.firstLoss);
    const secondDiff = Math.abs(tfRow.secondLoss - fullRow.secondLoss);
    const valid = lossDiff <= LOSS_TOL;
    const prefixRows = rows.filter((r) => r.m !== null && r.m > 0);
    // Growth of the step time in m: of the whole step, and of the part a prefix adds.
    const expTotal = logSlope(prefixRows.map((r) => [r.m!, r.msPerStep]));
    const expAdded = logSlope(prefixRows.map((r) => [r.m!, r.msPerStep - baseRow.msPerStep]));
    const expTotalCpu = logSlope(prefixRows.map((r) => [r.m!, r.cpuMs]));
    const expAddedCpu = logSlope(prefixRows.map((r) => [r.m!, r.cpuMs - baseRow.cpuMs]));
    const fmtExp = (e: number | null) => (e === null ? 'n/a' : e.toFixed(2));
    const beyond = rows.filter((r) => r.m !== null).map((r) => r.beyondPrefixBytes!);
    const beyondSpread = Math.max(...beyond) - Math.min(...beyond);
    const ntkRows = rows.filter((r) => r.method === 'ntk');
    const load1 = loadavg()[0];

    const kib = (b: number | null) => (b === null ? '–' : (b / 1024).toFixed(1));
    const markdown = [
      `Default model of the app (the shipped public/models/base, its weights): V=${config.vocabSize}, context ${config.contextLength}, ${config.nLayer} layers, ${config.nHead} heads, C=${config.nEmbd} (d=${config.nEmbd / config.nHead}); batch B=${B}, T=${T} (the run defaults); Moby Dick batches, the same for every row.`,
      `AdamW lr ${hyper.lr}, betas ${hyper.beta1}/${hyper.beta2}, eps ${hyper.eps}, weight decay ${hyper.weightDecay} on the specs' decay tensors, global-norm clip ${hyper.gradClip}; TF.js: ./tfjs_gpt.ts, the same GPT and update in tf ops, full fine-tuning, WebGPU backend 4.22 on the same adapter, the same initial weights.`,
      `A step = upload the batch, forward, backward, clip + AdamW, await the loss on the CPU; wall clock, ${rounds} interleaved rounds × ${stepsPerRound} steps per method after 2 warm-up steps; ms/step and tokens/s from the fastest step (load only adds time), the median of all steps beside it. **CPU ms**: median CPU time of this process per step (all its threads, the software adapter's included): on a software adapter that is the work done, and it is much less sensitive to load than wall clock, so the ratios are given from it too.`,
      `Measured with the machine under load from other work (1-min load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end): absolute figures are pessimistic, ratios are what to read.`,
      '',
      `**Sanity check** (same weights, same batch): first-step loss TF.js ${tfRow.firstLoss.toFixed(6)}, ours ${fullRow.firstLoss.toFixed(6)}, |Δ| = ${lossDiff.toExponential(2)} ` +
        (valid ? `≤ ${LOSS_TOL}: the two models agree.` : `> ${LOSS_TOL}: **THE MODELS DIFFER; THE FIGURES BELOW ARE VOID.**`) +
        ` Second-step loss (after one clipped AdamW update): TF.js ${tfRow.secondLoss.toFixed(6)}, ours ${fullRow.secondLoss.toFixed(6)}, |Δ| = ${secondDiff.toExponential(2)}.`,
      '',
      table(
        ['method', 'trainable', 'ms/step', 'median ms', 'CPU ms', 'tokens/s', 'ours / TF.js tokens/s (wall; CPU)', 'step / base step (wall; CPU)', 'per-round step / base, wall: median [min–max]', 'per-round step / base, CPU', 'peak KiB', 'prefix tensors KiB', 'peak beyond prefix KiB'],
        rows.map((r) => [
          r.label, r.trainable, r.msPerStep, r.msMedian, r.cpuMs, Math.round(r.tokensPerSec),
          r.vsTfjs === null ? '–' : `${r.vsTfjs.toFixed(2)}x; ${r.vsTfjsCpu!.toFixed(2)}x`, `${r.vsBase!.toFixed(2)}; ${r.vsBaseCpu!.toFixed(2)}`, fmtSpread(r.vsBaseRounds!), fmtSpread(r.vsBaseCpuRounds!),
          kib(r.peakBytes), r.m === null ? '–' : kib(r.prefixBytes), r.m === null ? '–' : kib(r.beyondPrefixBytes),
        ]),
      ),
      '',
      `- ours full / TF.js full: **${fullRow.vsTfjs!.toFixed(2)}x** tokens/s (wall; ${fullRow.vsTfjsCpu!.toFixed(2)}x by CPU time; target ≥ 2x). Against TF.js with its own tf.train.adam (a lighter update than ours: no clipping, no decay): ${(fullRow.tokensPerSec / tfAdamRow.tokensPerSec).toFixed(2)}x wall, ${(tfAdamRow.cpuMs / fullRow.cpuMs).toFixed(2)}x CPU.`,
      `- NTK-Attention step / base step (prefix m = 0: the frozen base with nothing added), per-round median [min–max] over ${rounds} rounds, wall; CPU: ${ntkRows.map((r) => `${r.label} ${fmtSpread(r.vsBaseRounds!)}; ${fmtSpread(r.vsBaseCpuRounds!)}`).join(', ')} (goals, issue 11: elu1 ≤ 1.05, taylor2 ≤ 1.25). NTK-Attention has no m: its tensors are [H, r, d] whatever prefix length it stands for, so this one figure holds at every m.`,
      `- Prefix step time vs m (wall; CPU): m=0 ${baseRow.msPerStep.toFixed(1)}; ${baseRow.cpuMs.toFixed(1)} ms, ${prefixRows.map((r) => `m=${r.m} ${r.msPerStep.toFixed(1)}; ${r.cpuMs.toFixed(1)} ms`).join(', ')}. Fitted exponent in m (log-log least squares over m > 0) of the step time ${fmtExp(expTotal)}; ${fmtExp(expTotalCpu)}, of the time added over m = 0 ${fmtExp(expAdded)}; ${fmtExp(expAddedCpu)} (≤ 1: no faster than linear; n/a: fewer than two positive points).`,
      `- Peak beyond the prefix tensors over m = ${ms.join(', ')}: ${beyond.map((b) => kib(b)).join(', ')} KiB (spread ${kib(beyondSpread)} KiB: flat in m when ≈ 0).`,
    ].join('\n');
    return {
      title: 'Training throughput vs TensorFlow.js (WebGPU backend)',
      markdown,
      data: {
        config, B, T, hyper, rounds, stepsPerRound, loadAverage: { start: load0, end: load1 },
        sanity: { tfjsFirstLoss: tfRow.firstLoss, oursFirstLoss: fullRow.firstLoss, diff: lossDiff, tol: LOSS_TOL, valid, tfjsSecondLoss: tfRow.secondLoss, oursSecondLoss: fullRow.secondLoss, secondDiff },
        prefixExponent: { total: expTotal, added: expAdded, totalCpu: expTotalCpu, addedCpu: expAddedCpu }, beyondPrefixSpreadBytes: beyondSpread,
        rows,
      },
    };
  },
};
