// Export, import and persistence without a browser: a run's zip holds the checkpoint the
// CLI format reads back bit for bit plus result.json; what the user picks is read and
// classified, damaged files are refused with the CheckpointError's message; saved run
// records survive a structured clone and damaged ones are skipped; the in-memory store
// stands in when IndexedDB is missing; and the page's import flow against a fake engine
// adds an entry only when the worker accepted the file.
import { beforeAll, describe, expect, it } from 'vitest';
import { Vocab } from '../../data/vocab';
import {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  baseFingerprint,
  type BaseIdentity,
  CheckpointError,
  type CheckpointFiles,
  exportAdapter,
  exportBase,
  importAdapter,
  importBase,
  unzipFiles,
  zipFiles,
} from '../../io/checkpoint';
import { readSafetensors } from '../../io/safetensors';
import { type AdapterSpec, adapterParamSpecs, baseParamSpecs, type ModelConfig, type ParamSpec } from '../../model/params';
import { defaultConfig, type RunConfig } from '../../train/config';
import { Rng } from '../../util/rng';
import { memoryStore, openSavedStore } from '../persist/db';
import { finalValLoss, newRun, prefixSweep, type RunRecord } from '../runs';
import { connectEngine } from '../route';
import { useApp } from '../store';
import { fakeWorker } from '../worker/fakeWorker';
import { classifyCheckpoint, configForAdapter, readPicked, RESULT_FILE, resultsDocument, runBundle, runBundleName } from './bundle';
import { baseChangeRecord, fromSavedRun, importedRunRecord, restoreRuns, shouldSave, toSavedRun } from './records';
import { importPicked } from './importing';
import { initExchange } from './persistence';
import { useExchange } from './state';
import { validationSeed } from './worker';

// Odd sizes (d = 5, 3 heads, vocabulary of 8) so a swapped axis cannot go unnoticed.
const vocab = Vocab.fromText('xyzäö!😀');
const cfg: ModelConfig = { vocabSize: vocab.size, contextLength: 11, nLayer: 2, nHead: 3, nEmbd: 15 };

function randomParams(specs: ParamSpec[], rng: Rng): Map<string, Float32Array> {
  return new Map(specs.map((s) => [s.name, Float32Array.from({ length: s.numel }, () => rng.normal())]));
}
function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && new Uint32Array(a.buffer, a.byteOffset, a.length).every((v, i) => v === new Uint32Array(b.buffer, b.byteOffset, b.length)[i]);
}
const json = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));

/** A finished run as the page records it, with a diverged-looking NaN in its curve. */
function finishedRun(id: string, config: RunConfig, rng: Rng): RunRecord {
  const train = Array.from({ length: 5 }, (_, i) => ({ step: i + 1, loss: 3 - i * 0.1 * rng.next() }));
  train[2].loss = Number.NaN;
  return {
    ...newRun(id, `prefix m=${config.prefixLength}`, config),
    state: 'done',
    train,
    evals: [{ step: 5, val: 2.5 + rng.next(), acc: null, mass: 0.3 }],
    trainableParams: 123,
    totalParams: 4567,
    seqLen: 8,
    summary: { runId: id, config, trainableParams: 123, finalTrainLoss: 2.7, finalValLoss: 2.6, finalValAccuracy: null, prefixMass: 0.3, msPerStep: 12, state: 'done' },
    mass: [
      [0.1, 0.2, 0.3],
      [0.4, 0.5, 0.6],
    ],
  };
}

let base: Map<string, Float32Array>;
let id: BaseIdentity;
beforeAll(async () => {
  base = randomParams(baseParamSpecs(cfg), new Rng(7));
  id = { config: cfg, fingerprint: await baseFingerprint(cfg, base) };
});

describe('a run as one zip', () => {
  const adapters: AdapterSpec[] = [
    { method: 'prefix', prefixLength: 7 },
    { method: 'lora', rank: 3, alpha: 5 },
    { method: 'ntk', featureMap: 'elu1', kParam: 'softplus', rank: 2 },
  ];
  for (const a of adapters) {
    it(`${a.method}: the adapter reads back bit for bit, result.json has the settings and losses`, () => {
      const rng = new Rng(1000 + a.method.length);
      const params = randomParams(adapterParamSpecs(cfg, a), rng);
      const config = configForAdapter({ ...defaultConfig(), seed: rng.int(1, 1e6) }, a);
      const run = finishedRun('run-3-abc', config, rng);
      const zip = runBundle(exportAdapter(id, a, params), run, id.fingerprint);
      const files = unzipFiles(zip);
      expect([...files.keys()].sort()).toEqual([ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, RESULT_FILE].sort());
      const back = importAdapter(files, id);
      expect(back.adapter).toEqual(a);
      expect([...back.params.keys()].sort()).toEqual([...params.keys()].sort());
      for (const [k, v] of params) expect(bitsEqual(back.params.get(k)!, v), k).toBe(true);
      const r = json(files.get(RESULT_FILE)!);
      expect(r.baseFingerprint).toBe(id.fingerprint);
      expect(r.config).toEqual(config);
      expect(r.train.map((t: { loss: number | null }) => t.loss)).toEqual(run.train.map((t) => (Number.isFinite(t.loss) ? t.loss : null)));
      expect(r.evals).toEqual(run.evals);
      expect(r.summary.finalValLoss).toBe(2.6);
      expect(r.prefixMass).toEqual(run.mass);
      if (a.method === 'prefix') {
        const cfgJson = json(files.get(ADAPTER_CONFIG_FILE)!);
        expect(cfgJson.peft_type).toBe('PREFIX_TUNING');
        expect(readSafetensors(files.get(ADAPTER_WEIGHTS_FILE)!).tensors.prompt_embeddings.shape).toEqual([7, cfg.nLayer * 2 * cfg.nEmbd]);
      }
    });
  }

  it('full fine-tuning downloads the whole model, a base checkpoint of new weights', async () => {
    const tuned = randomParams(baseParamSpecs(cfg), new Rng(99));
    const run = finishedRun('run-12-x', { ...defaultConfig(), method: 'full' }, new Rng(3));
    const files = unzipFiles(runBundle(await exportBase(cfg, vocab, tuned), run, id.fingerprint));
    expect(classifyCheckpoint(files)).toBe('base');
    const b = await importBase(files);
    expect(b.fingerprint).toBe(await baseFingerprint(cfg, tuned));
    expect(b.fingerprint).not.toBe(id.fingerprint);
    expect(b.vocab.chars).toEqual(vocab.chars);
    for (const [k, v] of tuned) expect(bitsEqual(b.params.get(k)!, v), k).toBe(true);
    expect(runBundleName(run)).toBe('prefix-lab-full-model-run-12.zip');
  });

  it('names files after the method and run number', () => {
    const c = defaultConfig();
    expect(runBundleName(newRun('run-4-kq', 'x', { ...c, method: 'prefix', prefixLength: 16 }))).toBe('prefix-lab-prefix-m16-run-4.zip');
    expect(runBundleName(newRun('run-5-kq', 'x', { ...c, method: 'lora', loraRank: 8 }))).toBe('prefix-lab-lora-r8-run-5.zip');
    expect(runBundleName(newRun('imported-1-z/..', 'x', { ...c, method: 'ntk', featureMap: 'taylor2', ntkRank: 4 }))).toBe('prefix-lab-ntk-taylor2-s4-imported-1-z-...zip');
  });
});

describe('reading what the user picked', () => {
  let adapterFiles: CheckpointFiles;
  beforeAll(() => {
    const a: AdapterSpec = { method: 'prefix', prefixLength: 3 };
    adapterFiles = exportAdapter(id, a, randomParams(adapterParamSpecs(cfg, a), new Rng(5)));
  });
  const refusal = (f: () => unknown): CheckpointError => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(CheckpointError);
      return e as CheckpointError;
    }
    throw new Error('expected a CheckpointError');
  };

  it('takes one zip or a folder of loose files (any path), and tells adapters from base models', async () => {
    const zip = zipFiles(adapterFiles);
    expect(classifyCheckpoint(readPicked([{ name: 'a.ZIP', bytes: zip }]))).toBe('adapter');
    const loose = readPicked([...adapterFiles].map(([name, bytes]) => ({ name: `folder/${name}`, bytes })));
    expect([...loose.keys()].sort()).toEqual([...adapterFiles.keys()].sort());
    expect(classifyCheckpoint(loose)).toBe('adapter');
    const baseFiles = await exportBase(cfg, vocab, base);
    expect(classifyCheckpoint(readPicked([...baseFiles].map(([name, bytes]) => ({ name, bytes }))))).toBe('base');
  });

  it('refuses damaged, truncated, foreign and mixed picks with a message that says why', async () => {
    const zip = zipFiles(adapterFiles);
    // The weights are stored uncompressed near the end: flipping bytes there breaks only their CRC.
    const flipped = zip.slice();
    for (let i = 0; i < 4; i++) flipped[Math.floor(zip.length * 0.6) + i] ^= 0xff;
    expect(refusal(() => readPicked([{ name: 'x.zip', bytes: flipped }])).message).toMatch(/CRC-32 mismatch|compressed data is corrupt/);
    const cut = refusal(() => readPicked([{ name: 'x.zip', bytes: zip.subarray(0, Math.floor(zip.length * 0.7)) }]));
    expect(cut.kind).toBe('zip');
    expect(cut.message).toContain('truncated');
    expect(refusal(() => readPicked([{ name: 'notes.txt', bytes: new Uint8Array(3) }])).message).toContain('notes.txt is not a checkpoint file');
    expect(refusal(() => readPicked([{ name: 'a.zip', bytes: zip }, { name: 'b.zip', bytes: zip }])).message).toContain('pick one .zip on its own');
    expect(refusal(() => readPicked([])).message).toContain('no file was picked');
    expect(refusal(() => classifyCheckpoint(new Map([[ADAPTER_WEIGHTS_FILE, new Uint8Array(1)]]))).message).toContain(`no ${ADAPTER_CONFIG_FILE}`);
    expect(refusal(() => classifyCheckpoint(new Map([['result.json', new Uint8Array(1)]]))).message).toContain('neither an adapter');
    const both = new Map([...adapterFiles, ...(await exportBase(cfg, vocab, base))]);
    expect(refusal(() => classifyCheckpoint(both)).message).toContain('one at a time');
    // Another base model's adapter: the fingerprints are named.
    const other: BaseIdentity = { config: cfg, fingerprint: await baseFingerprint(cfg, randomParams(baseParamSpecs(cfg), new Rng(8))) };
    const wrong = refusal(() => importAdapter(readPicked([{ name: 'a.zip', bytes: zip }]), other));
    expect(wrong.kind).toBe('base-mismatch');
    expect(wrong.message).toContain(id.fingerprint);
    expect(wrong.message).toContain(other.fingerprint);
  });
});

describe('saved run records', () => {
  it('survive a structured clone (as IndexedDB stores them) with NaN intact, minus the ETA clock', () => {
    const rng = new Rng(42);
    const run = { ...finishedRun('run-1-a', { ...defaultConfig(), prefixLength: rng.int(1, 99) }, rng), lastStepAt: 123, activeMs: 456, intervals: 7 };
    const back = fromSavedRun(structuredClone(toSavedRun(run, 1000)))!;
    expect(back).toEqual({ ...run, lastStepAt: null, activeMs: 0, intervals: 0 });
    expect(Number.isNaN(back.train[2].loss)).toBe(true);
    expect(finalValLoss(back)).toBe(2.6);
  });

  it('skips damaged or foreign entries and fills settings added since with defaults', () => {
    const run = finishedRun('run-2-b', defaultConfig(), new Rng(1));
    const good = toSavedRun(run, 5);
    const bad: unknown[] = [
      null,
      42,
      { ...good, version: 2 },
      { ...good, id: 'other' },
      { ...good, run: { ...good.run, state: 'running' } },
      { ...good, run: { ...good.run, config: 'prefix' } },
      { ...good, run: { ...good.run, train: 'x' } },
    ];
    for (const b of bad) expect(fromSavedRun(b)).toBeNull();
    const partial = structuredClone(good);
    delete (partial.run.config as Partial<RunConfig>).seqLen;
    (partial.run.config as unknown as Record<string, unknown>).steps = -5; // clamped by the schema
    const back = fromSavedRun(partial)!;
    expect(back.config.seqLen).toBe(defaultConfig().seqLen);
    expect(back.config.steps).toBe(1);
    // Restored oldest first, damaged ones left out.
    const later = toSavedRun(finishedRun('run-9-c', defaultConfig(), new Rng(2)), 9);
    expect(restoreRuns([later, ...bad, good]).map((r) => r.id)).toEqual(['run-2-b', 'run-9-c']);
  });

  it('keeps finished runs only, and never the base-change note', () => {
    const c = defaultConfig();
    expect(shouldSave({ ...newRun('r', 'x', c), state: 'done' })).toBe(true);
    expect(shouldSave({ ...newRun('r', 'x', c), state: 'stopped' })).toBe(true);
    expect(shouldSave({ ...newRun('r', 'x', c), state: 'running' })).toBe(false);
    expect(shouldSave({ ...newRun('r', 'x', c), state: 'error' })).toBe(false);
    const note = baseChangeRecord('base-change-1', c, 'new.zip', 'aaaa', 'bbbb');
    expect(note.name).toBe('base model replaced: new.zip (aaaa → bbbb)');
    expect(shouldSave(note)).toBe(false);
    expect(finalValLoss(note)).toBeNull();
  });

  it('an imported adapter is a finished entry with its validation loss, beside runs of the same settings', () => {
    const c = { ...defaultConfig(), method: 'lora' as const, steps: 6 };
    const r = importedRunRecord('imported-1-x', c, {
      adapter: { method: 'prefix', prefixLength: 16 }, trainableParams: 2048, totalParams: 30000, seqLen: 16, taskLabel: 'sotu',
      valLoss: 2.345, valAccuracy: null, prefixMass: 0.2, mass: null,
    });
    expect(r.name).toBe('imported prefix m=16');
    expect(r.config).toEqual({ ...c, method: 'prefix', prefixLength: 16 });
    expect(r.state).toBe('done');
    expect(finalValLoss(r)).toBe(2.345);
    expect(prefixSweep([r]).points).toEqual([{ m: 16, valLoss: 2.345, params: 2048 }]);
    expect(shouldSave(r)).toBe(true);
    expect(fromSavedRun(structuredClone(toSavedRun(r, 1)))).toEqual(r);
  });

  it('"Export results" lists every run with non-finite numbers as null', () => {
    const runs = [finishedRun('run-1-a', defaultConfig(), new Rng(1)), finishedRun('run-2-b', { ...defaultConfig(), prefixLength: 4 }, new Rng(2))];
    const doc = JSON.parse(resultsDocument(runs, { config: cfg, fingerprint: 'abc', source: 'pretrained' }, new Date(Date.UTC(2025, 0, 2))));
    expect(doc.format).toBe('prefix-lab-results');
    expect(doc.exportedAt).toBe('2025-01-02T00:00:00.000Z');
    expect(doc.base.fingerprint).toBe('abc');
    expect(doc.runs.map((r: { id: string }) => r.id)).toEqual(['run-1-a', 'run-2-b']);
    expect(doc.runs[1].config.prefixLength).toBe(4);
    expect(doc.runs[0].train[2].loss).toBeNull();
  });

  it('uses the trainer\'s validation seed', () => {
    expect(validationSeed(1234)).toBe((1234 ^ 0x5eed5eed) >>> 0);
    expect(validationSeed(0xffffffff)).toBeGreaterThanOrEqual(0);
  });
});

describe('the saved store', () => {
  it('in memory: put, overwrite, list, remove, clear; values are copies', async () => {
    const s = memoryStore();
    const v = { a: [1, 2], n: Number.NaN };
    await s.put('runs', 'x', v);
    v.a.push(3);
    await s.put('runs', 'y', { a: [] });
    await s.put('files', 'f', { bytes: new Uint8Array([1, 2, 3]) });
    expect(await s.getAll('runs')).toEqual([{ a: [1, 2], n: Number.NaN }, { a: [] }]);
    await s.put('runs', 'y', { b: 1 });
    await s.remove('runs', 'x');
    expect(await s.getAll('runs')).toEqual([{ b: 1 }]);
    await s.clear();
    expect(await s.getAll('runs')).toEqual([]);
    expect(await s.getAll('files')).toEqual([]);
    expect(s.persistent).toBe(false);
  });

  it('falls back to memory, with the reason, when IndexedDB is missing, throws or never answers', async () => {
    expect((await openSavedStore(undefined)).fallbackReason).toContain('no IndexedDB');
    const throwing = { open: () => { throw new Error('SecurityError: denied'); } } as unknown as IDBFactory;
    expect((await openSavedStore(throwing)).fallbackReason).toContain('denied');
    const silent = { open: () => ({}) } as unknown as IDBFactory;
    const r = await openSavedStore(silent, 20);
    expect(r.fallbackReason).toContain('did not answer');
    expect(r.store.persistent).toBe(false);
  });
});

describe('importing on the page (fake engine)', () => {
  const w = fakeWorker();
  const sent = w.sent;
  const handleWorkerMessage = w.reply;
  beforeAll(async () => {
    connectEngine(w.client);
    await initExchange(); // Node has no IndexedDB: the in-memory store, with a notice
    expect(useExchange.getState().persistent).toBe(false);
    expect(useApp.getState().notices.some((n) => n.text.includes('Runs cannot be saved in this browser'))).toBe(true);
  });

  it('an accepted adapter becomes an entry named after it; a refused one changes nothing', async () => {
    const a: AdapterSpec = { method: 'prefix', prefixLength: 16 };
    const zip = zipFiles(exportAdapter(id, a, randomParams(adapterParamSpecs(cfg, a), new Rng(11))));
    const before = useApp.getState().runs.length;
    // The worker answers as it would after evaluating.
    const answer = (ok: boolean) => {
      const m = sent[sent.length - 1];
      if (m.type !== 'import-adapter') throw new Error(`unexpected ${m.type}`);
      expect(m.files.get(ADAPTER_CONFIG_FILE)).toBeDefined();
      expect(m.config).toEqual(useApp.getState().config);
      handleWorkerMessage(
        ok
          ? { type: 'imported-adapter', requestId: m.requestId, runId: m.runId, adapter: a, fingerprint: id.fingerprint, trainableParams: 2048, totalParams: 9999, seqLen: 16, taskLabel: 'sotu', valLoss: 3.21, valAccuracy: null, prefixMass: 0.1, mass: null }
          : { type: 'exchange-failed', requestId: m.requestId, message: 'adapter_config.json: adapter was trained on base model 1111, but the loaded base model is 2222' },
      );
    };
    const p1 = importPicked([{ name: 'mine.zip', bytes: zip }]);
    await Promise.resolve();
    answer(false);
    await p1;
    expect(useExchange.getState().message).toEqual({ kind: 'error', text: 'Could not import mine.zip: adapter_config.json: adapter was trained on base model 1111, but the loaded base model is 2222' });
    expect(useApp.getState().runs.length).toBe(before);

    const p2 = importPicked([{ name: 'mine.zip', bytes: zip }]);
    await Promise.resolve();
    answer(true);
    await p2;
    const runs = useApp.getState().runs;
    expect(runs.length).toBe(before + 1);
    expect(runs[runs.length - 1].name).toBe('imported prefix m=16');
    expect(finalValLoss(runs[runs.length - 1])).toBe(3.21);
    expect(useExchange.getState().files.map((f) => [f.name, f.origin])).toEqual([['mine.zip', 'imported']]);

    // A damaged zip never reaches the worker.
    const n = sent.length;
    const bad = zip.slice();
    bad[Math.floor(bad.length * 0.6)] ^= 0x55;
    await importPicked([{ name: 'bad.zip', bytes: bad }]);
    expect(sent.length).toBe(n);
    expect(useExchange.getState().message?.text).toMatch(/^Could not import bad.zip: not a valid zip bundle: .*(CRC-32 mismatch|corrupt)/);
    expect(useApp.getState().runs.length).toBe(before + 1);
  });

  it('a base model is checked, then loaded only if the user agrees', async () => {
    const files = await exportBase(cfg, vocab, randomParams(baseParamSpecs(cfg), new Rng(12)));
    const n = sent.length;
    const questions: string[] = [];
    await importPicked([{ name: 'base.zip', bytes: zipFiles(files) }], (q) => (questions.push(q), false));
    expect(questions[0]).toMatch(/^Replace the base model with base.zip \(2 layers, 3 heads, width 15, context 11, 8 characters; fingerprint [0-9a-f]{16}\)/);
    expect(sent.length).toBe(n);
    // A broken base model is refused before anyone is asked.
    const broken = new Map(files);
    broken.delete('vocab.json');
    await importPicked([{ name: 'broken.zip', bytes: zipFiles(broken) }], () => {
      throw new Error('must not ask');
    });
    expect(useExchange.getState().message?.text).toContain('Could not import broken.zip: missing the tokenizer');
    const runsBefore = useApp.getState().runs.length;
    const p = importPicked([{ name: 'base.zip', bytes: zipFiles(files) }], () => true);
    await new Promise((r) => setTimeout(r, 50)); // importBase hashes the weights first
    const m = sent[sent.length - 1];
    if (m.type !== 'import-base') throw new Error(`unexpected ${m.type}`);
    handleWorkerMessage({ type: 'imported-base', requestId: m.requestId, fingerprint: 'bbbb', previousFingerprint: 'aaaa', info: { source: 'files', modelConfig: cfg, params: 1, vocabSize: 8, ms: 1 } });
    await p;
    const runs = useApp.getState().runs;
    expect(runs.length).toBe(runsBefore + 1);
    expect(runs[runs.length - 1].name).toBe('base model replaced: base.zip (aaaa → bbbb)');
  });
});
