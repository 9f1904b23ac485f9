// Text tasks: a corpus string → token ids → a train/validation split → random windows.
//
// Tokens: the base model's tokenizer (a character Vocab: one token per code point; or GPT-2
// byte-level BPE) encodes the whole text once; everything below is over those tokens.
//
// Split: the validation part is `valFraction` (default 10%) of the tokens, as a few
// contiguous blocks (one per equal stratum of the text, so validation samples the whole
// book, not only its end), at offsets drawn from `seed`; training is the rest. A window of
// T+1 tokens never crosses a split boundary, so no validation token is ever an input or a
// target of a training batch. Small texts get a single validation block, which keeps both
// parts as long as possible. (With BPE a boundary may fall inside a character's bytes; the
// token itself still belongs to exactly one split.)
//
// Batches: B windows of T+1 consecutive tokens, starts uniform over every valid start in the
// split; inputs = window[0..T), targets = window[1..T] (next token), all positions count.

import { Rng } from '../util/rng';
import { DataError } from './errors';
import { checkShape, type Batch, type Split, type TextTaskApi } from './task';
import type { Tokenizer } from './tokenizer';
import { Vocab } from './vocab';

export interface TextTaskOptions {
  /** Encode with this (the base model's) tokenizer. A character Vocab maps characters
   *  outside it to UNK_ID and reports them in unknownFraction / unknownChars; BPE covers
   *  every string. Default: a character vocabulary built from the text. */
  tokenizer?: Tokenizer;
  /** Fixes where the validation blocks are (default 0). */
  seed?: number;
  /** Share of tokens held out for validation, in (0, 0.5] (default 0.1). */
  valFraction?: number;
  /** When given, checked now: throws DataError 'too-short' (with `needed`, in tokens) if the
   *  text cannot supply windows of seqLen+1 tokens in both splits. */
  seqLen?: number;
}

const DEFAULT_VAL_FRACTION = 0.1;
/** Validation blocks are at least this long when there is more than one... */
const MIN_VAL_BLOCK = 8192;
/** ...and there are at most this many. */
const MAX_VAL_BLOCKS = 10;

type Range = readonly [number, number];

function valLength(n: number, valFraction: number): number {
  return Math.floor(n * valFraction + 1e-9);
}

/** Fewest tokens (characters, for a character vocabulary) a text needs so that context
 *  length T works with this split: validation (one block) and the longer training piece
 *  must each hold T+1 tokens. */
export function minCharsForSeqLen(T: number, valFraction = DEFAULT_VAL_FRACTION): number {
  let n = Math.max(1, Math.ceil((T + 1) / valFraction - 1e-6));
  // Worst case the validation block sits in the middle: the training pieces are halves.
  while (valLength(n, valFraction) < T + 1 || Math.ceil((n - valLength(n, valFraction)) / 2) < T + 1) n++;
  return n;
}

function splitRangesFor(n: number, valFraction: number, seed: number): { train: Range[]; val: Range[] } {
  const v = valLength(n, valFraction);
  if (v === 0) return { train: n > 0 ? [[0, n]] : [], val: [] };
  const nb = Math.max(1, Math.min(MAX_VAL_BLOCKS, Math.floor(v / MIN_VAL_BLOCK)));
  const rng = new Rng((seed ^ 0x5eed5a17) >>> 0);
  const val: Range[] = [];
  for (let k = 0; k < nb; k++) {
    const s0 = Math.floor((k * n) / nb);
    const s1 = Math.floor(((k + 1) * n) / nb);
    const len = Math.min(s1 - s0, Math.floor(v / nb) + (k < v % nb ? 1 : 0));
    const off = rng.int(0, s1 - s0 - len);
    val.push([s0 + off, s0 + off + len]);
  }
  const train: Range[] = [];
  let at = 0;
  for (const [a, b] of val) {
    if (a > at) train.push([at, a]);
    at = b;
  }
  if (n > at) train.push([at, n]);
  return { train, val };
}

function longest(ranges: readonly Range[]): number {
  let m = 0;
  for (const [a, b] of ranges) m = Math.max(m, b - a);
  return m;
}

/** UTF-8 length of one code point (a lone surrogate counts as the U+FFFD UTF-8 writes). */
function utf8Len(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** Bytes of each range, from one pass over per-position byte counts (`bytesAt(i)`, called
 *  for i = 0..n-1 in order). */
function rangeBytes(n: number, bytesAt: (i: number) => number, ranges: { train: Range[]; val: Range[] }): { train: number; val: number } {
  const cuts = [...new Set([...ranges.train, ...ranges.val].flat())].sort((x, y) => x - y);
  const cum = new Map<number, number>();
  let acc = 0;
  let k = 0;
  for (let i = 0; i <= n; i++) {
    while (k < cuts.length && cuts[k] === i) cum.set(cuts[k++], acc);
    if (i < n) acc += bytesAt(i);
  }
  const sum = (rs: Range[]) => rs.reduce((s, [a, b]) => s + cum.get(b)! - cum.get(a)!, 0);
  return { train: sum(ranges.train), val: sum(ranges.val) };
}

export class TextTask implements TextTaskApi {
  readonly kind = 'text' as const;
  readonly tokenizer: Tokenizer;
  readonly tokens: Int32Array;
  readonly unknownFraction: number;
  readonly unknownChars: ReadonlyArray<readonly [string, number]>;
  readonly minSeqLen = 1;
  readonly maxSeqLen: number;
  readonly valFraction: number;
  private readonly ranges: { train: Range[]; val: Range[] };
  private readonly bytes: { train: number; val: number };

  constructor(
    readonly name: string,
    text: string,
    opts: TextTaskOptions = {},
  ) {
    const valFraction = opts.valFraction ?? DEFAULT_VAL_FRACTION;
    if (!(valFraction > 0 && valFraction <= 0.5)) throw new DataError('bad-shape', `valFraction must be in (0, 0.5], got ${valFraction}`);
    if (text.length === 0) throw new DataError('empty', `${name}: the text is empty`);
    this.valFraction = valFraction;
    const tok = opts.tokenizer ?? Vocab.fromText(text);
    this.tokenizer = tok;
    let cps: Int32Array | null = null;
    if (tok instanceof Vocab) {
      const enc = tok.encodeWithStats(text);
      this.tokens = enc.ids;
      this.unknownFraction = enc.unknown / enc.ids.length;
      this.unknownChars = [...enc.unknownChars].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      // One token per code point: its bytes are the text's own (an unknown character's real
      // bytes, not U+FFFD's), so bits per byte is over exactly the text's bytes.
      cps = new Int32Array(enc.ids.length);
      let i = 0;
      for (const ch of text) cps[i++] = ch.codePointAt(0)!;
    } else {
      this.tokens = tok.encode(text);
      this.unknownFraction = 0;
      this.unknownChars = [];
    }
    const n = this.tokens.length;
    const unit = tok.kind === 'char' ? 'characters' : 'tokens';
    if (n === 0) throw new DataError('empty', `${name}: the text encodes to no tokens`);
    this.ranges = splitRangesFor(n, valFraction, (opts.seed ?? 0) >>> 0);
    this.bytes = rangeBytes(n, cps ? (i) => utf8Len(cps![i]) : tokenBytesOf(tok, this.tokens), this.ranges);
    this.maxSeqLen = Math.min(longest(this.ranges.train), longest(this.ranges.val)) - 1;
    const T = opts.seqLen ?? 1;
    if (T > this.maxSeqLen) {
      const needed = minCharsForSeqLen(T, valFraction);
      throw new DataError(
        'too-short',
        `${name}: the text has ${n} ${unit}, too short for context length ${T}: it needs at least ${needed} ` +
          `(${Math.round(valFraction * 100)}% is held out for validation, and each part must hold ${T + 1} consecutive ${unit})`,
        { have: n, needed, seqLen: T, unit },
      );
    }
  }

  splitRanges(split: Split): ReadonlyArray<readonly [number, number]> {
    return this.ranges[split];
  }

  /** Number of tokens in a split. */
  splitSize(split: Split): number {
    let s = 0;
    for (const [a, b] of this.ranges[split]) s += b - a;
    return s;
  }

  /** UTF-8 bytes of the text a split's tokens stand for. */
  splitBytes(split: Split): number {
    return this.bytes[split];
  }

  /** Mean UTF-8 bytes per token in a split (1 for ASCII text with a character vocabulary). */
  bytesPerToken(split: Split): number {
    return this.bytes[split] / this.splitSize(split);
  }

  nextBatch(split: Split, B: number, T: number, rng: Rng): Batch {
    checkShape(B, T, this.minSeqLen, this.maxSeqLen);
    // Valid starts per range: a window [s, s+T] must lie inside the range.
    const ranges = this.ranges[split];
    const cum: number[] = [];
    let total = 0;
    for (const [a, b] of ranges) {
      total += Math.max(0, b - a - T);
      cum.push(total);
    }
    const inputs = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    for (let r = 0; r < B; r++) {
      const k = Math.floor(rng.next() * total);
      let j = 0;
      while (cum[j] <= k) j++; // few ranges (≤ 11): linear is fine
      const start = ranges[j][0] + (k - (j ? cum[j - 1] : 0));
      inputs.set(this.tokens.subarray(start, start + T), r * T);
      targets.set(this.tokens.subarray(start + 1, start + T + 1), r * T);
    }
    return { B, T, inputs, targets };
  }
}

/** Per-position byte counts of a non-character tokenizer: its tokenBytes, else the UTF-8
 *  length of each id decoded alone (exact unless a token is part of a character). */
function tokenBytesOf(tok: Tokenizer, tokens: Int32Array): (i: number) => number {
  const table = new Int32Array(tok.size).fill(-1);
  const enc = new TextEncoder();
  return (i) => {
    const id = tokens[i];
    let b = table[id];
    if (b < 0) b = table[id] = tok.tokenBytes ? tok.tokenBytes(id) : enc.encode(tok.decode([id])).length;
    return b;
  };
}

export function textTask(name: string, text: string, opts: TextTaskOptions = {}): TextTask {
  return new TextTask(name, text, opts);
}
