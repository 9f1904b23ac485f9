// Opening a picked base folder, without a browser: the worker's job (worker/openBase.ts) on
// File objects of a tiny GPT-2 in Hugging Face layout (progress, replacement, Cancel, a
// refused folder that changes nothing), the page's bookkeeping (baseOpen.ts), the tasks a
// base cannot run, and keeping files where there is no OPFS.
import { beforeAll, describe, expect, it } from 'vitest';
import { makeTinyGpt2, type TinyGpt2 } from '../../scripts/tiny_gpt2_lib';
import { Vocab } from '../data';
import { describeProgress, openBaseFiles, pickedLabel, useBaseOpen } from './baseOpen';
import { connectEngine } from './route';
import { fakeWorker } from './worker/fakeWorker';
import { keepFiles, keepableName } from './persist/opfs';
import { taskIssuesFor } from '../lab/task';
import type { WorkerBase } from './worker/worker_base';
import { createOpenBase } from './worker/openBase';
import type { FromWorker, ToWorker } from './worker/protocol';
import type { DeviceBudget } from '../model/memory';
import type { Gpu } from '../gpu/runtime';
import { bytesFolder } from '../io/byte_source';
import { openLabBase } from '../lab/base';
import { createExchange } from './exchange/worker';

let tiny: TinyGpt2;
beforeAll(async () => {
  tiny = await makeTinyGpt2({ layers: 2, heads: 2, embd: 16, positions: 32, tokenizer: 'vocab-merges', name: 'tiny-gpt2', seed: 3 });
});

const filesOf = (t: TinyGpt2, drop: string[] = []) => [...t.files].filter(([n]) => !drop.includes(n)).map(([n, b]) => new File([b as BlobPart], n));

function harness(device?: DeviceBudget) {
  const posted: FromWorker[] = [];
  const replaced: WorkerBase[] = [];
  const opener = createOpenBase({
    post: (m) => posted.push(m),
    currentBase: () => null,
    replaceBase: async (b) => {
      replaced.push(b);
    },
    ...(device ? { fitDevice: async () => device } : {}),
  });
  const settled = async () => {
    for (let i = 0; i < 2000 && !posted.some((m) => m.type === 'open-base-done' || m.type === 'open-base-failed'); i++) await new Promise((r) => setTimeout(r, 5));
  };
  return { posted, replaced, opener, settled };
}

const msg = (files: File[], requestId = 1): Extract<ToWorker, { type: 'open-base' }> => ({ type: 'open-base', requestId, files, folderName: 'tiny-gpt2' });

describe('opening a picked folder in the worker', () => {
  it('exports an opened GPT-2 as a base folder with its own tokenizer files, which opens again with the same ids and fingerprint', async () => {
    const h = harness();
    h.opener.open(msg(filesOf(tiny)));
    await h.settled();
    const b = h.replaced[0];
    const posted: FromWorker[] = [];
    const exchange = createExchange({
      post: (m) => posted.push(m), ensureGpu: async () => ({}) as Gpu, ensureBase: async () => b, currentBase: () => Promise.resolve(b),
      buildTask: async () => { throw new Error('not used'); }, replaceBase: async () => undefined, enqueue: (job) => void job(),
    });
    exchange.handle({ type: 'export-base', requestId: 7 });
    for (let i = 0; i < 200 && !posted.some((m) => m.type === 'exported' || m.type === 'exchange-failed'); i++) await new Promise((r) => setTimeout(r, 5));
    const out = posted.find((m) => m.type === 'exported');
    if (!out || out.type !== 'exported') throw new Error(`export failed: ${JSON.stringify(posted)}`);
    expect([...out.files.keys()]).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'vocab.json', 'merges.txt']));
    const again = await openLabBase(bytesFolder(out.files), 'exported');
    expect(again.fingerprint).toBe(b.info.fingerprint);
    const text = " Hello, world's café 東京 🎉<|endoftext|>";
    expect(again.tokenizer.encode(text)).toEqual(b.tokenizer.encode(text));
    // Without its tokenizer files a BPE base is refused with a message saying which are missing.
    posted.length = 0;
    const bare = { ...b, tokenizerFiles: undefined };
    const refusing = createExchange({
      post: (m) => posted.push(m), ensureGpu: async () => ({}) as Gpu, ensureBase: async () => bare, currentBase: () => Promise.resolve(bare),
      buildTask: async () => { throw new Error('not used'); }, replaceBase: async () => undefined, enqueue: (job) => void job(),
    });
    refusing.handle({ type: 'export-base', requestId: 8 });
    for (let i = 0; i < 200 && !posted.some((m) => m.type === 'exchange-failed'); i++) await new Promise((r) => setTimeout(r, 5));
    const failed = posted.find((m) => m.type === 'exchange-failed');
    expect(failed && 'message' in failed ? failed.message : '').toMatch(/merges\.txt/);
  });

  it("refuses a model over the device's limits from its config.json, before any weight is read, and changes nothing", async () => {
    // wte of the tiny model is 50257 × 16 × 4 bytes ≈ 3.2 MB: over a 1 MiB buffer limit.
    const h = harness({ maxBufferSize: 2 ** 20, maxStorageBufferBindingSize: 2 ** 20, budgetBytes: 1e9 });
    h.opener.open(msg(filesOf(tiny)));
    await h.settled();
    const failed = h.posted.find((m) => m.type === 'open-base-failed');
    expect(failed && failed.type === 'open-base-failed' && failed.message).toMatch(/wte/);
    expect(h.posted.some((m) => m.type === 'open-base-progress' && m.progress.phase === 'weights' && m.progress.bytesDone > 0)).toBe(false);
    expect(h.replaced).toHaveLength(0);
    // The same files open on a device they fit.
    const ok = harness({ maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 27, budgetBytes: 1e9 });
    ok.opener.open(msg(filesOf(tiny)));
    await ok.settled();
    expect(ok.replaced).toHaveLength(1);
  });

  it('reads the files, posts bytes and tensors, then replaces the base with a BPE model', async () => {
    const h = harness();
    h.opener.open(msg(filesOf(tiny)));
    await h.settled();
    const weights = h.posted.flatMap((m) => (m.type === 'open-base-progress' && m.progress.phase === 'weights' ? [m.progress] : []));
    expect(weights.length).toBeGreaterThan(2);
    const last = weights[weights.length - 1];
    expect(last.bytesDone).toBe(last.bytesTotal);
    expect(last.tensorsDone).toBe(last.tensorsTotal);
    expect(weights.map((p) => p.bytesDone)).toEqual([...weights.map((p) => p.bytesDone)].sort((a, b) => a - b));
    expect(h.replaced).toHaveLength(1);
    const b = h.replaced[0];
    expect(b.vocab).toBeNull();
    expect(b.tokenizer.kind).toBe('bpe');
    expect(b.info.summary).toMatchObject({ name: 'tiny-gpt2', layers: 2, vocabulary: 50257, tokenizerKind: 'bpe' });
    expect(b.info.format).toBe('huggingface');
    expect(b.picked?.files.map((f) => f.name).sort()).toEqual([...tiny.files.keys()].sort());
    const types = h.posted.map((m) => m.type).filter((t) => t !== 'open-base-progress');
    expect(types).toEqual(['base-ready', 'open-base-done']);
  });

  it('refuses a folder without merges.txt with the loader message and changes nothing', async () => {
    const h = harness();
    h.opener.open(msg(filesOf(tiny, ['merges.txt'])));
    await h.settled();
    const fail = h.posted.find((m) => m.type === 'open-base-failed');
    expect(fail).toMatchObject({ cancelled: false, message: expect.stringContaining('merges.txt') });
    expect(h.replaced).toHaveLength(0);
    expect(h.posted.some((m) => m.type === 'base-ready')).toBe(false);
  });

  it('stops on Cancel and keeps the base', async () => {
    const h = harness();
    h.opener.open(msg(filesOf(tiny), 5));
    h.opener.cancel(4); // another request: ignored
    h.opener.cancel(5);
    await h.settled();
    expect(h.posted.find((m) => m.type === 'open-base-failed')).toMatchObject({ requestId: 5, cancelled: true, message: 'cancelled: the base model is unchanged' });
    expect(h.replaced).toHaveLength(0);
  });
});

describe('the page side', () => {
  it('sends File objects, follows its own request only, and says where the load is', async () => {
    const w = fakeWorker();
    const sent = w.sent;
    const handleOpenBaseMessage = w.reply;
    connectEngine(w.client);
    const fs = filesOf(tiny);
    expect(openBaseFiles(fs, 'tiny-gpt2')).toBe(true);
    const m = sent[0] as Extract<ToWorker, { type: 'open-base' }>;
    expect(m.type).toBe('open-base');
    expect(m.files[0]).toBeInstanceOf(File);
    const id = m.requestId;
    handleOpenBaseMessage({ type: 'open-base-failed', requestId: id - 1, message: 'stale', cancelled: false });
    expect(useBaseOpen.getState().state).toBe('loading');
    handleOpenBaseMessage({ type: 'open-base-progress', requestId: id, progress: { phase: 'weights', bytesDone: 123e6, bytesTotal: 498e6, tensorsDone: 45, tensorsTotal: 149 } });
    expect(describeProgress(useBaseOpen.getState().progress)).toBe('123 MB of 498 MB, 45/149 tensors');
    handleOpenBaseMessage({ type: 'open-base-failed', requestId: id, message: 'missing merges.txt', cancelled: false });
    await w.settle();
    expect(useBaseOpen.getState()).toMatchObject({ state: 'failed', message: 'missing merges.txt', label: 'tiny-gpt2' });
    expect(pickedLabel([{ name: 'config.json' }, { name: 'a' }, { name: 'b' }], null)).toBe('config.json + 2 more');
    connectEngine(null);
  });
});

describe('what a base can run and keep', () => {
  it('lists the synthetic tasks a character vocabulary cannot write, with the reason', () => {
    const v = Vocab.fromText('abc');
    const issues = taskIssuesFor({ tokenizer: v, vocab: v });
    expect(Object.keys(issues).sort()).toEqual(['add', 'copy-rule', 'reverse', 'sort']);
    expect(issues.reverse).toContain('punctuation');
    const full = Vocab.fromText('abcdefghijklmnopqrstuvwxyz0123456789>+=.');
    expect(taskIssuesFor({ tokenizer: full, vocab: full })).toEqual({});
  });

  it('says why nothing is kept where there is no OPFS, and copies only a GPT-2 folder\'s own files', async () => {
    expect(await keepFiles('fp', 'tiny-gpt2', filesOf(tiny))).toContain('no origin-private file system');
    expect(['config.json', 'model.safetensors', 'merges.txt', 'vocab.json', 'tokenizer.json', 'model-00001-of-00002.safetensors', 'gpt2.zip'].every(keepableName)).toBe(true);
    expect(['pytorch_model.bin', 'tf_model.h5', 'README.md', 'onnx/model.onnx'].some(keepableName)).toBe(false);
  });
});
