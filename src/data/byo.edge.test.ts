// Exact edges of user-text decoding, written to kill the mutants StrykerJS found surviving
// the other tests (docs/TESTING.md): UTF-8's lead-byte ranges, both UTF-16 byte-order marks,
// the size limit, NUL at offset 0, and what the error messages show.
import { describe, expect, it } from 'vitest';
import { decodeTextBytes, firstInvalidUtf8 } from './byo';
import { DataError } from './errors';
import { thrown } from '../util/thrown';

const B = (...b: number[]) => Uint8Array.from(b);
const err = (bytes: Uint8Array, name?: string, max?: number) => thrown(DataError, () => decodeTextBytes(bytes, name, max));

describe('UTF-8 lead and continuation bytes at their limits', () => {
  it.each([
    [[0xc2, 0x80], -1], // smallest 2-byte lead
    [[0xc1, 0x80], 0], // overlong 2-byte lead
    [[0xdf, 0xbf], -1], // largest 2-byte lead
    [[0xe0, 0xa0, 0xbf], -1], // smallest non-overlong 3-byte, last continuation 0xBF
    [[0xe1, 0x80, 0xc0], 0], // continuation above 0xBF
    [[0xf1, 0x80, 0x80, 0x80], -1], // 4-byte lead other than F0 takes 0x80 as second byte
    [[0xf0, 0x8f, 0x80, 0x80], 0], // overlong 4-byte
    [[0xf4, 0x8f, 0xbf, 0xbf], -1], // U+10FFFF, the largest code point
    [[0xf4, 0x90, 0x80, 0x80], 0], // above U+10FFFF
    [[0xf5, 0x80, 0x80, 0x80], 0],
  ])('%j → first invalid byte %i', (bytes, want) => {
    expect(firstInvalidUtf8(Uint8Array.from(bytes))).toBe(want);
  });
});

describe('decodeTextBytes errors', () => {
  it('empty: code, default name and message', () => {
    const e = err(B());
    expect(e.code).toBe('empty');
    expect(e.message).toBe('file is empty (0 bytes)');
  });

  it('too large: only beyond the limit, with the sizes', () => {
    expect(decodeTextBytes(B(0x61, 0x62), 'f', 2)).toBe('ab');
    const e = err(B(0x61, 0x62, 0x63), 'f', 2);
    expect(e.code).toBe('too-large');
    expect(e.details).toEqual({ have: 3, max: 2 });
    expect(e.message).toBe('f is 3 bytes; the limit is 2 bytes');
  });

  it('both UTF-16 byte-order marks are named', () => {
    expect(err(B(0xff, 0xfe, 0x61, 0x00)).details.encoding).toBe('UTF-16LE');
    const be = err(B(0xfe, 0xff, 0x00, 0x61));
    expect(be.details.encoding).toBe('UTF-16BE');
    expect(be.message).toContain('UTF-16BE byte-order mark (FE FF)');
    // FE or FF alone, or with another second byte, is just invalid UTF-8.
    expect(err(B(0xfe, 0x61)).details.encoding).toBeUndefined();
    expect(err(B(0x61, 0xff)).details.encoding).toBeUndefined();
    expect(err(B(0x61, 0xfe)).details.encoding).toBeUndefined();
  });

  it('not-utf8 shows up to four bytes from the bad one, in upper-case hex, and its line', () => {
    const e = err(B(0x61, 0x0a, 0x62, 0xc3, 0x28, 0x0a, 0x0a, 0x63));
    expect(e.message).toBe('file is not valid UTF-8: invalid byte sequence at byte offset 3 (line 2): C3 28 0A 0A; save it as UTF-8');
    expect(err(B(0x0a, 0x0a, 0x05, 0x80)).message).toContain('at byte offset 3 (line 3): 80;');
  });

  it('a NUL at the very start is binary', () => {
    const e = err(B(0x00, 0x61));
    expect(e.code).toBe('binary');
    expect(e.details.charOffset).toBe(0);
  });

  it('empty and binary messages say which', () => {
    expect(err(B(0x20, 0x0a), 'f').message).toBe('f contains no text (only whitespace)');
    expect(err(B(0xef, 0xbb, 0xbf), 'f').message).toBe('f contains no text (only a byte-order mark)');
    expect(err(B(0x61, 0x00), 'f').message).toBe('f contains a NUL character (character 1); it looks like a binary file, not text');
  });
});
