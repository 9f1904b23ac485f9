// Edge cases of the character vocabulary: what counts as one code point, several texts,
// unknown-character counts, decode's id checks and their messages.
import { describe, expect, it } from 'vitest';
import { DataError } from './errors';
import { codePointLength, UNK_CHAR, UNK_ID, Vocab } from './vocab';
import { thrown } from '../util/thrown';

const refusal = (fn: () => unknown) => thrown(DataError, fn);

describe('Vocab edges', () => {
  it('fromJSON accepts exactly one code point per entry (BMP, astral, the last BMP before surrogates, after them)', () => {
    const v = Vocab.fromJSON({ chars: [UNK_CHAR, 'a', '😀', '\uD7FF', '\uE000'] });
    expect(v.size).toBe(5);
    for (const [bad, i] of [['', 1], ['ab', 1], ['abc', 1], ['\uDFFF', 1], ['\uD800\uD800', 1], [7, 1], ['a\u0301', 1]] as const) {
      const e = refusal(() => Vocab.fromJSON({ chars: [UNK_CHAR, bad] }));
      expect(e.code).toBe('bad-vocab');
      expect(e.message).toBe(`vocabulary entry ${i} is not exactly one code point: ${JSON.stringify(bad)}`);
      expect(e.details).toEqual({ index: i });
    }
    const dup = refusal(() => Vocab.fromJSON({ chars: [UNK_CHAR, 'x', 'y', 'x'] }));
    expect(dup.message).toBe('vocabulary entry 3 duplicates "x"');
    expect(dup.details).toEqual({ index: 3 });
    expect(refusal(() => Vocab.fromJSON({ chars: 'ab' })).message).toBe('vocabulary must be {chars: string[]} with at least one entry');
    expect(refusal(() => Vocab.fromJSON({ chars: ['a'] })).message).toBe('vocabulary chars[0] must be U+FFFD (the reserved unknown token)');
    // A second U+FFFD is a duplicate of the reserved token.
    expect(refusal(() => Vocab.fromJSON({ chars: [UNK_CHAR, UNK_CHAR] })).message).toMatch(/entry 1 duplicates/);
  });

  it('fromTexts is fromText of the concatenation, sorted by code point (astral after U+E000…U+FFFF)', () => {
    const v = Vocab.fromTexts(['b😀', `a${UNK_CHAR}\uFF01`]);
    expect(v.chars).toEqual([UNK_CHAR, 'a', 'b', '\uFF01', '😀']);
    expect(v.chars).toEqual(Vocab.fromText(`b😀a${UNK_CHAR}\uFF01`).chars);
    expect(Vocab.fromText('\uFF01😀').chars).toEqual([UNK_CHAR, '\uFF01', '😀']);
  });

  it('counts each unknown character, and astral text encodes to one id per code point', () => {
    const v = Vocab.fromText('ab');
    const s = v.encodeWithStats('a😀c😀b');
    expect(Array.from(s.ids)).toEqual([1, UNK_ID, UNK_ID, UNK_ID, 2]);
    expect(s.unknown).toBe(3);
    expect([...s.unknownChars]).toEqual([['😀', 2], ['c', 1]]);
    const plain = v.encodeWithStats('ba');
    expect(Array.from(plain.ids)).toEqual([2, 1]);
    expect(plain.ids.length).toBe(2);
    expect(plain.unknown).toBe(0);
    expect(v.has('a') && !v.has('c')).toBe(true);
    expect(v.idOf('b')).toBe(2);
    expect(v.idOf('z')).toBe(UNK_ID);
    expect(v.describe()).toBe('character-level, 3 tokens');
    expect(v.kind).toBe('char');
    expect(v.eosId).toBeNull();
    expect(v.toJSON()).toEqual({ chars: [UNK_CHAR, 'a', 'b'] });
    expect(Object.isFrozen(v.chars)).toBe(true);
  });

  it('decode refuses the first id outside [0, size), naming it and its position', () => {
    const v = Vocab.fromText('ab');
    expect(v.decode([0, 1, 2])).toBe(`${UNK_CHAR}ab`);
    const e = refusal(() => v.decode([1, 2, 3]));
    expect(e.message).toBe('token id 3 at position 2 is outside the vocabulary [0, 3)');
    expect(e.details).toEqual({ id: 3, position: 2 });
    expect(refusal(() => v.decode([NaN])).code).toBe('bad-id');
  });

  it('codePointLength counts code points', () => {
    expect(codePointLength('')).toBe(0);
    expect(codePointLength('a😀b')).toBe(3);
  });
});
