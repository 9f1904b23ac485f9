// The lab's task resolution on the CPU (no GPU): symbols a character vocabulary has, the
// synthetic tasks a base cannot run and why, the user's own text, the cache, and the
// sequence-length refusal.
import { describe, expect, it } from 'vitest';
import { Vocab } from '../data';
import { isOwnFileTask, requestedSeqLen, symbolsFor, syntheticFor, taskFor, taskIssuesFor } from './task';

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
