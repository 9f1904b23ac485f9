import { describe, expect, it } from 'vitest';
import { Rng } from '../util/rng';
import { loadCorpus, loadCorpusIndex, parseCorpusIndex, type ReadText } from './corpus';
import { DataError } from './errors';
import { createTask } from './index';
import { nodeReader } from './node';
import { syntheticTask } from './synthetic';
import { TextTask } from './text';
import { Vocab } from './vocab';
import { rejected } from '../util/thrown';

const read = nodeReader();

const failCode = async (p: Promise<unknown>) => (await rejected(DataError, p)).code;

describe('built-in corpora (public/data, committed)', () => {
  it('index lists moby-dick (pretrain) and sotu (adapt) with matching files', async () => {
    const index = await loadCorpusIndex(read);
    expect(index.corpora.map((c) => [c.name, c.role])).toEqual([
      ['moby-dick', 'pretrain'],
      ['sotu', 'adapt'],
    ]);
    for (const info of index.corpora) {
      const { text } = await loadCorpus(info.name, read, index);
      expect(new TextEncoder().encode(text).length).toBe(info.bytes);
      expect(new Set(text).size).toBe(info.distinctChars);
      expect(text).not.toMatch(/ {2}|\n{3}|\r/); // whitespace cleaned
    }
    const moby = await loadCorpus('moby-dick', read, index);
    expect(moby.text.startsWith('CHAPTER 1. Loomings.\n\nCall me Ishmael.')).toBe(true);
    expect(moby.info.bytes).toBeLessThanOrEqual(1_000_000);
    const sotu = await loadCorpus('sotu', read, index);
    expect(sotu.info.bytes).toBeGreaterThan(300_000);
    expect(sotu.info.bytes).toBeLessThanOrEqual(500_000);
    expect(sotu.text).not.toMatch(/[[(](applause|laughter)/i); // stage directions removed
    expect(sotu.text).not.toMatch(/[\u2018\u2019\u201c\u201d\u2013]/); // typography made ASCII
  });

  it('adapting sotu to the Moby Dick vocabulary leaves few unknown characters', async () => {
    const moby = await loadCorpus('moby-dick', read);
    const sotu = await loadCorpus('sotu', read);
    const base = Vocab.fromText(moby.text);
    const task = new TextTask('sotu', sotu.text, { tokenizer: base });
    expect(task.tokenizer).toBe(base);
    expect(task.unknownFraction).toBeGreaterThan(0); // '/', accented letters
    expect(task.unknownFraction).toBeLessThan(1e-3);
    const b = task.nextBatch('train', 4, 64, new Rng(1));
    expect(b.inputs.every((id) => id >= 0 && id < base.size)).toBe(true);
    // The symbols DATA.md suggests for synthetic tasks on this base exist in it.
    expect(() => syntheticTask('reverse', { tokenizer: base })).toThrow(DataError);
    for (const name of ['reverse', 'sort', 'copy-rule'] as const) expect(syntheticTask(name, { tokenizer: base, symbols: { sep: ':' } }).tokenizer).toBe(base);
    expect(syntheticTask('add', { tokenizer: base, symbols: { plus: ';', equals: ':' } }).tokenizer).toBe(base);
  });

  it('errors: unknown corpus, stale file, non-JSON index', async () => {
    expect(await failCode(loadCorpus('nope', read))).toBe('unknown-corpus');
    const stale: ReadText = async (p) => (p.endsWith('.txt') ? 'truncated' : read(p));
    expect(await failCode(loadCorpus('sotu', stale))).toBe('corpus-mismatch');
    expect(() => parseCorpusIndex('<!doctype html><html>')).toThrow(DataError);
    expect(() => parseCorpusIndex('{"version":1,"corpora":[{"name":"x"}]}')).toThrow(/must be a non-empty string/);
  });
});

describe('createTask', () => {
  it('resolves synthetic names and corpus names', async () => {
    const add = await createTask('add');
    expect(add.kind).toBe('synthetic');
    const sotu = await createTask('sotu', { readText: read, seqLen: 64, seed: 3 });
    expect(sotu.kind).toBe('text');
    expect(sotu.maxSeqLen).toBeGreaterThanOrEqual(64);
    expect(await failCode(createTask('sotu'))).toBe('unknown-task');
    expect(await failCode(createTask('nope', { readText: read }))).toBe('unknown-corpus');
  });
});
