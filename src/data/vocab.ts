// Character-level tokenizer. A token is one Unicode code point (not one UTF-16 unit, so
// astral characters such as emoji are single tokens and never split into lone surrogates).
//
// Vocabulary layout, stored as JSON {chars: string[]}: id i is chars[i].
//   chars[0] = U+FFFD REPLACEMENT CHARACTER, reserved as the unknown token UNK_ID = 0;
//   chars[1..] = the corpus's other distinct code points, sorted by code point.
// Unknown policy: any character not in the vocabulary encodes to UNK_ID, which decodes to
// U+FFFD, exactly what Unicode uses for "a character that could not be represented". A
// corpus that itself contains U+FFFD round-trips too (it simply is the unknown token).
// Id 0 is also the padding id of synthetic tasks (padded positions never count in the loss).

import { DataError } from './errors';
import type { Tokenizer } from './tokenizer';

export const UNK_ID = 0;
export const UNK_CHAR = '\uFFFD';

export interface VocabJSON {
  chars: string[];
}

/** Code-point order; the default string sort compares UTF-16 units, which puts astral
 *  characters (D800-DBFF surrogates) before U+E000-U+FFFF. */
function byCodePoint(a: string, b: string): number {
  return a.codePointAt(0)! - b.codePointAt(0)!;
}

function isOneCodePoint(s: unknown): s is string {
  if (typeof s !== 'string' || s.length === 0 || s.length > 2) return false;
  const cp = s.codePointAt(0)!;
  if (cp >= 0xd800 && cp <= 0xdfff) return false; // lone surrogate
  return String.fromCodePoint(cp) === s;
}

export interface EncodeStats {
  ids: Int32Array;
  /** How many characters mapped to UNK_ID because they are not in the vocabulary
   *  (a U+FFFD in the text itself is in the vocabulary and does not count). */
  unknown: number;
  /** Each unknown character and how often it occurred. */
  unknownChars: Map<string, number>;
}

export class Vocab implements Tokenizer {
  readonly kind = 'char' as const;
  /** Character vocabularies have no end-of-text token. */
  readonly eosId = null;
  readonly chars: readonly string[];
  private readonly index: Map<string, number>;

  private constructor(chars: string[]) {
    this.chars = Object.freeze(chars);
    this.index = new Map(chars.map((c, i) => [c, i]));
  }

  get size(): number {
    return this.chars.length;
  }

  /** The vocabulary of a text: U+FFFD first, then its distinct code points by code point. */
  static fromText(text: string): Vocab {
    const set = new Set<string>();
    for (const ch of text) set.add(ch);
    set.delete(UNK_CHAR);
    return new Vocab([UNK_CHAR, ...[...set].sort(byCodePoint)]);
  }

  /** Same as fromText over the concatenation of several texts. */
  static fromTexts(texts: Iterable<string>): Vocab {
    const set = new Set<string>();
    for (const t of texts) for (const ch of t) set.add(ch);
    set.delete(UNK_CHAR);
    return new Vocab([UNK_CHAR, ...[...set].sort(byCodePoint)]);
  }

  /** Validates untrusted JSON (a checkpoint's vocabulary): chars[0] must be U+FFFD, every
   *  entry exactly one code point, no duplicates. Order beyond index 0 is kept as given
   *  (ids must not move under a trained model), not re-sorted. */
  static fromJSON(json: unknown): Vocab {
    const chars = (json as { chars?: unknown } | null)?.chars;
    if (!Array.isArray(chars) || chars.length === 0) throw new DataError('bad-vocab', 'vocabulary must be {chars: string[]} with at least one entry');
    if (chars[0] !== UNK_CHAR) throw new DataError('bad-vocab', 'vocabulary chars[0] must be U+FFFD (the reserved unknown token)');
    const seen = new Set<string>();
    chars.forEach((c, i) => {
      if (!isOneCodePoint(c)) throw new DataError('bad-vocab', `vocabulary entry ${i} is not exactly one code point: ${JSON.stringify(c)}`, { index: i });
      if (seen.has(c)) throw new DataError('bad-vocab', `vocabulary entry ${i} duplicates ${JSON.stringify(c)}`, { index: i });
      seen.add(c);
    });
    return new Vocab([...(chars as string[])]);
  }

  describe(): string {
    return `character-level, ${this.chars.length} tokens`;
  }

  toJSON(): VocabJSON {
    return { chars: [...this.chars] };
  }

  has(ch: string): boolean {
    return this.index.has(ch);
  }

  /** Id of one character; UNK_ID when absent. */
  idOf(ch: string): number {
    return this.index.get(ch) ?? UNK_ID;
  }

  encode(text: string): Int32Array {
    return this.encodeWithStats(text).ids;
  }

  encodeWithStats(text: string): EncodeStats {
    // Worst case one id per UTF-16 unit; trimmed after.
    const out = new Int32Array(text.length);
    const unknownChars = new Map<string, number>();
    let n = 0;
    let unknown = 0;
    for (const ch of text) {
      const id = this.index.get(ch);
      if (id === undefined) {
        unknown++;
        unknownChars.set(ch, (unknownChars.get(ch) ?? 0) + 1);
        out[n++] = UNK_ID;
      } else out[n++] = id;
    }
    return { ids: n === out.length ? out : out.slice(0, n), unknown, unknownChars };
  }

  /** Ids back to text. An id outside [0, size) is a bug upstream and throws. */
  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.chars.length) {
        throw new DataError('bad-id', `token id ${id} at position ${i} is outside the vocabulary [0, ${this.chars.length})`, { id, position: i });
      }
      s += this.chars[id];
    }
    return s;
  }
}

/** Number of code points in a string (String.length counts UTF-16 units). */
export function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
