import { describe, expect, it } from 'vitest';
import { freshSeed, Rng } from '../util/rng';
import { DataError } from './errors';
import { minCharsForSeqLen, TextTask } from './text';
import { Vocab } from './vocab';

/** A text whose i-th character is unique, so a token id names its position: id − 1 = i
 *  (Vocab sorts by code point and U+FFFD is id 0; these start above it, in plane 2). */
function positional(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCodePoint(0x20000 + i);
  return s;
}

function inRanges(p: number, ranges: ReadonlyArray<readonly [number, number]>): number {
  return ranges.findIndex(([a, b]) => p >= a && p < b);
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof DataError) return e.code;
    throw e;
  }
  return undefined;
}

describe('TextTask split', () => {
  for (const n of [1000, 5003, 200_000]) {
    it(`is disjoint, covers the text, and holds out ~10% (n=${n})`, () => {
      const task = new TextTask('t', positional(n), { seed: 7 });
      const tr = task.splitRanges('train');
      const va = task.splitRanges('val');
      const mark = new Uint8Array(n);
      for (const [a, b] of [...tr, ...va]) {
        expect(a).toBeLessThan(b);
        for (let i = a; i < b; i++) mark[i]++;
      }
      expect(mark.every((m) => m === 1)).toBe(true);
      expect(task.splitSize('val')).toBe(Math.floor(n * 0.1));
      expect(task.splitSize('train') + task.splitSize('val')).toBe(n);
      // Big texts: several blocks spread over the text, not one chunk at the end.
      if (n >= 200_000) {
        expect(va.length).toBeGreaterThan(1);
        expect(va[0][0]).toBeLessThan(n / va.length);
      } else expect(va.length).toBe(1);
    });
  }

  it('depends on the seed, and only on the seed', () => {
    const text = positional(5000);
    const a = new TextTask('t', text, { seed: 1 }).splitRanges('val');
    const b = new TextTask('t', text, { seed: 1 }).splitRanges('val');
    const c = new TextTask('t', text, { seed: 2 }).splitRanges('val');
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('never lets a window cross into the other split (position-tagged text, fresh seed)', () => {
    const seed = freshSeed();
    const n = 200_000;
    const task = new TextTask('t', positional(n), { seed });
    const rng = new Rng(seed);
    for (const split of ['train', 'val'] as const) {
      const ranges = task.splitRanges(split);
      for (const T of [1, 17, 64]) {
        const { inputs, targets } = task.nextBatch(split, 32, T, rng);
        for (let r = 0; r < 32; r++) {
          const p0 = inputs[r * T] - 1;
          const k = inRanges(p0, ranges);
          expect(k, `seed ${seed}`).toBeGreaterThanOrEqual(0);
          for (let t = 0; t < T; t++) {
            // Consecutive characters; targets are the next character; all in one range.
            expect(inputs[r * T + t] - 1).toBe(p0 + t);
            expect(targets[r * T + t] - 1).toBe(p0 + t + 1);
          }
          expect(p0 + T).toBeLessThan(ranges[k][1]);
        }
      }
    }
  });

  it('reaches both ends of a range (starts are uniform over all valid starts)', () => {
    const task = new TextTask('t', positional(300), { seed: 3 });
    const [[a, b]] = task.splitRanges('val'); // 30 chars
    const T = b - a - 3; // a window is T+1 characters: 3 valid starts
    const seen = new Set<number>();
    const rng = new Rng(11);
    for (let i = 0; i < 20; i++) seen.add(task.nextBatch('val', 4, T, rng).inputs[0] - 1);
    expect([...seen].sort((x, y) => x - y)).toEqual([a, a + 1, a + 2]);
  });
});

describe('TextTask batches', () => {
  const text = 'It was the best of times, it was the worst of times. '.repeat(200);

  it('are deterministic for a seed and differ across seeds', () => {
    const task = new TextTask('t', text, { seed: 5 });
    const b1 = task.nextBatch('train', 4, 32, new Rng(42));
    const b2 = task.nextBatch('train', 4, 32, new Rng(42));
    const b3 = task.nextBatch('train', 4, 32, new Rng(43));
    expect(b2.inputs).toEqual(b1.inputs);
    expect(b2.targets).toEqual(b1.targets);
    expect(b3.inputs).not.toEqual(b1.inputs);
    expect(b1.inputs.length).toBe(4 * 32);
    expect(b1.targets.every((y) => y >= 0 && y < task.tokenizer.size)).toBe(true);
  });

  it('decode to substrings of the corpus', () => {
    const task = new TextTask('t', text);
    const { inputs, targets } = task.nextBatch('val', 3, 20, new Rng(1));
    for (let r = 0; r < 3; r++) {
      const x = task.tokenizer.decode(inputs.subarray(r * 20, r * 20 + 20));
      const y = task.tokenizer.decode(targets.subarray(r * 20, r * 20 + 20));
      expect(text.includes(x + y.slice(-1))).toBe(true);
      expect(x.slice(1)).toBe(y.slice(0, -1));
    }
  });

  it('reject bad shapes and contexts longer than the data', () => {
    const task = new TextTask('t', text);
    expect(code(() => task.nextBatch('train', 0, 8, new Rng(1)))).toBe('bad-shape');
    expect(code(() => task.nextBatch('train', 2, 2.5, new Rng(1)))).toBe('bad-shape');
    expect(code(() => task.nextBatch('val', 2, task.maxSeqLen + 1, new Rng(1)))).toBe('too-short');
    expect(() => task.nextBatch('val', 2, task.maxSeqLen, new Rng(1))).not.toThrow();
  });

  it('say how many characters a context length needs', () => {
    for (const T of [1, 63, 64, 100, 4096]) {
      const need = minCharsForSeqLen(T);
      expect(() => new TextTask('t', positional(need), { seqLen: T })).not.toThrow();
      for (const seed of [0, 1, 2, 3]) expect(new TextTask('t', positional(need), { seed }).maxSeqLen).toBeGreaterThanOrEqual(T);
      let err: unknown;
      try {
        new TextTask('t', positional(need - 1), { seqLen: T });
      } catch (e) {
        err = e;
      }
      // need − 1 characters hold out fewer than T+1 for validation.
      expect(err).toBeInstanceOf(DataError);
      expect((err as DataError).code).toBe('too-short');
      expect((err as DataError).details.needed).toBe(need);
      expect((err as DataError).message).toContain(String(need));
    }
  });

  it('encode with a given vocabulary and report the unknown fraction', () => {
    const base = Vocab.fromText('abc ');
    const task = new TextTask('t', 'abcx '.repeat(100) + 'y'.repeat(100), { tokenizer: base });
    expect(task.tokenizer).toBe(base);
    expect(task.unknownFraction).toBeCloseTo(200 / 600, 12);
    expect(task.unknownChars).toEqual([
      ['x', 100],
      ['y', 100],
    ]);
    expect(new TextTask('t', 'abc '.repeat(10), { tokenizer: base }).unknownFraction).toBe(0);
  });
});
