// "Pretrain a new base model": the settings rules (pure), the run the worker derives from
// them, and the worker job on a Node GPU at tiny sizes (it replaces the base; Stop does not).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeReader } from '../data/node';
import { createNodeGpu } from '../gpu/node';
import type { Gpu } from '../gpu/runtime';
import { baseParamSpecs } from '../model/params';
import { defaultPretrainSettings, describeSizes, MAX_HEAD_DIM, PRETRAIN_BOUNDS, validatePretrain, type PretrainSettings } from './pretrainSettings';
import type { WorkerBase } from './worker/worker_base';
import { createPretrain, pretrainSpecFor } from './worker/pretrain';
import type { FromWorker } from './worker/protocol';

const ok: PretrainSettings = { nLayer: 1, nHead: 2, nEmbd: 8, contextLength: 32, steps: 3, corpus: 'moby-dick', seed: 7 };
const asForm = (s: PretrainSettings) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, String(v)])) as Record<keyof PretrainSettings, string>;

describe('validatePretrain', () => {
  it('accepts the defaults and tiny settings, from numbers or from form strings', () => {
    for (const s of [defaultPretrainSettings(true), defaultPretrainSettings(false), ok]) {
      expect(validatePretrain(s)).toEqual({ settings: s, errors: {} });
      expect(validatePretrain(asForm(s)).settings).toEqual(s);
    }
    expect(validatePretrain({ ...asForm(ok), nLayer: ' 3 ' }).settings?.nLayer).toBe(3);
  });

  it('refuses a width not divisible by the heads, naming both', () => {
    const r = validatePretrain({ ...ok, nHead: 3, nEmbd: 32 });
    expect(r.settings).toBeNull();
    expect(r.errors.nEmbd).toMatch(/Width 32 must be divisible by the number of heads \(3\)/);
    expect(Object.keys(r.errors)).toEqual(['nEmbd']);
  });

  it('refuses a head dimension over the kernel limit, and accepts it exactly at the limit', () => {
    const r = validatePretrain({ ...ok, nHead: 1, nEmbd: 2 * MAX_HEAD_DIM });
    expect(r.errors.nEmbd).toMatch(new RegExp(`Width / heads is ${2 * MAX_HEAD_DIM}.*at most ${MAX_HEAD_DIM}`));
    expect(validatePretrain({ ...ok, nHead: 2, nEmbd: 2 * MAX_HEAD_DIM }).settings).not.toBeNull();
  });

  it('refuses every number just outside its bounds and accepts it at them', () => {
    for (const [k, b] of Object.entries(PRETRAIN_BOUNDS) as [keyof typeof PRETRAIN_BOUNDS, (typeof PRETRAIN_BOUNDS)['nLayer']][]) {
      // Heads and width are moved together so that only the bound under test can fail.
      const at = (v: number): PretrainSettings => (k === 'nHead' ? { ...ok, nHead: v, nEmbd: v * 4 } : k === 'nEmbd' ? { ...ok, nHead: 1, nEmbd: v } : { ...ok, [k]: v });
      for (const v of [b.min, b.max]) {
        if (k === 'nEmbd' && v > MAX_HEAD_DIM) continue; // checked with more heads below
        expect(validatePretrain(at(v)).errors, `${k}=${v}`).toEqual({});
      }
      for (const v of [b.min - 1, b.max + 1]) {
        const e = validatePretrain(at(v)).errors[k];
        expect(e, `${k}=${v}`).toMatch(new RegExp(`^${b.label} must be between`));
        expect(e).toContain(`got ${v}`);
      }
    }
    expect(validatePretrain({ ...ok, nHead: 12, nEmbd: 768 }).settings).not.toBeNull();
  });

  it('refuses empty, fractional and non-numeric values and an unknown corpus, all at once', () => {
    const r = validatePretrain({ ...asForm(ok), nLayer: '', nHead: '1.5', steps: 'ten', corpus: 'war-and-peace' });
    expect(r.settings).toBeNull();
    expect(r.errors.nLayer).toBe('Layers is required');
    expect(r.errors.nHead).toMatch(/Heads must be a whole number \(got 1\.5\)/);
    expect(r.errors.steps).toMatch(/Steps must be a whole number/);
    expect(r.errors.corpus).toMatch(/Corpus must be one of moby-dick, sotu/);
    expect(r.errors.nEmbd).toBeUndefined(); // no divisibility claim about an invalid head count
  });

  it('describes sizes in words', () => {
    expect(describeSizes(ok)).toBe('1 layer, 2 heads, width 8, context 32');
    expect(describeSizes({ nLayer: 3, nHead: 1, nEmbd: 16, contextLength: 64 })).toBe('3 layers, 1 head, width 16, context 64');
  });
});

describe('pretrainSpecFor', () => {
  it('uses the chosen sizes, steps, corpus and seed, trains at the full context, and never caches', () => {
    const s = pretrainSpecFor({ ...ok, corpus: 'sotu', steps: 25 }, true);
    expect(s.model).toEqual({ nLayer: 1, nHead: 2, nEmbd: 8, contextLength: 32 });
    expect(s.run).toMatchObject({ method: 'full', task: 'sotu', steps: 25, seed: 7, seqLen: 32, warmup: 2 });
    expect(s.cache).toBe(false);
    expect(pretrainSpecFor(ok, true).run.warmup).toBe(0); // 3 steps: no warm-up to speak of
  });
});

describe('the worker job (Node GPU, tiny sizes)', () => {
  let gpu: Gpu;
  beforeAll(async () => {
    gpu = await createNodeGpu();
  });
  afterAll(() => gpu?.destroy());

  function harness(onPost?: (m: FromWorker) => void) {
    const posted: FromWorker[] = [];
    const replaced: WorkerBase[] = [];
    let chain: Promise<void> = Promise.resolve();
    const p = createPretrain({
      post: (m) => {
        posted.push(m);
        onPost?.(m);
      },
      ensureGpu: async () => gpu,
      currentBase: () => null,
      replaceBase: async (b) => void replaced.push(b),
      readText: nodeReader(),
      enqueue: (job) => {
        chain = chain.then(job);
      },
    });
    return { p, posted, replaced, done: () => chain };
  }

  it('pretrains with the chosen sizes and replaces the base', async () => {
    const h = harness();
    h.p.start(ok);
    await h.done();
    const failed = h.posted.find((m) => m.type === 'pretrain-failed');
    expect(failed).toBeUndefined();
    expect(h.replaced).toHaveLength(1);
    const b = h.replaced[0];
    expect(b.config).toMatchObject({ nLayer: 1, nHead: 2, nEmbd: 8, contextLength: 32 });
    expect([...b.params.keys()].sort()).toEqual(baseParamSpecs(b.config).map((s) => s.name).sort());
    expect(b.params.get('wpe')!.length).toBe(32 * 8);
    const steps = h.posted.filter((m): m is Extract<FromWorker, { type: 'pretrain-progress' }> => m.type === 'pretrain-progress' && m.step > 0);
    expect(steps.map((m) => m.step)).toEqual([1, 2, 3]);
    expect(steps.every((m) => m.totalSteps === 3 && Number.isFinite(m.loss))).toBe(true);
    expect(steps[0].etaMs).toBeNull(); // the compile step is not a speed sample
    expect(steps[2].etaMs).toBe(0);
    const types = h.posted.map((m) => m.type);
    expect(types.indexOf('base-ready')).toBeLessThan(types.indexOf('pretrain-done'));
    const done = h.posted.find((m) => m.type === 'pretrain-done') as Extract<FromWorker, { type: 'pretrain-done' }>;
    expect(done.info).toMatchObject({ source: 'pretrained', steps: 3, corpus: 'Moby Dick', fingerprint: done.fingerprint });
    expect(done.info.finalLoss).toBe(steps[2].loss);
    expect(done.previousFingerprint).toBeNull();
  });

  it('Stop during training ends it after the current step and keeps the base', async () => {
    const h = harness((m) => {
      if (m.type === 'pretrain-progress' && m.step === 1) h.p.stop();
    });
    h.p.start({ ...ok, steps: 5 });
    await h.done();
    expect(h.replaced).toHaveLength(0);
    expect(h.posted.filter((m) => m.type === 'pretrain-progress' && m.step > 0).length).toBeLessThan(5);
    expect(h.posted.at(-1)).toMatchObject({ type: 'pretrain-failed', stopped: true, message: 'the base model is unchanged' });
  });

  it('Stop before it starts keeps the base; bad settings are refused without training', async () => {
    const h = harness();
    h.p.start({ ...ok, nEmbd: 9 });
    h.p.start(ok);
    h.p.stop();
    await h.done();
    expect(h.replaced).toHaveLength(0);
    const failures = h.posted.filter((m) => m.type === 'pretrain-failed') as Extract<FromWorker, { type: 'pretrain-failed' }>[];
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({ stopped: false });
    expect(failures[0].message).toMatch(/divisible/);
    expect(failures[1]).toMatchObject({ stopped: true });
    expect(h.posted.some((m) => m.type === 'pretrain-progress')).toBe(false);
  });
});
