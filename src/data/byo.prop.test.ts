// Property tests of user text (bring your own file): any bytes, valid UTF-8 or not, empty or
// not, give a text task or a DataError whose code says why; never a TypeError or RangeError.
// Decoding agrees with the platform's strict UTF-8 decoder.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTextBytes, firstInvalidUtf8, textTaskFromBytes } from './byo';
import { DataError } from './errors';
import { textTask } from './text';
import { Vocab } from './vocab';

function onlyDataError(fn: () => unknown): DataError | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof DataError) return e;
    throw e;
  }
}

const enc = new TextEncoder();
const strict = new TextDecoder('utf-8', { fatal: true });
const isUtf8 = (b: Uint8Array) => {
  try {
    strict.decode(b);
    return true;
  } catch {
    return false;
  }
};

/** Mostly-text bytes: UTF-8 of random strings with a few bytes flipped or cut. */
const nearText = fc
  .tuple(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }), fc.nat())
  .map(([s, flips, cut]) => {
    const b = enc.encode(s);
    for (const [at, x] of flips) if (b.length) b[at % b.length] ^= x;
    return b.subarray(0, b.length ? cut % (b.length + 1) : 0);
  });
const bytes = fc.oneof(fc.uint8Array({ maxLength: 64 }), nearText);

describe('user text from bytes', () => {
  it('decodes, or gives DataError empty / not-utf8 / binary, exactly as strict UTF-8 says', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        const err = onlyDataError(() => decodeTextBytes(b, 'f.txt'));
        if (b.length === 0) expect(err?.code).toBe('empty');
        else if (!isUtf8(b) || (b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff)) expect(err?.code).toBe('not-utf8');
        else if (err) expect(['empty', 'binary']).toContain(err.code);
      }),
      { numRuns: 500 },
    );
  });

  it('firstInvalidUtf8 is −1 exactly on strict UTF-8, and the prefix before it is valid', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        const at = firstInvalidUtf8(b);
        expect(at === -1).toBe(isUtf8(b));
        if (at >= 0) {
          expect(at).toBeLessThan(b.length);
          expect(isUtf8(b.subarray(0, at))).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a not-utf8 error points at the first bad byte and its line', () => {
    fc.assert(
      fc.property(bytes.filter((b) => b.length > 0 && !isUtf8(b) && !(b[0] === 0xff && b[1] === 0xfe) && !(b[0] === 0xfe && b[1] === 0xff)), (b) => {
        const err = onlyDataError(() => decodeTextBytes(b, 'f.txt'))!;
        const at = firstInvalidUtf8(b);
        expect(err.details.byteOffset).toBe(at);
        expect(err.details.line).toBe(1 + b.subarray(0, at).filter((x) => x === 0x0a).length);
      }),
      { numRuns: 300 },
    );
  });

  it('valid text comes back with line endings normalised', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => s.trim().length > 0 && !s.includes('\u0000') && !s.startsWith('\ufeff')), (s) => {
        expect(decodeTextBytes(enc.encode(s))).toBe(s.replace(/\r\n?/g, '\n'));
      }),
      { numRuns: 300 },
    );
  });

  it('textTaskFromBytes (with or without a context length, with a foreign vocabulary) gives a task or DataError', () => {
    const vocab = Vocab.fromText('abc\n ');
    fc.assert(
      fc.property(bytes, fc.option(fc.integer({ min: -3, max: 80 })), fc.boolean(), fc.option(fc.double({ min: -1, max: 2, noNaN: true })), (b, seqLen, foreign, valFraction) => {
        onlyDataError(() => textTaskFromBytes(b, 'f.txt', { seqLen: seqLen ?? undefined, tokenizer: foreign ? vocab : undefined, valFraction: valFraction ?? undefined }));
      }),
      { numRuns: 300 },
    );
  });

  it('textTask on any string gives a task or DataError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), fc.option(fc.integer({ min: 0, max: 40 })), (s, seqLen) => {
        onlyDataError(() => textTask('t', s, { seqLen: seqLen ?? undefined }));
      }),
      { numRuns: 300 },
    );
  });
});
