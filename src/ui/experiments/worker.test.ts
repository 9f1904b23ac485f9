// The worker side of experiments and generation on a real (Node) GPU with a micro base
// model: messages come in order, points are the experiment's own (same as calling it
// directly), Stop works queued and mid-run, bad settings fail with the experiment's
// message, and generation gives the same text as sampling each model directly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticTask, type Vocab } from '../../data';
import { runApproxError, type ApproxPoint } from '../../experiments/approx_error';
import type { ApproxConfig } from '../../experiments/approx_config';
import { createNodeGpu } from '../../gpu/node';
import type { Gpu } from '../../gpu/runtime';
import { generate } from '../../model/generate';
import { GptGpu } from '../../model/gpt';
import { initParams } from '../../model/init';
import { adapterParamSpecs, baseParamSpecs, countParams, type AdapterSpec, type ModelConfig } from '../../model/params';
import { freshSeed, Rng } from '../../util/rng';
import type { WorkerBase } from '../worker/worker_base';
import type { ExperimentFromWorker, GenerateRequest } from './messages';
import { createExperiments, type TrainedWeights } from './worker';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await createNodeGpu();
});
afterAll(() => gpu?.destroy());

const seed = freshSeed();
const task = syntheticTask('reverse', { minLen: 2, maxLen: 3 });
// Without a base tokenizer the task builds its own character vocabulary.
const vocab = task.tokenizer as Vocab;
const cfg: ModelConfig = { vocabSize: vocab.size, contextLength: 16, nLayer: 1, nHead: 2, nEmbd: 8 };
const base: WorkerBase = {
  config: cfg,
  tokenizer: vocab,
  vocab,
  params: initParams(baseParamSpecs(cfg), seed),
  fingerprint: 'test-base',
  info: { source: 'pretrained', modelConfig: cfg, params: countParams(baseParamSpecs(cfg)), vocabSize: cfg.vocabSize, ms: 0 },
};

function harness(trained = new Map<string, TrainedWeights>(), onPost?: (m: ExperimentFromWorker) => void) {
  const posted: ExperimentFromWorker[] = [];
  let chain: Promise<void> = Promise.resolve();
  const x = createExperiments({
    post: (m) => {
      posted.push(m);
      onPost?.(m);
    },
    ensureGpu: async () => gpu,
    ensureBase: async () => base,
    trainedRun: (id) => trained.get(id) ?? null,
    enqueue: (job) => {
      chain = chain.then(job);
    },
  });
  return { x, posted, idle: () => chain };
}

const approxCfg: Partial<ApproxConfig> = { d: 3, L: 4, heads: 1, evalSeqs: 1, trainSeqs: 1, maxM: 8, trainMaxM: 2, steps: 3, seeds: 1, seed, maps: ['elu1'], methods: ['closed', 'paper'] };

describe(`experiment jobs (seed ${seed})`, () => {
  it('approximation error: started, progress, every point as the experiment computes it, finished', async () => {
    const h = harness();
    h.x.handle({ type: 'experiment-start', jobId: 'a1', kind: 'approx', config: approxCfg });
    await h.idle();
    expect(h.posted[0]).toMatchObject({ type: 'experiment-started', jobId: 'a1' });
    expect(h.posted[h.posted.length - 1]).toMatchObject({ type: 'experiment-finished', jobId: 'a1', aborted: false });
    const points = h.posted.flatMap((m) => (m.type === 'experiment-point' && m.kind === 'approx' ? [m.point] : []));
    // closed form at m = 1, 2, 4, 8 and the trained method at m = 1, 2
    expect(points.map((p) => `${p.method}${p.m}`).sort()).toEqual(['closed1', 'closed2', 'closed4', 'closed8', 'paper1', 'paper2']);
    const direct = await runApproxError(gpu, approxCfg);
    const key = (p: ApproxPoint) => `${p.method}|${p.map}|${p.m}`;
    const want = new Map(direct.points.map((p) => [key(p), p]));
    for (const p of points) {
      expect(p.rel).not.toBeNull();
      expect(p.rel!).toBeCloseTo(want.get(key(p))!.rel!, 5);
    }
    const prog = h.posted.flatMap((m) => (m.type === 'experiment-progress' ? [m] : []));
    expect(prog.length).toBeGreaterThan(0);
    for (let i = 1; i < prog.length; i++) expect(prog[i].done).toBeGreaterThanOrEqual(prog[i - 1].done);
    expect(prog[prog.length - 1].done / prog[prog.length - 1].total).toBeCloseTo(1, 6);
  });

  it('Stop: a queued job never starts; a running one ends early with the points so far', async () => {
    const q = harness();
    q.x.handle({ type: 'experiment-start', jobId: 'q', kind: 'approx', config: approxCfg });
    q.x.handle({ type: 'experiment-stop', jobId: 'q' });
    await q.idle();
    expect(q.posted).toEqual([{ type: 'experiment-finished', jobId: 'q', aborted: true, elapsedMs: 0 }]);

    let stopped = false;
    const r = harness(undefined, (m) => {
      if (m.type === 'experiment-point' && !stopped) {
        stopped = true;
        r.x.handle({ type: 'experiment-stop', jobId: 'r' });
      }
    });
    r.x.handle({ type: 'experiment-start', jobId: 'r', kind: 'approx', config: approxCfg });
    await r.idle();
    const n = r.posted.filter((m) => m.type === 'experiment-point').length;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(6);
    expect(r.posted[r.posted.length - 1]).toMatchObject({ type: 'experiment-finished', aborted: true });
  });

  it('bad settings fail with the experiment’s message naming the setting', async () => {
    const h = harness();
    h.x.handle({ type: 'experiment-start', jobId: 'b', kind: 'approx', config: { ...approxCfg, d: 0 } });
    h.x.handle({ type: 'experiment-start', jobId: 'n', kind: 'ntk-regime', config: { ms: [2], steps: 0 } });
    await h.idle();
    expect(h.posted).toContainEqual({ type: 'experiment-failed', jobId: 'b', message: expect.stringMatching(/d must be an integer in \[1, 64\] \(got 0\)/) });
    expect(h.posted).toContainEqual({ type: 'experiment-failed', jobId: 'n', message: expect.stringMatching(/ntk-regime settings: steps must be an integer/) });
  });

  it('NTK regime on the given base: one point per (scaling, m), curves of steps + 1 losses', async () => {
    const h = harness();
    h.x.handle({ type: 'experiment-start', jobId: 'k', kind: 'ntk-regime', config: { ms: [2, 4], steps: 2, batch: 1, seqLen: 8, task: 'reverse', taskMaxLen: 3, evalBatches: 1, scalings: ['ntk'], seed } });
    await h.idle();
    expect(h.posted.find((m) => m.type === 'experiment-failed')).toBeUndefined();
    expect(h.posted[0]).toMatchObject({ type: 'experiment-started', note: expect.stringContaining('base model (1 layers, 2 heads, width 8)') });
    const points = h.posted.flatMap((m) => (m.type === 'experiment-point' && m.kind === 'ntk-regime' ? [m.point] : []));
    expect(points.map((p) => [p.scaling, p.m])).toEqual([['ntk', 2], ['ntk', 4]]);
    for (const p of points) {
      expect(p.curve.map((c) => c[0])).toEqual([0, 1, 2]);
      expect(p.relMove).toBeGreaterThan(0);
    }
    expect(h.posted[h.posted.length - 1]).toMatchObject({ type: 'experiment-finished', aborted: false });
  });
});

describe(`generation (seed ${seed})`, () => {
  const adapter: AdapterSpec = { method: 'prefix', prefixLength: 3 };
  const trainedParams = initParams(adapterParamSpecs(cfg, adapter), seed + 1);
  const trained = new Map<string, TrainedWeights>([['run-1', { adapter, params: trainedParams, base }]]);
  const req = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({ type: 'generate', requestId: 7, runId: 'run-1', prompt: 'ab>Z', maxNewTokens: 6, temperature: 0.8, topK: 0, seed, ...over });

  async function direct(spec: AdapterSpec, extra: Map<string, Float32Array> | null, r: GenerateRequest): Promise<string> {
    const model = new GptGpu(gpu, cfg, spec);
    const values = new Map(base.params);
    if (extra) for (const [k, v] of extra) values.set(k, v);
    model.load(values);
    const ids = await generate(gpu, model, vocab.encode(r.prompt), { maxNewTokens: r.maxNewTokens, temperature: r.temperature, topK: r.topK, rng: new Rng(r.seed) });
    model.destroy();
    return vocab.decode(ids);
  }

  it('base and adapted text stream token by token and match sampling each model directly', async () => {
    const h = harness(trained);
    h.x.handle(req());
    await h.idle();
    expect(h.posted[0]).toEqual({ type: 'generate-started', requestId: 7, adapted: 'prefix m=3', unknown: ['Z'] });
    const done = h.posted[h.posted.length - 1];
    expect(done.type).toBe('generated');
    if (done.type !== 'generated') return;
    const streamed = (w: 'base' | 'adapted') => h.posted.flatMap((m) => (m.type === 'generate-token' && m.which === w ? [m.text] : [])).join('');
    expect(streamed('base')).toBe(done.base);
    expect(streamed('adapted')).toBe(done.adapted);
    expect([...done.base]).toHaveLength(6);
    expect(done.adaptedError).toBeNull();
    expect(done.base).toBe(await direct({ method: 'none' }, null, req()));
    expect(done.adapted).toBe(await direct(adapter, trainedParams, req()));
  });

  it('a run whose weights are gone still gives the base text, with the reason', async () => {
    const h = harness(trained);
    h.x.handle(req({ runId: 'gone', temperature: 0 }));
    h.x.handle(req({ requestId: 8, runId: null, temperature: 0 }));
    await h.idle();
    const done = h.posted.filter((m) => m.type === 'generated');
    expect(done).toHaveLength(2);
    expect(done[0]).toMatchObject({ requestId: 7, adapted: null, adaptedError: expect.stringMatching(/not in the engine/) });
    expect(done[1]).toMatchObject({ requestId: 8, adapted: null, adaptedError: null });
    // Greedy: the same text both times.
    if (done[0].type === 'generated' && done[1].type === 'generated') expect(done[0].base).toBe(done[1].base);
  });

  it('bad requests fail with a message naming the field', async () => {
    const h = harness(trained);
    h.x.handle(req({ prompt: '' }));
    h.x.handle(req({ requestId: 9, maxNewTokens: 0 }));
    h.x.handle(req({ requestId: 10, temperature: -1 }));
    await h.idle();
    expect(h.posted).toEqual([
      { type: 'generate-failed', requestId: 7, message: expect.stringMatching(/type a prompt/) },
      { type: 'generate-failed', requestId: 9, message: expect.stringMatching(/tokens to generate must be an integer from 1/) },
      { type: 'generate-failed', requestId: 10, message: expect.stringMatching(/temperature must be a number from 0/) },
    ]);
  });
});
