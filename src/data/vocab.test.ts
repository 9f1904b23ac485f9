import { describe, expect, it } from 'vitest';
import { freshSeed, Rng } from '../util/rng';
import { DataError } from './errors';
import { codePointLength, UNK_CHAR, UNK_ID, Vocab } from './vocab';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof DataError) return e.code;
    throw e;
  }
  return undefined;
}

describe('Vocab', () => {
  it('is U+FFFD then the distinct code points in code-point order', () => {
    const v = Vocab.fromText('banana\u{E000}😀 ');
    // '😀' (U+1F600) sorts after U+E000 by code point, though its UTF-16 units (D83D…) sort before.
    expect(v.chars).toEqual([UNK_CHAR, ' ', 'a', 'b', 'n', '\u{E000}', '😀']);
    expect(v.size).toBe(7);
  });

  it('round-trips text with astral code points, one token each', () => {
    const text = 'Call me 𝔄hab 😀, 鯨 — "q"\n\ttab 𐍈';
    const v = Vocab.fromText(text);
    const ids = v.encode(text);
    expect(ids.length).toBe(codePointLength(text));
    expect(ids.length).toBeLessThan(text.length); // astral chars are 2 UTF-16 units but 1 token
    expect(v.decode(ids)).toBe(text);
    for (const id of ids) expect(id).not.toBe(UNK_ID);
  });

  it('round-trips random strings over a mixed alphabet (fresh seed)', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const pool = [...'ab Z\n—é鯨😀𝔄\u{10FFFF}\u{E000}'];
    for (let k = 0; k < 20; k++) {
      let s = '';
      const n = rng.int(1, 200);
      for (let i = 0; i < n; i++) s += pool[rng.int(0, pool.length - 1)];
      const v = Vocab.fromText(s);
      expect(v.decode(v.encode(s)), `seed ${seed}`).toBe(s);
    }
  });

  it('maps characters outside the vocabulary to UNK_ID and counts them', () => {
    const v = Vocab.fromText('abc');
    const { ids, unknown, unknownChars } = v.encodeWithStats('abxc😀x');
    expect(Array.from(ids)).toEqual([1, 2, UNK_ID, 3, UNK_ID, UNK_ID]);
    expect(unknown).toBe(3);
    expect([...unknownChars]).toEqual([
      ['x', 2],
      ['😀', 1],
    ]);
    expect(v.decode(ids)).toBe(`ab${UNK_CHAR}c${UNK_CHAR}${UNK_CHAR}`);
  });

  it('treats U+FFFD in a corpus as the unknown token, which round-trips', () => {
    const text = `a${UNK_CHAR}b`;
    const v = Vocab.fromText(text);
    expect(v.chars).toEqual([UNK_CHAR, 'a', 'b']);
    const { ids, unknown } = v.encodeWithStats(text);
    expect(unknown).toBe(0);
    expect(v.decode(ids)).toBe(text);
  });

  it('survives JSON and validates untrusted JSON', () => {
    const v = Vocab.fromText('hello 😀');
    const back = Vocab.fromJSON(JSON.parse(JSON.stringify(v)));
    expect(back.chars).toEqual(v.chars);
    expect(Array.from(back.encode('olé😀'))).toEqual(Array.from(v.encode('olé😀')));
    expect(code(() => Vocab.fromJSON(null))).toBe('bad-vocab');
    expect(code(() => Vocab.fromJSON({ chars: [] }))).toBe('bad-vocab');
    expect(code(() => Vocab.fromJSON({ chars: ['a', 'b'] }))).toBe('bad-vocab');
    expect(code(() => Vocab.fromJSON({ chars: [UNK_CHAR, 'ab'] }))).toBe('bad-vocab');
    expect(code(() => Vocab.fromJSON({ chars: [UNK_CHAR, 'a', 'a'] }))).toBe('bad-vocab');
    expect(code(() => Vocab.fromJSON({ chars: [UNK_CHAR, '\uD800'] }))).toBe('bad-vocab');
    // Order after index 0 is the checkpoint's, kept as is.
    expect(Vocab.fromJSON({ chars: [UNK_CHAR, 'z', 'a'] }).idOf('z')).toBe(1);
  });

  it('rejects ids outside the vocabulary when decoding', () => {
    const v = Vocab.fromText('ab');
    expect(code(() => v.decode([1, 3]))).toBe('bad-id');
    expect(code(() => v.decode([-1]))).toBe('bad-id');
    expect(code(() => v.decode([0.5]))).toBe('bad-id');
  });

  it('has only the unknown token for empty text', () => {
    const v = Vocab.fromText('');
    expect(v.chars).toEqual([UNK_CHAR]);
    expect(v.decode(v.encode(''))).toBe('');
  });
});
