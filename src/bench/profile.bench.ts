// Where a training step's time goes, kernel by kernel: for one step (forward, backward,
// clip + AdamW) of the base (prefix m = 0), prefix, NTK-Attention and LoRA models on the
// train benchmark's setting (./train_setup.ts), the GPU time of every dispatch, summed per
// kernel (shader file, plus its entry point where a file has several).
//
// How: while a profiled step is recorded, `gpu.dispatch` is wrapped so that each dispatch
// is its own submission. With timestamp-query (Dawn on lavapipe and SwiftShader has it),
// each gets its own compute pass whose begin/end timestamps are that kernel's time alone
// (beginProfile/endProfile around the one dispatch). Without it, each dispatch is
// submitted and its completion awaited through onSubmittedWorkDone; a kernel's time is
// then from the later of its submission and the previous completion to its completion
// (submission overhead included, so the shares are rougher). Splitting a step into one
// submission per kernel costs wall time, so the step's unprofiled wall and CPU time is
// measured beside it: "outside kernels" is that wall time less the kernels' sum.
//
// Every model is profiled `repeats` times, the models interleaved; each kernel's figure is
// its median over the repeats.
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Gpu, Kernel } from '../gpu/runtime';
import type { AdapterSpec } from '../model/params';
import { BatchBuffers } from '../train/trainer';
import { median, table, type Bench } from './bench';
import { profileSvg, profileTitle, type ProfileBar } from './profile_chart';
import { defaultTrainSetting, oursStep } from './train_setup';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const PROFILE_SVG = join(root, 'docs/profile.svg');

const kernelName = (k: Kernel) => (k.spec.entry && k.spec.entry !== 'main' ? `${k.spec.shader}:${k.spec.entry}` : k.spec.shader);

/**
 * Runs `record` (which records one step's GPU work) with every dispatch in its own
 * submission; returns GPU ms per kernel name and how the times were taken.
 */
export async function profileKernels(gpu: Gpu, record: () => void): Promise<{ ms: Map<string, number>; source: 'gpu-timestamps' | 'timed-submissions' }> {
  const ms = new Map<string, number>();
  const add = (name: string, v: number) => ms.set(name, (ms.get(name) ?? 0) + v);
  const pending: Promise<void>[] = [];
  const original = gpu.dispatch;
  await gpu.sync();
  let lastDone = performance.now();
  gpu.dispatch = function (this: Gpu, k, buffers, workgroups, p) {
    const name = kernelName(k);
    if (gpu.hasTimestamps) {
      gpu.beginProfile();
      original.call(gpu, k, buffers, workgroups, p);
      // endProfile resolves this dispatch's query pair before the next one is recorded
      // (queue order), so in-flight reads never see a later kernel's timestamps.
      pending.push(
        gpu.endProfile().then((ns) => {
          add(name, (ns ?? 0) / 1e6);
        }),
      );
    } else {
      original.call(gpu, k, buffers, workgroups, p);
      gpu.flush();
      const submitted = performance.now();
      pending.push(
        gpu.device.queue.onSubmittedWorkDone().then(() => {
          const done = performance.now();
          add(name, done - Math.max(submitted, lastDone));
          lastDone = done;
        }),
      );
    }
  };
  try {
    record();
    await gpu.sync();
    await Promise.all(pending);
  } finally {
    gpu.dispatch = original;
  }
  return { ms, source: gpu.hasTimestamps ? 'gpu-timestamps' : 'timed-submissions' };
}

/**
 * CPU time per kernel (all of this process's threads, the software adapter's included):
 * `record` is recorded with every dispatch captured instead of run, then the dispatches are
 * replayed one at a time, each awaited, in the order recorded. On a software adapter that
 * is the work each kernel does, and far less sensitive to other processes' load than GPU
 * timestamps (which there are wall clock). The replay runs after the step has been
 * recorded whole, so buffers the step released may hold other data by then: these kernels'
 * cost does not depend on the values.
 */
export async function cpuProfileKernels(gpu: Gpu, record: () => void): Promise<Map<string, number>> {
  const captured: { name: string; run: () => void }[] = [];
  const original = gpu.dispatch;
  await gpu.sync();
  gpu.dispatch = function (this: Gpu, k, buffers, workgroups, p) {
    captured.push({ name: kernelName(k), run: () => original.call(gpu, k, buffers, workgroups, p) });
  };
  try {
    record();
  } finally {
    gpu.dispatch = original;
  }
  await gpu.sync();
  const ms = new Map<string, number>();
  for (const c of captured) {
    const c0 = process.cpuUsage();
    c.run();
    await gpu.sync();
    const u = process.cpuUsage(c0);
    ms.set(c.name, (ms.get(c.name) ?? 0) + (u.user + u.system) / 1000);
  }
  return ms;
}

/** docs/profile.svg: each model's kernels by CPU ms. */
export function profileChart(profiles: { label: string; cpuKernels: Record<string, number> }[], repeats: number): string {
  const bars: ProfileBar[] = profiles.map((p) => ({ label: p.label, kernels: p.cpuKernels }));
  return profileSvg(bars, profileTitle('CPU time, dispatches replayed one by one', repeats));
}

interface ModelProfile {
  label: string;
  /** Kernel → median GPU ms per step over the repeats. */
  kernels: Record<string, number>;
  kernelMs: number;
  /** Kernel → median CPU ms per step (cpuProfileKernels). */
  cpuKernels: Record<string, number>;
  cpuKernelMs: number;
  /** Median wall and CPU ms of the same step run normally (one submission). */
  stepWallMs: number;
  stepCpuMs: number;
  dispatches: number;
}

export const bench: Bench = {
  name: 'profile',
  async run(gpu, opts) {
    const setting = await defaultTrainSetting();
    const { run } = setting;
    const models: { label: string; adapter: AdapterSpec }[] = [
      { label: 'base (prefix m=0)', adapter: { method: 'prefix', prefixLength: 0 } },
      { label: 'prefix m=16', adapter: { method: 'prefix', prefixLength: 16 } },
      { label: 'NTK elu1', adapter: { method: 'ntk', featureMap: 'elu1', kParam: 'exp', rank: 0 } },
      { label: 'NTK taylor2', adapter: { method: 'ntk', featureMap: 'taylor2', kParam: 'exp', rank: 0 } },
      { label: `LoRA r=${run.loraRank}`, adapter: { method: 'lora', rank: run.loraRank, alpha: run.loraAlpha } },
    ];
    const repeats = opts.quick ? 1 : 5;
    const load0 = loadavg()[0];
    const buf = new BatchBuffers(gpu, setting.B, setting.T);
    const runners = models.map((m) => ({ ...m, ...oursStep(gpu, setting, m.adapter, buf), samples: [] as Map<string, number>[], cpuSamples: [] as Map<string, number>[], wall: [] as number[], cpu: [] as number[], dispatches: 0 }));
    let source = '';
    try {
      // Warm-up: compiles every pipeline.
      for (const r of runners) await r.step(0);
      let i = 1;
      for (let rep = 0; rep < repeats; rep++) {
        for (const r of runners) {
          const p = await profileKernels(gpu, () => r.record(i++));
          source = p.source;
          r.samples.push(p.ms);
          r.cpuSamples.push(await cpuProfileKernels(gpu, () => r.record(i++)));
          // The same step, unprofiled.
          await gpu.sync();
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          await r.step(i++);
          r.wall.push(performance.now() - t0);
          const c = process.cpuUsage(c0);
          r.cpu.push((c.user + c.system) / 1000);
        }
      }
      // Dispatch count of one step (for "launch overhead" reading).
      for (const r of runners) {
        const original = gpu.dispatch;
        let n = 0;
        gpu.dispatch = function (this: Gpu, ...args) {
          n++;
          return original.apply(gpu, args);
        };
        try {
          await r.step(i++);
        } finally {
          gpu.dispatch = original;
        }
        r.dispatches = n;
      }
    } finally {
      for (const r of runners) r.model.destroy();
      buf.release();
    }
    const load1 = loadavg()[0];

    const profiles: ModelProfile[] = runners.map((r) => {
      const medians = (samples: Map<string, number>[]) => {
        const out: Record<string, number> = {};
        for (const n of new Set(samples.flatMap((s) => [...s.keys()]))) out[n] = median(samples.map((s) => s.get(n) ?? 0));
        return out;
      };
      const sum = (x: Record<string, number>) => Object.values(x).reduce((a, b) => a + b, 0);
      const kernels = medians(r.samples);
      const cpuKernels = medians(r.cpuSamples);
      return { label: r.label, kernels, kernelMs: sum(kernels), cpuKernels, cpuKernelMs: sum(cpuKernels), stepWallMs: median(r.wall), stepCpuMs: median(r.cpu), dispatches: r.dispatches };
    });
    if (!opts.quick) writeFileSync(PROFILE_SVG, profileChart(profiles, repeats));

    // Table: every kernel that takes ≥ 1% of some model's step, share per model.
    const allNames = [...new Set(profiles.flatMap((p) => Object.keys(p.kernels)))];
    const share = (p: ModelProfile, n: string) => (100 * (p.cpuKernels[n] ?? 0)) / p.cpuKernelMs;
    const shown = allNames.filter((n) => profiles.some((p) => share(p, n) >= 1)).sort((a, b) => Math.max(...profiles.map((p) => share(p, b))) - Math.max(...profiles.map((p) => share(p, a))));
    const restShare = (p: ModelProfile) => 100 - shown.reduce((a, n) => a + share(p, n), 0);
    const cell = (p: ModelProfile, n: string) => (p.cpuKernels[n] ? `${share(p, n).toFixed(1)}% (${p.cpuKernels[n].toFixed(1)}; ${(p.kernels[n] ?? 0).toFixed(1)})` : '–');
    const base = profiles[0];
    const markdown = [
      `One training step (upload, forward, backward, clip + AdamW) of each model on the train benchmark's setting (B=${setting.B}, T=${setting.T}, the shipped base), kernel by kernel. Each cell: the kernel's share of the step's summed kernel **CPU time**, then in brackets its CPU ms; GPU ms. CPU: the step's dispatches captured, then replayed one at a time and awaited, measuring this process's CPU time (all threads, the software adapter's included): on a software adapter that is the work done, and little moved by other processes' load. GPU: ${source === 'gpu-timestamps' ? 'timestamp queries, one compute pass and submission per dispatch' : 'timed submissions (one submit + onSubmittedWorkDone per dispatch)'}; on a software adapter those timestamps are wall clock, so under load they include time the adapter's threads waited for a core. Medians of ${repeats} profiled steps per model, the models interleaved. "step wall / CPU" is the same step run normally (one submission); CPU less the kernels' CPU sum is the CPU side of the step (recording, bind groups, submission). 1-min load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end. Chart (CPU ms): [docs/profile.svg](docs/profile.svg).`,
      '',
      table(
        ['kernel', ...profiles.map((p) => p.label)],
        [
          ...shown.map((n) => [n, ...profiles.map((p) => cell(p, n))]),
          ['other kernels (< 1% each)', ...profiles.map((p) => `${restShare(p).toFixed(1)}%`)],
          ['**sum of kernels, CPU ms; GPU ms**', ...profiles.map((p) => `${p.cpuKernelMs.toFixed(1)}; ${p.kernelMs.toFixed(1)}`)],
          ['kernels / base kernels (CPU; GPU)', ...profiles.map((p) => `${(p.cpuKernelMs / base.cpuKernelMs).toFixed(2)}; ${(p.kernelMs / base.kernelMs).toFixed(2)}`)],
          ['step wall / CPU ms (unprofiled)', ...profiles.map((p) => `${p.stepWallMs.toFixed(1)} / ${p.stepCpuMs.toFixed(1)}`)],
          ['dispatches per step', ...profiles.map((p) => p.dispatches)],
        ],
      ),
      '',
      '![GPU ms per training step by kernel](docs/profile.svg)',
    ].join('\n');
    return { title: 'Per-kernel profile of a training step', markdown, data: { source, repeats, loadAverage: { start: load0, end: load1 }, profiles } };
  },
};
