// Text tasks at their edges, on small texts (ms each): the split's block count at its
// thresholds and each block's place and size, empty training pieces never listed, bytes per
// split for 1-4 byte characters, tokenizers other than a character vocabulary, every
// refusal's message, and where batches may start.
import { describe, expect, it } from 'vitest';
import { Rng } from '../util/rng';
import { thrown } from '../util/thrown';
import { DataError } from './errors';
import { minCharsForSeqLen, TextTask, textTask } from './text';
import type { Tokenizer } from './tokenizer';
import { Vocab } from './vocab';

type Ranges = ReadonlyArray<readonly [number, number]>;

/** The split's promises: val blocks one per stratum, sized v/nb (the first v % nb one
 *  longer), train exactly the rest, no empty range. */
function checkSplit(task: TextTask, n: number, v: number, nb: number) {
  const val = task.splitRanges('val');
  const train = task.splitRanges('train');
  expect(val.length).toBe(nb);
  val.forEach(([a, b], k) => {
    expect(b - a).toBe(Math.floor(v / nb) + (k < v % nb ? 1 : 0));
    expect(a).toBeGreaterThanOrEqual(Math.floor((k * n) / nb));
    expect(b).toBeLessThanOrEqual(Math.floor(((k + 1) * n) / nb));
  });
  const all = [...train, ...val].sort((x, y) => x[0] - y[0]);
  let at = 0;
  for (const [a, b] of all) {
    expect(a).toBe(at);
    expect(b).toBeGreaterThan(a);
    at = b;
  }
  expect(at).toBe(n);
  // No two training ranges touch (they would be one piece).
  for (let i = 1; i < train.length; i++) expect(train[i][0]).toBeGreaterThan(train[i - 1][1]);
  expect(task.splitSize('val')).toBe(v);
  expect(task.splitSize('train')).toBe(n - v);
}

const longest = (r: Ranges) => Math.max(...r.map(([a, b]) => b - a));

describe('text split: block count, sizes and places', () => {
  // Blocks are ≥ 8192 tokens when there are several, and at most 10.
  for (const [n, nb] of [
    [163_839, 1],
    [163_840, 2],
    [245_760, 3],
    [819_200, 10],
    [901_120, 10],
  ] as const) {
    it(`n = ${n}: ${nb} block(s)`, () => {
      const text = 'abcdefgh'.repeat(n / 8 + 1).slice(0, n);
      const task = new TextTask('t', text, { seed: 5 });
      const v = Math.floor(n * 0.1);
      checkSplit(task, n, v, nb);
      expect(task.maxSeqLen).toBe(Math.min(longest(task.splitRanges('train')), longest(task.splitRanges('val'))) - 1);
    });
  }

  it('blocks reach both ends of their stratum over seeds; no empty training piece is listed', () => {
    const text = 'ab'.repeat(10); // n = 20, one validation block of 2
    const starts = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      const task = new TextTask('t', text, { seed });
      checkSplit(task, 20, 2, 1);
      starts.add(task.splitRanges('val')[0][0]);
      // Bytes add up wherever the block sits, at either end too (ASCII: one byte a token).
      expect([task.splitBytes('train'), task.splitBytes('val')]).toEqual([18, 2]);
    }
    expect(Math.min(...starts)).toBe(0);
    expect(Math.max(...starts)).toBe(18);
    expect(starts.size).toBe(19);
    // Range ends of two and three digits (a string sort of the cut points would misorder them).
    for (let seed = 0; seed < 40; seed++) {
      const task = new TextTask('t', 'ab'.repeat(200), { seed });
      expect([task.splitBytes('train'), task.splitBytes('val')]).toEqual([360, 40]);
    }
  });

  it('the seed is read as an unsigned 32-bit integer (default 0)', () => {
    const text = 'abcd'.repeat(100);
    const ranges = (seed?: number) => new TextTask('t', text, seed === undefined ? {} : { seed }).splitRanges('val');
    expect(ranges(-1)).toEqual(ranges(0xffffffff));
    expect(ranges()).toEqual(ranges(0));
    expect(ranges(1)).not.toEqual(ranges(0));
  });

  it('valFraction: (0, 0.5], a share rounded down but not below a float error', () => {
    for (const bad of [0, -0.1, 0.51, NaN]) {
      const e = thrown(DataError, () => new TextTask('t', 'abc'.repeat(50), { valFraction: bad }));
      expect([e.code, e.message]).toEqual(['bad-shape', `valFraction must be in (0, 0.5], got ${bad}`]);
    }
    const half = new TextTask('t', 'ab'.repeat(50), { valFraction: 0.5 });
    expect([half.valFraction, half.splitSize('val')]).toEqual([0.5, 50]);
    // 0.29 × 100 is 28.999999999999996 in floating point: still 29 held out.
    expect(new TextTask('t', 'ab'.repeat(50), { valFraction: 0.29 }).splitSize('val')).toBe(29);
    expect(new TextTask('t', 'ab'.repeat(50), { valFraction: 0.295 }).splitSize('val')).toBe(29);
    expect(new TextTask('t', 'ab'.repeat(50)).valFraction).toBe(0.1);
  });

  it('a text too short for any validation token is refused even at sequence length 1', () => {
    const e = thrown(DataError, () => new TextTask('t', 'abcde'));
    expect([e.code, e.details]).toEqual(['too-short', { have: 5, needed: 20, seqLen: 1, unit: 'characters' }]);
  });
});

describe('text task sizes and refusals', () => {
  it('minCharsForSeqLen: worked values, and exactly that many characters work', () => {
    expect(minCharsForSeqLen(1)).toBe(20);
    expect(minCharsForSeqLen(63)).toBe(640);
    expect(minCharsForSeqLen(1, 0.5)).toBe(5);
    expect(minCharsForSeqLen(3, 0.5)).toBe(13);
    expect(minCharsForSeqLen(9, 0.3)).toBe(34);
    for (const [T, f] of [
      [1, 0.5],
      [3, 0.5],
      [9, 0.3],
    ] as const) {
      const need = minCharsForSeqLen(T, f);
      for (let seed = 0; seed < 20; seed++) expect(new TextTask('t', 'ab'.repeat(need).slice(0, need), { seqLen: T, valFraction: f, seed }).maxSeqLen).toBeGreaterThanOrEqual(T);
      // Tight: one character fewer fails where the validation block splits training in two.
      const refused = [...Array(20).keys()].filter((seed) => {
        try {
          new TextTask('t', 'ab'.repeat(need).slice(0, need - 1), { seqLen: T, valFraction: f, seed });
          return false;
        } catch (e) {
          return e instanceof DataError && e.code === 'too-short';
        }
      });
      expect(refused.length).toBeGreaterThan(0);
    }
  });

  it('empty text, a text that encodes to nothing, a context too long: each its message', () => {
    const empty = thrown(DataError, () => new TextTask('notes.txt', ''));
    expect([empty.code, empty.message]).toEqual(['empty', 'notes.txt: the text is empty']);
    const nothing: Tokenizer = { kind: 'bpe', size: 3, eosId: null, encode: () => new Int32Array(0), decode: () => '', describe: () => 'nothing' };
    const e0 = thrown(DataError, () => new TextTask('n.txt', 'abc', { tokenizer: nothing }));
    expect([e0.code, e0.message]).toEqual(['empty', 'n.txt: the text encodes to no tokens']);
    const e = thrown(DataError, () => new TextTask('s.txt', 'ab'.repeat(15), { seqLen: 5 }));
    expect([e.code, e.message, e.details]).toEqual([
      'too-short',
      's.txt: the text has 30 characters, too short for context length 5: it needs at least 60 (10% is held out for validation, and each part must hold 6 consecutive characters)',
      { have: 30, needed: 60, seqLen: 5, unit: 'characters' },
    ]);
    const ids: Tokenizer = { kind: 'bpe', size: 2, eosId: null, encode: (s) => new Int32Array(s.length).fill(1), decode: (d) => 'x'.repeat(d.length), describe: () => 'ids' };
    const eb = thrown(DataError, () => new TextTask('b.txt', 'x'.repeat(40), { tokenizer: ids, seqLen: 10, valFraction: 0.25 }));
    expect(eb.message).toBe('b.txt: the text has 40 tokens, too short for context length 10: it needs at least 44 (25% is held out for validation, and each part must hold 11 consecutive tokens)');
    expect(eb.details.unit).toBe('tokens');
    // seqLen equal to what the text allows is fine.
    const ok = new TextTask('s.txt', 'ab'.repeat(15));
    expect(new TextTask('s.txt', 'ab'.repeat(15), { seqLen: ok.maxSeqLen }).maxSeqLen).toBe(ok.maxSeqLen);
    expect(textTask('s.txt', 'ab'.repeat(15), { seed: 2 }).splitRanges('val')).toEqual(new TextTask('s.txt', 'ab'.repeat(15), { seed: 2 }).splitRanges('val'));
  });

  it('unknown characters: counted, most frequent first, ties in code-point order', () => {
    const base = Vocab.fromText('ab');
    const task = new TextTask('t', 'zzyyxxxab'.repeat(10), { tokenizer: base });
    expect(task.unknownChars).toEqual([
      ['x', 30],
      ['y', 20],
      ['z', 20],
    ]);
    expect(task.unknownFraction).toBeCloseTo(70 / 90, 12);
    // Four tied characters first seen in the order b d a c come out a b c d.
    const tied = new TextTask('t', 'bdac'.repeat(5) + 'x'.repeat(40), { tokenizer: Vocab.fromText('x') });
    expect(tied.unknownChars.map(([c]) => c)).toEqual(['a', 'b', 'c', 'd']);
    expect(new TextTask('t', 'ba'.repeat(20)).unknownFraction).toBe(0);
    expect(new TextTask('t', 'ba'.repeat(20)).unknownChars).toEqual([]);
  });
});

describe('text task bytes', () => {
  const enc = new TextEncoder();
  /** UTF-8 bytes of the text a split's ranges cover (ranges in code points). */
  const bytesOf = (cps: string[], ranges: Ranges) => ranges.reduce((s, [a, b]) => s + enc.encode(cps.slice(a, b).join('')).length, 0);

  it('a character vocabulary counts each character by its UTF-8 length (1-4 bytes, lone surrogates 3)', () => {
    // Characters at each UTF-8 length boundary; a lone surrogate is written as U+FFFD (3 bytes).
    const chars = ['\x7f', '\x80', '\u07ff', '\u0800', '\uffff', '\u{10000}', '\ud800', 'a'];
    const text = Array.from({ length: 400 }, (_, i) => chars[(i * 7 + (i >> 3)) % chars.length]).join('');
    const cps = [...text].map((c) => (c === '\ud800' ? '\ufffd' : c));
    for (const seed of [0, 1, 2]) {
      const task = new TextTask('t', text, { seed });
      for (const split of ['train', 'val'] as const) {
        expect(task.splitBytes(split)).toBe(bytesOf(cps, task.splitRanges(split)));
        expect(task.bytesPerToken(split)).toBe(task.splitBytes(split) / task.splitSize(split));
      }
    }
    expect(new TextTask('t', 'ab'.repeat(50)).bytesPerToken('val')).toBe(1);
  });

  it("another tokenizer: its tokenBytes, else each id's decoded UTF-8 length", () => {
    // Token i stands for piece i.
    const pieces = ['a', 'é', '€', '🐋'];
    const plain: Tokenizer = {
      kind: 'bpe',
      size: 4,
      eosId: null,
      encode: (s) => Int32Array.from([...s].map((c) => pieces.indexOf(c))),
      decode: (d) => Array.from(d, (i) => pieces[i]).join(''),
      describe: () => 'pieces',
    };
    const text = Array.from({ length: 300 }, (_, i) => pieces[(i * 3 + (i >> 2)) % 4]).join('');
    const cps = [...text];
    const t1 = new TextTask('t', text, { tokenizer: plain, seed: 3 });
    expect(t1.tokenizer).toBe(plain);
    expect(t1.unknownFraction).toBe(0);
    expect(t1.unknownChars).toEqual([]);
    for (const split of ['train', 'val'] as const) expect(t1.splitBytes(split)).toBe(bytesOf(cps, t1.splitRanges(split)));
    // With tokenBytes (here: 10 bytes per id, to tell it from the decoded length).
    const t2 = new TextTask('t', text, { tokenizer: { ...plain, tokenBytes: () => 10 }, seed: 3 });
    expect(t2.splitBytes('val')).toBe(10 * t2.splitSize('val'));
    expect(t2.splitBytes('train')).toBe(10 * t2.splitSize('train'));
  });
});

describe('text batches: where windows start', () => {
  /** Token id − 1 is the position (each character distinct, above U+FFFD's id 0). */
  const positional = (n: number) => Array.from({ length: n }, (_, i) => String.fromCodePoint(0x20000 + i)).join('');

  it('every valid start of every training range is drawn, and nothing else', () => {
    const task = new TextTask('t', positional(60), { seed: 4 }); // val 6 tokens inside; train one or two pieces
    const T = 3;
    const train = task.splitRanges('train');
    const valid = new Set<number>();
    for (const [a, b] of train) for (let s = a; s + T < b; s++) valid.add(s);
    const seen = new Set<number>();
    const rng = new Rng(9);
    for (let i = 0; i < 100; i++) {
      const { inputs, targets, B } = task.nextBatch('train', 8, T, rng);
      expect(B).toBe(8);
      for (let r = 0; r < 8; r++) {
        const s = inputs[r * T] - 1;
        seen.add(s);
        for (let t = 0; t < T; t++) {
          expect(inputs[r * T + t] - 1).toBe(s + t);
          expect(targets[r * T + t] - 1).toBe(s + t + 1);
        }
      }
    }
    expect([...seen].sort((x, y) => x - y)).toEqual([...valid].sort((x, y) => x - y));
  });

  it('a range shorter than the window gives no start; the longest range allows T = maxSeqLen', () => {
    // A 20-token text: val 2 tokens somewhere; T near the longest training piece.
    for (let seed = 0; seed < 30; seed++) {
      const task = new TextTask('t', positional(40), { seed, valFraction: 0.25 }); // val 10
      const T = task.maxSeqLen;
      const rng = new Rng(seed);
      for (const split of ['train', 'val'] as const) {
        const ranges = task.splitRanges(split);
        const { inputs } = task.nextBatch(split, 6, T, rng);
        for (let r = 0; r < 6; r++) {
          const s = inputs[r * T] - 1;
          expect(ranges.some(([a, b]) => s >= a && s + T < b), `seed ${seed} ${split}`).toBe(true);
        }
      }
      expect(thrown(DataError, () => task.nextBatch('val', 1, T + 1, new Rng(1))).code).toBe('too-short');
    }
  });
});
