// createTask (the data layer's task by name) and the DataError class, on the CPU in ms: a
// synthetic task gets the tokenizer from either option, a corpus needs a reader and gets the
// tokenizer, seed and sequence length.
import { describe, expect, it } from 'vitest';
import { rejected } from '../util/thrown';
import { createTask, DataError, TextTask, Vocab } from '.';

const letters = 'abcdefghijklmnopqrstuvwxyz0123456789';
const corpus = 'plain words in a small corpus '.repeat(30);
const info = { name: 'tiny', title: 't', description: 'd', file: 'data/tiny.txt', role: 'adapt', bytes: corpus.length, chars: corpus.length, distinctChars: 1, source: 's', licence: 'l' };
const files: Record<string, string> = { 'data/index.json': JSON.stringify({ version: 1, corpora: [info] }), 'data/tiny.txt': corpus };
const readText = async (p: string) => files[p];

describe('DataError', () => {
  it('is an Error named DataError with its code, message and details (default none)', () => {
    const e = new DataError('empty', 'nothing here');
    expect(e).toBeInstanceOf(Error);
    expect([e.name, e.code, e.message, e.details]).toEqual(['DataError', 'empty', 'nothing here', {}]);
    expect(String(e)).toBe('DataError: nothing here');
    expect(new DataError('bad-id', 'x', { id: 3 }).details).toEqual({ id: 3 });
  });
});

describe('createTask', () => {
  it('a synthetic task takes the tokenizer from opts.tokenizer, else opts.synthetic.tokenizer', async () => {
    const v = Vocab.fromText(`${letters}>+=.`);
    const w = Vocab.fromText(`${letters}>+=.!`);
    expect((await createTask('reverse', { tokenizer: v })).tokenizer).toBe(v);
    expect((await createTask('reverse', { synthetic: { tokenizer: w } })).tokenizer).toBe(w);
    expect((await createTask('reverse', { tokenizer: v, synthetic: { tokenizer: w } })).tokenizer).toBe(v);
    // Other synthetic options go through.
    const t = await createTask('reverse', { synthetic: { maxLen: 3, minLen: 3 } });
    if (t.kind !== 'synthetic') throw new Error('expected a synthetic task');
    expect(t.maxAnswerLen).toBe(4);
    // No options at all: a task on its own vocabulary.
    expect((await createTask('sort')).name).toBe('sort');
  });

  it('a corpus needs a reader, and is encoded with the tokenizer, seed and sequence length', async () => {
    const e = await rejected(DataError, createTask('tiny'));
    expect([e.code, e.message, e.details]).toEqual([
      'unknown-task',
      "'tiny' is not a synthetic task (reverse, sort, add, copy-rule), and no reader was given to load it as a corpus",
      { name: 'tiny' },
    ]);
    const v = Vocab.fromText(`${letters} `);
    const t = await createTask('tiny', { readText, tokenizer: v, seed: 4 });
    if (t.kind !== 'text') throw new Error('expected a text task');
    expect(t.name).toBe('tiny');
    expect(t.tokenizer).toBe(v);
    expect(t.splitRanges('val')).toEqual(new TextTask('tiny', corpus, { tokenizer: v, seed: 4 }).splitRanges('val'));
    const tooLong = await rejected(DataError, createTask('tiny', { readText, seqLen: 500 }));
    expect(tooLong.code).toBe('too-short');
    expect(tooLong.details.seqLen).toBe(500);
  });
});
