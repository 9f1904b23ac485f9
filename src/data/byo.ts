// Bring your own text: a user's file, as bytes, becomes a text task — or a DataError whose
// `code` and message say exactly what is wrong with the file.
//
// Decoding is strict UTF-8 (TextDecoder with fatal: true): no silent U+FFFD substitution,
// since training on mojibake wastes the user's time. A UTF-8 byte-order mark is dropped;
// a UTF-16 one is named in the error. Line endings are normalised to "\n".

import { DataError } from './errors';
import { TextTask, type TextTaskOptions } from './text';

export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** Offset of the first byte where `bytes` stops being well-formed UTF-8 (Unicode Table 3-7:
 *  no overlong forms, no surrogates, nothing above U+10FFFF, no truncated sequences), or −1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let len: number;
    let lo = 0x80;
    let hi = 0xbf; // allowed range of the second byte
    if (b >= 0xc2 && b <= 0xdf) len = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      len = 3;
      if (b === 0xe0) lo = 0xa0; // overlong
      if (b === 0xed) hi = 0x9f; // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      len = 4;
      if (b === 0xf0) lo = 0x90; // overlong
      if (b === 0xf4) hi = 0x8f; // > U+10FFFF
    } else return i;
    if (i + len > n) return i;
    if (bytes[i + 1] < lo || bytes[i + 1] > hi) return i;
    for (let k = 2; k < len; k++) if (bytes[i + k] < 0x80 || bytes[i + k] > 0xbf) return i;
    i += len;
  }
  return -1;
}

function lineOf(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

function hex(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}

/** Strict UTF-8 → string, BOM dropped, CRLF/CR → LF. Throws DataError 'empty', 'not-utf8'
 *  (details.byteOffset, details.line), 'binary' (NUL byte) or 'too-large'. */
export function decodeTextBytes(bytes: Uint8Array, name = 'file', maxBytes = DEFAULT_MAX_BYTES): string {
  if (bytes.length === 0) throw new DataError('empty', `${name} is empty (0 bytes)`);
  if (bytes.length > maxBytes) {
    throw new DataError('too-large', `${name} is ${bytes.length} bytes; the limit is ${maxBytes} bytes`, { have: bytes.length, max: maxBytes });
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    const which = bytes[0] === 0xff ? 'UTF-16LE' : 'UTF-16BE';
    throw new DataError('not-utf8', `${name} is not UTF-8: it starts with a ${which} byte-order mark (${hex(bytes[0])} ${hex(bytes[1])}); save it as UTF-8`, {
      byteOffset: 0,
      line: 1,
      encoding: which,
    });
  }
  let text: string;
  try {
    // ignoreBOM false (default): a leading EF BB BF is consumed, not returned.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = Math.max(0, firstInvalidUtf8(bytes));
    const line = lineOf(bytes, at);
    const shown = Array.from(bytes.subarray(at, at + 4), hex).join(' ');
    throw new DataError('not-utf8', `${name} is not valid UTF-8: invalid byte sequence at byte offset ${at} (line ${line}): ${shown}; save it as UTF-8`, {
      byteOffset: at,
      line,
    });
  }
  const nul = text.indexOf('\u0000');
  if (nul >= 0) throw new DataError('binary', `${name} contains a NUL character (character ${nul}); it looks like a binary file, not text`, { charOffset: nul });
  text = text.replace(/\r\n?/g, '\n');
  if (text.trim().length === 0) throw new DataError('empty', `${name} contains no text (only ${text.length ? 'whitespace' : 'a byte-order mark'})`);
  return text;
}

export interface BytesTaskOptions extends TextTaskOptions {
  maxBytes?: number;
}

/** A user's file as a text task. With opts.seqLen, too-short files fail now, with the number
 *  of tokens needed; with opts.tokenizer (the base model's), the task encodes with it (a
 *  character vocabulary also reports unknownFraction). */
export function textTaskFromBytes(bytes: Uint8Array, name: string, opts: BytesTaskOptions = {}): TextTask {
  const text = decodeTextBytes(bytes, name, opts.maxBytes ?? DEFAULT_MAX_BYTES);
  return new TextTask(name, text, opts);
}
