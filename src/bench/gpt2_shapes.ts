// Training at real GPT-2 shapes with random weights (no download): step time and tokens/s
// for each adapter, and the LM head's memory, chunked against materialised logits.
// Browser-safe (no Node imports): the Node bench (./gpt2.bench.ts) and the in-browser page
// (bench.html, ./browser.ts) run this same code, so a figure means the same thing in both.
//
// A step is the trainer's (src/train/trainer.ts): upload the batch, forward, backward,
// clipping + AdamW, then await the loss. Steps are timed after one untimed warm-up step
// (which compiles every shader); the median and the range over the timed steps are shown.
import { crossEntropy } from '../kernels/crossentropy';
import { matmul } from '../kernels/matmul';
import type { Gpu } from '../gpu/runtime';
import { initParams } from '../model/init';
import { estimateMemory, formatBytes } from '../model/memory';
import { type AdapterSpec, type ModelConfig, baseParamSpecs } from '../model/params';
import { assembleFresh } from '../train/adapt';
import { Rng } from '../util/rng';

/** GPT-2 checkpoints' shapes, as their config.json give them. */
export const GPT2_SHAPES: Record<string, ModelConfig> = {
  gpt2: { vocabSize: 50257, contextLength: 1024, nLayer: 12, nHead: 12, nEmbd: 768 },
  distilgpt2: { vocabSize: 50257, contextLength: 1024, nLayer: 6, nHead: 12, nEmbd: 768 },
  'gpt2-medium': { vocabSize: 50257, contextLength: 1024, nLayer: 24, nHead: 16, nEmbd: 1024 },
};

export const GPT2_METHODS: { label: string; adapter: AdapterSpec }[] = [
  { label: 'prefix m = 16', adapter: { method: 'prefix', prefixLength: 16 } },
  { label: 'NTK-Attention elu1', adapter: { method: 'ntk', featureMap: 'elu1', kParam: 'exp', rank: 0 } },
  { label: 'LoRA r = 8', adapter: { method: 'lora', rank: 8, alpha: 16 } },
];

export interface Gpt2StepRow {
  shape: string;
  method: string;
  B: number;
  T: number;
  trainable: number;
  /** Median over the timed steps, ms. */
  msMedian: number;
  msMin: number;
  msMax: number;
  tokensPerSec: number;
  /** Median CPU time of this process per timed step (all its threads: a software adapter's
   *  included), ms; null where the host has no process clock (browsers). On a software
   *  adapter that is the work done, far less sensitive to other load than wall clock. */
  cpuMsMedian: number | null;
  firstLoss: number;
  /** gpu.memory().peakBytes over the timed steps (model, optimizer, activations, scratch). */
  peakBytes: number;
  /** What src/model/memory.ts predicted for the same run. */
  estimatedBytes: number;
}

export interface HeadMemoryRow {
  shape: string;
  N: number;
  V: number;
  /** Peak bytes beyond the inputs for loss + dx through the model's head (chunked). */
  chunkedBytes: number;
  /** The same with the N×V logits materialised (matmul + fused cross-entropy, in place). */
  materialisedBytes: number;
  chunkedMs: number;
  materialisedMs: number;
  /** False when the materialised path cannot run on this device (wte over one binding):
   *  materialisedBytes is then the logits' N·V·4 alone, computed, not measured. */
  materialisedMeasured: boolean;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** This process's user + system CPU time in µs (Node), null in a browser. Read through
 *  globalThis so this module stays browser-safe. */
function cpuMicros(): number | null {
  const p = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process;
  if (!p?.cpuUsage) return null;
  const u = p.cpuUsage();
  return u.user + u.system;
}

/** Random GPT-2-style base weights (GPT-2's init), seeded. */
export function randomBase(c: ModelConfig, seed: number): Map<string, Float32Array> {
  return initParams(baseParamSpecs(c), seed);
}

/** Times `steps` training steps of one adapter on random weights and random tokens. */
export async function timeGpt2Steps(gpu: Gpu, shape: string, base: Map<string, Float32Array>, method: { label: string; adapter: AdapterSpec }, B: number, T: number, steps: number, seed = 1234): Promise<Gpt2StepRow> {
  const c = GPT2_SHAPES[shape];
  const model = assembleFresh(gpu, { config: c, params: base }, method.adapter, seed);
  const rng = new Rng(seed);
  const tokens = gpu.tensor([B, T], undefined, 'bench.tokens');
  const targets = gpu.tensor([B, T], undefined, 'bench.targets');
  try {
    const hyper = { lr: 1e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1 };
    const draw = () => {
      const ids = new Uint32Array(B * T + 1);
      for (let i = 0; i < ids.length; i++) ids[i] = Math.floor(rng.next() * c.vocabSize);
      gpu.write(tokens, ids.subarray(0, B * T));
      gpu.write(targets, new Int32Array(ids.buffer, 4, B * T));
    };
    const step = async () => {
      draw();
      model.forward(tokens, targets, B, T);
      model.backward();
      model.optimizerStep(hyper);
      return (await gpu.read(model.stats, 1))[0];
    };
    const firstLoss = await step(); // compiles every shader
    gpu.resetPeak();
    const ms: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < steps; i++) {
      const c0 = cpuMicros();
      const t0 = performance.now();
      await step();
      ms.push(performance.now() - t0);
      const c1 = cpuMicros();
      if (c0 !== null && c1 !== null) cpu.push((c1 - c0) / 1000);
    }
    const est = estimateMemory(c, method.adapter, B, T, true);
    const msMedian = median(ms);
    return {
      shape, method: method.label, B, T, trainable: model.trainableCount(), msMedian, msMin: Math.min(...ms), msMax: Math.max(...ms),
      tokensPerSec: (B * T * 1000) / msMedian, cpuMsMedian: cpu.length ? median(cpu) : null, firstLoss, peakBytes: gpu.memory().peakBytes, estimatedBytes: est.total,
    };
  } finally {
    gpu.release(tokens, targets);
    model.destroy();
    gpu.trimPool();
  }
}

/**
 * The LM head alone at N rows: the model's head (a forward with targets and a backward
 * through it, as GptGpu does) against the materialised path this project used before
 * (logits = x·wteᵀ into [N, V], cross-entropy with dlogits in place, dx = dlogits·wte).
 * Peak bytes are counted beyond the inputs (x, wte, targets), so they are the head's own.
 */
export async function headMemory(gpu: Gpu, shape: string, N: number, reps: number, headRun: (x: ReturnType<Gpu['tensor']>, wte: ReturnType<Gpu['tensor']>, targets: ReturnType<Gpu['tensor']>, dx: ReturnType<Gpu['tensor']>) => void): Promise<HeadMemoryRow> {
  const c = GPT2_SHAPES[shape];
  const V = c.vocabSize;
  const C = c.nEmbd;
  const rng = new Rng(7);
  const x = gpu.tensor([N, C], Float32Array.from({ length: N * C }, () => rng.normal()), 'head.x');
  const wte = gpu.tensor([V, C], Float32Array.from({ length: V * C }, () => 0.02 * rng.normal()), 'head.wte');
  const targets = gpu.tensor([N], Int32Array.from({ length: N }, () => Math.floor(rng.next() * V)), 'head.targets');
  const dx = gpu.tensor([N, C], undefined, 'head.dx');
  const measure = async (run: () => void) => {
    run();
    await gpu.sync();
    gpu.trimPool(); // pooled buffers from the warm-up would hide the allocation
    gpu.resetPeak();
    const before = gpu.memory().liveBytes;
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) run();
    await gpu.sync();
    return { bytes: gpu.memory().peakBytes - before, ms: (performance.now() - t0) / reps };
  };
  try {
    const chunked = await measure(() => headRun(x, wte, targets, dx));
    // The materialised path binds wte whole: on a device whose binding limit is below it
    // (lavapipe: 128 MiB < gpt2's 154 MB) it cannot run, and only the logits' size is said.
    const runnable = wte.bytes <= gpu.device.limits.maxStorageBufferBindingSize;
    const materialised = !runnable ? { bytes: N * V * 4, ms: NaN } : await measure(() => {
      const logits = gpu.tensor([N, V], undefined, 'head.logits');
      const losses = gpu.tensor([N], undefined, 'head.losses');
      const stats = gpu.tensor([2], undefined, 'head.stats');
      matmul(gpu, x, wte, logits, { M: N, K: C, N: V, transB: true });
      crossEntropy(gpu, logits, targets, losses, logits, stats);
      matmul(gpu, logits, wte, dx, { M: N, K: V, N: C });
      gpu.release(logits, losses, stats);
    });
    return { shape, N, V, chunkedBytes: chunked.bytes, materialisedBytes: materialised.bytes, chunkedMs: chunked.ms, materialisedMs: materialised.ms, materialisedMeasured: runnable };
  } finally {
    gpu.release(x, wte, targets, dx);
    gpu.trimPool();
  }
}

export function stepTable(rows: Gpt2StepRow[]): string {
  const head = '| shape | method | B × T | trainable | ms/step (median, range) | CPU ms/step | tokens/s | peak GPU bytes | estimated | first loss |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |';
  const body = rows.map(
    (r) =>
      `| ${r.shape} | ${r.method} | ${r.B} × ${r.T} | ${r.trainable.toLocaleString('en')} | ${r.msMedian.toFixed(0)} (${r.msMin.toFixed(0)}-${r.msMax.toFixed(0)}) | ${r.cpuMsMedian === null ? '–' : r.cpuMsMedian.toFixed(0)} | ${r.tokensPerSec.toFixed(1)} | ${formatBytes(r.peakBytes)} | ${formatBytes(r.estimatedBytes)} | ${r.firstLoss.toFixed(3)} |`,
  );
  return [head, ...body].join('\n');
}

export function headTable(rows: HeadMemoryRow[]): string {
  const head = '| shape | rows N | V | head memory, chunked | materialised logits | ratio | ms chunked | ms materialised |\n| --- | --- | --- | --- | --- | --- | --- | --- |';
  const body = rows.map(
    (r) =>
      `| ${r.shape} | ${r.N} | ${r.V} | ${formatBytes(r.chunkedBytes)} | ${formatBytes(r.materialisedBytes)}${r.materialisedMeasured ? '' : ' (logits alone, computed: wte is over this device\'s binding limit, so the materialised path cannot run)'} | ${(r.materialisedBytes / Math.max(r.chunkedBytes, 1)).toFixed(1)}× | ${r.chunkedMs.toFixed(0)} | ${r.materialisedMeasured ? r.materialisedMs.toFixed(0) : '—'} |`,
  );
  return [head, ...body].join('\n');
}

export interface GpuSuiteOptions {
  shapes: string[];
  B: number;
  T: number;
  steps: number;
  /** Progress lines (the page shows them, Node prints them). */
  onLine?: (line: string) => void;
  /** The model's LM head on N rows (see headMemory); omitted: no head-memory rows. */
  headRun?: Parameters<typeof headMemory>[4];
}

/** Every shape × adapter, and the head's memory per shape: what `npm run bench:gpu` prints. */
export async function runGpuSuite(gpu: Gpu, o: GpuSuiteOptions): Promise<{ rows: Gpt2StepRow[]; heads: HeadMemoryRow[] }> {
  const rows: Gpt2StepRow[] = [];
  const heads: HeadMemoryRow[] = [];
  for (const shape of o.shapes) {
    if (!GPT2_SHAPES[shape]) throw new Error(`unknown shape '${shape}' (known: ${Object.keys(GPT2_SHAPES).join(', ')})`);
    o.onLine?.(`${shape}: random weights…`);
    const base = randomBase(GPT2_SHAPES[shape], 1234);
    for (const m of GPT2_METHODS) {
      o.onLine?.(`${shape} / ${m.label}: B ${o.B} × T ${o.T}, ${o.steps} timed steps…`);
      const r = await timeGpt2Steps(gpu, shape, base, m, o.B, o.T, o.steps);
      o.onLine?.(`${shape} / ${m.label}: ${r.tokensPerSec.toFixed(1)} tokens/s (${r.msMedian.toFixed(0)} ms/step), peak ${formatBytes(r.peakBytes)}`);
      rows.push(r);
    }
    if (o.headRun) heads.push(await headMemory(gpu, shape, o.B * o.T, 3, o.headRun));
  }
  return { rows, heads };
}
