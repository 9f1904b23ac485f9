import { describe, expect, it } from 'vitest';
import { freshSeed, Rng } from '../util/rng';
import { decodeTextBytes, firstInvalidUtf8, textTaskFromBytes } from './byo';
import { DataError } from './errors';
import { minCharsForSeqLen } from './text';
import { Vocab } from './vocab';
import { thrown } from '../util/thrown';

const enc = (s: string) => new TextEncoder().encode(s);
const cat = (...parts: (Uint8Array | number[])[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));

const fail = (fn: () => unknown) => thrown(DataError, fn);

describe('textTaskFromBytes: errors', () => {
  it('empty file, BOM only, whitespace only', () => {
    expect(fail(() => textTaskFromBytes(new Uint8Array(0), 'a.txt')).code).toBe('empty');
    expect(fail(() => textTaskFromBytes(Uint8Array.from([0xef, 0xbb, 0xbf]), 'a.txt')).code).toBe('empty');
    expect(fail(() => textTaskFromBytes(enc(' \n\t\r\n'), 'a.txt')).code).toBe('empty');
  });

  it('[FF FE 41]: not UTF-8 (a UTF-16 byte-order mark), at byte 0', () => {
    const e = fail(() => textTaskFromBytes(Uint8Array.from([0xff, 0xfe, 0x41]), 'a.txt'));
    expect(e.code).toBe('not-utf8');
    expect(e.details.byteOffset).toBe(0);
    expect(e.message).toMatch(/UTF-16LE/);
  });

  it('names the byte offset and line of the first invalid sequence', () => {
    const cases: [number[] | Uint8Array, number, number][] = [
      [[0xff, 0x41], 0, 1], // FF is never valid
      [cat(enc('ab\ncd'), [0xc3, 0x28]), 5, 2], // C3 needs a continuation byte
      [cat(enc('héllo\n\nx'), [0xc0, 0x80]), 9, 3], // overlong NUL
      [cat(enc('ok'), [0xed, 0xa0, 0x80]), 2, 1], // UTF-16 surrogate D800 encoded
      [cat(enc('ok'), [0xf4, 0x90, 0x80, 0x80]), 2, 1], // above U+10FFFF
      [cat(enc('end 😀'), [0xe2, 0x82]), 8, 1], // truncated at the end of the file
    ];
    for (const [bytes, offset, line] of cases) {
      const e = fail(() => textTaskFromBytes(Uint8Array.from(bytes), 'f.txt'));
      expect(e.code).toBe('not-utf8');
      expect(e.details.byteOffset).toBe(offset);
      expect(e.details.line).toBe(line);
      expect(e.message).toContain(`byte offset ${offset}`);
    }
  });

  it('too short for the context length: says how many characters are needed', () => {
    const text = 'short text, but not empty. '.repeat(10); // 270 characters
    const need = minCharsForSeqLen(64);
    const e = fail(() => textTaskFromBytes(enc(text), 'short.txt', { seqLen: 64 }));
    expect(e.code).toBe('too-short');
    expect(e.details.needed).toBe(need);
    expect(e.details.have).toBe(270);
    expect(e.message).toContain(`at least ${need}`);
    expect(() => textTaskFromBytes(enc(text), 'short.txt', { seqLen: 16 })).not.toThrow();
  });

  it('binary (NUL) and too-large files', () => {
    expect(fail(() => textTaskFromBytes(cat(enc('abc'), [0], enc('def')), 'b.bin')).code).toBe('binary');
    expect(fail(() => textTaskFromBytes(enc('x'.repeat(100)), 'big.txt', { maxBytes: 99 })).code).toBe('too-large');
  });
});

describe('textTaskFromBytes: decoding', () => {
  it('drops a UTF-8 BOM, normalises line ends, keeps astral characters', () => {
    const text = decodeTextBytes(cat([0xef, 0xbb, 0xbf], enc('line 1\r\nline 2\rline 3 😀\n')));
    expect(text).toBe('line 1\nline 2\nline 3 😀\n');
    const task = textTaskFromBytes(cat([0xef, 0xbb, 0xbf], enc('The whale 🐋 swam. '.repeat(50))), 'w.txt', { seqLen: 32 });
    expect((task.tokenizer as Vocab).has('\uFEFF')).toBe(false);
    expect((task.tokenizer as Vocab).has('🐋')).toBe(true);
    expect(task.tokenizer.decode(task.tokens)).toBe('The whale 🐋 swam. '.repeat(50));
  });

  it('encodes with a base vocabulary and reports the unknown fraction', () => {
    const base = Vocab.fromText('abcdefghijklmnopqrstuvwxyz .');
    const task = textTaskFromBytes(enc('the whale, the sea. '.repeat(20)), 'w.txt', { tokenizer: base });
    expect(task.unknownFraction).toBeCloseTo(20 / 400, 12);
    expect(task.unknownChars).toEqual([[',', 20]]);
  });

  it('finds invalid UTF-8 exactly where the strict decoder does (random bytes, fresh seed)', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const pieces = [[0x41], [0xc3, 0xa9], [0xe2, 0x80, 0x94], [0xf0, 0x9f, 0x90, 0x8b], [0x80], [0xc0], [0xed, 0xa0], [0xf4, 0x90], [0xe0, 0x80], [0xf5], [0x0a]];
    for (let k = 0; k < 2000; k++) {
      const parts: number[] = [];
      const n = rng.int(1, 8);
      // Mostly valid pieces, sometimes a bad one, sometimes random bytes.
      for (let i = 0; i < n; i++) {
        if (rng.next() < 0.15) parts.push(rng.int(0, 255));
        else parts.push(...pieces[rng.int(0, rng.next() < 0.7 ? 3 : pieces.length - 1)]);
      }
      const bytes = Uint8Array.from(parts);
      let ok = true;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        ok = false;
      }
      const at = firstInvalidUtf8(bytes);
      expect(at === -1, `seed ${seed}: ${Array.from(bytes)}`).toBe(ok);
      if (!ok) {
        // Everything before the reported offset decodes; the byte there starts no valid sequence.
        expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, at))).not.toThrow();
        let validFromAt = false;
        for (let len = 1; len <= 4 && at + len <= bytes.length; len++) {
          try {
            new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(at, at + len));
            validFromAt = true;
          } catch {
            /* keep trying longer sequences */
          }
        }
        expect(validFromAt, `seed ${seed}: ${Array.from(bytes)} at ${at}`).toBe(false);
      }
    }
  });
});
