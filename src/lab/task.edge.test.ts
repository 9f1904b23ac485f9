// The lab's task resolution on the CPU (no GPU): symbols a character vocabulary has, the
// synthetic tasks a base cannot run and why, the user's own text, the cache, and the
// sequence-length refusal.
import { describe, expect, it } from 'vitest';
import { DataError, TextTask, Vocab } from '../data';
import { rejected, thrown } from '../util/thrown';
import { isOwnFileTask, requestedSeqLen, SYNTHETIC_SYMBOLS, symbolsFor, syntheticFor, taskFor, taskIssuesFor } from './task';

const letters = 'abcdefghijklmnopqrstuvwxyz0123456789';
const baseOf = (text: string, contextLength = 64) => {
  const v = Vocab.fromText(text);
  return { tokenizer: v, vocab: v, config: { contextLength }, fingerprint: `fp-${text.length}` };
};

describe('lab tasks', () => {
  it('symbolsFor takes the first candidate the vocabulary has for each symbol, or null', () => {
    expect(symbolsFor(Vocab.fromText(`${letters}>+=.`))).toEqual({ sep: '>', plus: '+', equals: '=', end: '.' });
    expect(symbolsFor(Vocab.fromText(`${letters}:&;!`))).toEqual({ sep: ':', plus: '&', equals: ':', end: '!' });
    expect(symbolsFor(Vocab.fromText(`${letters}|,;`))).toEqual({ sep: '|', plus: ',', equals: ';', end: ';' });
    expect(symbolsFor(Vocab.fromText(`${letters}>=.`))).toBeNull();
    expect(symbolsFor(Vocab.fromText(`${letters}>+.`))).toBeNull();
    expect(symbolsFor(Vocab.fromText(`${letters}>+=`))).toBeNull();
    expect(symbolsFor(Vocab.fromText(`${letters}+=.`))).toBeNull();
  });

  it('syntheticFor: default symbols when present, the vocabulary punctuation otherwise, else why not', () => {
    expect(syntheticFor('reverse', baseOf(`${letters}>.`)).symbols).toMatchObject({ sep: '>', end: '.' });
    expect(syntheticFor('add', baseOf(`${letters}-&;.`)).symbols).toEqual({ sep: ';', plus: '&', equals: ';', end: '.' });
    expect(() => syntheticFor('add', baseOf(letters))).toThrow("the base model's vocabulary lacks the punctuation the synthetic task 'add' needs");
    expect(() => syntheticFor('sotu', baseOf(letters))).toThrow("'sotu' is not a synthetic task");
    // A BPE base (no character vocabulary) takes the tokenizer as is.
    const v = Vocab.fromText(`${letters}>+=.`);
    expect(syntheticFor('sort', { tokenizer: v, vocab: null }).tokenizer).toBe(v);
  });

  it('taskIssuesFor lists only the tasks this base cannot run, with the reason', () => {
    expect(taskIssuesFor(baseOf(`${letters}>+=.`))).toEqual({});
    const issues = taskIssuesFor(baseOf('abc>.'));
    expect(Object.keys(issues).sort()).toEqual(['add', 'copy-rule', 'reverse', 'sort']);
    expect(issues.add).toMatch(/punctuation/);
  });

  it('sequence lengths: capped at the context; file: names; own text; cache; too long refused', async () => {
    expect(requestedSeqLen({ seqLen: 100 }, { contextLength: 64 })).toBe(64);
    expect(requestedSeqLen({ seqLen: 10 }, { contextLength: 64 })).toBe(10);
    expect(isOwnFileTask('file:notes.txt')).toBe(true);
    expect(isOwnFileTask('sotu')).toBe(false);
    const base = baseOf(`${letters}>+=. `);
    await expect(taskFor(base, { task: 'file:x.txt', seed: 1, seqLen: 8 })).rejects.toThrow("the task 'file:x.txt' is your own file: pick or drop it again");
    const text = 'the quick brown fox jumps over the lazy dog '.repeat(40);
    const own = await taskFor(base, { task: 'file:x.txt', seed: 1, seqLen: 8 }, { ownText: { name: 'x.txt', text } });
    expect(own.kind).toBe('text');
    const fromBytes = await taskFor(base, { task: 'file:x.txt', seed: 1, seqLen: 8 }, { ownText: { name: 'x.txt', bytes: new TextEncoder().encode(text) } });
    expect(fromBytes.kind).toBe('text');
    await expect(taskFor(base, { task: 'f', seed: 1, seqLen: 64 }, { ownText: { name: 'tiny.txt', text: 'abc abc abc abc abc abc' } })).rejects.toThrow(/sequence length 64 is longer than the task 'tiny.txt' allows/);
    const cache = new Map();
    const a = await taskFor(base, { task: 'reverse', seed: 1, seqLen: 32 }, { cache });
    expect(await taskFor(base, { task: 'reverse', seed: 1, seqLen: 32 }, { cache })).toBe(a);
    expect(await taskFor(base, { task: 'reverse', seed: 2, seqLen: 32 }, { cache })).not.toBe(a);
    expect([...cache.keys()]).toEqual([`${base.fingerprint}|reverse|1`, `${base.fingerprint}|reverse|2`]);
  });
});

describe('lab task refusals and options', () => {
  const text = 'the quick brown fox jumps over the lazy dog '.repeat(40);

  it('every refusal is a DataError with its code', async () => {
    const base = baseOf(`${letters}>+=. `);
    const notSynthetic = thrown(DataError, () => syntheticFor('sotu', base));
    expect([notSynthetic.code, notSynthetic.details]).toEqual(['unknown-task', { name: 'sotu' }]);
    const noPunct = thrown(DataError, () => syntheticFor('add', baseOf(letters)));
    expect([noPunct.code, noPunct.details]).toEqual(['vocab-missing-chars', { task: 'add' }]);
    const gone = await rejected(DataError, taskFor(base, { task: 'file:x.txt', seed: 1, seqLen: 8 }));
    expect([gone.code, gone.details]).toEqual(['file-not-kept', { name: 'file:x.txt' }]);
    const long = await rejected(DataError, taskFor(base, { task: 'f', seed: 1, seqLen: 64 }, { ownText: { name: 'tiny.txt', text: 'abc abc abc abc abc abc' } }));
    expect(long.code).toBe('too-short');
    expect(long.details.seqLen).toBe(64);
  });

  it('the default symbols are the ones a vocabulary needs for every task with them', () => {
    expect([...SYNTHETIC_SYMBOLS].length).toBe(4);
    const base = baseOf(letters + SYNTHETIC_SYMBOLS);
    expect(taskIssuesFor(base)).toEqual({});
    expect(syntheticFor('add', base).symbols).toEqual({ sep: '>', plus: '+', equals: '=', end: '.' });
  });

  it('only a missing-characters DataError falls through to the vocabulary punctuation', () => {
    // A vocabulary whose idOf fails once: the first attempt's error must come out, not be
    // swallowed by a retry with other symbols (which would then succeed).
    const failingOnce = (err: Error) => {
      const v = Vocab.fromText(`${letters}>+=.`);
      let first = true;
      v.idOf = (c: string) => {
        if (first) {
          first = false;
          throw err;
        }
        return Vocab.prototype.idOf.call(v, c);
      };
      return { tokenizer: v, vocab: v };
    };
    const other = new DataError('bad-id', 'another data error');
    expect(thrown(DataError, () => syntheticFor('reverse', failingOnce(other)))).toBe(other);
    const lookalike = Object.assign(new Error('not a DataError'), { code: 'vocab-missing-chars' });
    expect(thrown(Error, () => syntheticFor('reverse', failingOnce(lookalike)))).toBe(lookalike);
    const missing = new DataError('vocab-missing-chars', 'missing');
    expect(syntheticFor('reverse', failingOnce(missing)).kind).toBe('synthetic');
  });

  it('own text is encoded with the base tokenizer and the run seed', async () => {
    const v = Vocab.fromText(`${letters}>+=.`); // no space: spaces read as unknown
    const base = { tokenizer: v, vocab: v, config: { contextLength: 64 } };
    for (const ownText of [{ name: 'x.txt', text }, { name: 'x.txt', bytes: new TextEncoder().encode(text) }]) {
      const t = await taskFor(base, { task: 'file:x.txt', seed: 7, seqLen: 8 }, { ownText });
      expect(t.tokenizer).toBe(v);
      expect(t.unknownFraction).toBeGreaterThan(0);
      if (t.kind !== 'text') throw new Error('expected a text task');
      const same = new TextTask('x.txt', text, { tokenizer: v, seed: 7 });
      const seed0 = new TextTask('x.txt', text, { tokenizer: v, seed: 0 });
      expect(t.splitRanges('val')).toEqual(same.splitRanges('val'));
      expect(t.splitRanges('val')).not.toEqual(seed0.splitRanges('val'));
    }
  });

  it('a sequence length equal to the task maximum is accepted, one more refused', async () => {
    const base = baseOf(`${letters}>+=. `, 4096);
    const max = new TextTask('x.txt', text, { tokenizer: base.tokenizer, seed: 1 }).maxSeqLen;
    const ownText = { name: 'x.txt', text };
    expect((await taskFor(base, { task: 'f', seed: 1, seqLen: max }, { ownText })).maxSeqLen).toBe(max);
    await expect(taskFor(base, { task: 'f', seed: 1, seqLen: max + 1 }, { ownText })).rejects.toThrow(`sequence length ${max + 1} is longer than the task 'x.txt' allows (at most ${max})`);
  });

  it('a corpus is read with the given reader, cached under the base fingerprint, and named when too short', async () => {
    const corpus = 'a small corpus of plain words '.repeat(30);
    const info = { name: 'tiny', title: 't', description: 'd', file: 'data/tiny.txt', role: 'adapt', bytes: corpus.length, chars: corpus.length, distinctChars: 1, source: 's', licence: 'l' };
    const files: Record<string, string> = { 'data/index.json': JSON.stringify({ version: 1, corpora: [info] }), 'data/tiny.txt': corpus };
    const reads: string[] = [];
    const readText = async (p: string) => {
      reads.push(p);
      return files[p];
    };
    const v = Vocab.fromText(`${letters} `);
    const base = { tokenizer: v, vocab: v, config: { contextLength: 4096 } }; // no fingerprint
    const cache = new Map();
    const t = await taskFor(base, { task: 'tiny', seed: 3, seqLen: 16 }, { readText, cache });
    expect(t.tokenizer).toBe(v);
    if (t.kind !== 'text') throw new Error('expected a text task');
    expect(t.splitRanges('val')).toEqual(new TextTask('tiny', corpus, { tokenizer: v, seed: 3 }).splitRanges('val'));
    expect([...cache.keys()]).toEqual(['|tiny|3']);
    expect(await taskFor(base, { task: 'tiny', seed: 3, seqLen: 16 }, { readText, cache })).toBe(t);
    expect(reads).toEqual(['data/index.json', 'data/tiny.txt']);
    // Too long for a corpus task: the message names the task (there is no own file).
    await expect(taskFor(base, { task: 'tiny', seed: 3, seqLen: 2000 }, { readText })).rejects.toThrow(`sequence length 2000 is longer than the task 'tiny' allows (at most ${t.maxSeqLen})`);
  });

  it('works without a cache', async () => {
    const t = await taskFor(baseOf(`${letters}>+=.`), { task: 'sort', seed: 1, seqLen: 32 });
    expect(t.kind).toBe('synthetic');
    expect(t.name).toBe('sort');
  });
});
