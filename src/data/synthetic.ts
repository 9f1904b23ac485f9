// Synthetic tasks generated in code: every example is a prompt and an answer, e.g.
//   reverse    "abc>"     → "cba."
//   sort       "dcab>"    → "abcd."      (characters sorted by code point, repeats kept)
//   add        "123+45="  → "168."
//   copy-rule  "abz>"     → "bca."       (copy, each letter shifted `shift` places, cyclic)
// The answer ends with an end mark ('.') so a greedy decoder knows when to stop.
//
// Rows: one example per row, left-aligned, padded with id 0 (UNK_ID) to T. Targets are the
// next token only where that next token belongs to the answer; −1 on prompt positions and
// padding. Causal attention means padding after the example cannot affect counted positions.
//
// Split: an example's split is a hash of its prompt (10% validation by default), so train
// and validation never share a problem, independently of the run's seed.
//
// Tokenizers: the tasks are defined on characters but run on any base tokenizer. A
// character Vocab must contain every character the task uses (one character = one token).
// A byte-level BPE (GPT-2) can write any string, so prompt and answer are each encoded as
// text (for the default symbols that is also how GPT-2 splits "abc>cba." as a whole: letters
// and punctuation are separate pre-tokens), and greedy exact match compares the generated
// TEXT with the answer, so a model that writes the right answer in a different token split
// is still right. Lengths in tokens are then bounded by UTF-8 bytes (a byte is ≤ 1 token).

import type { Rng } from '../util/rng';
import { DataError } from './errors';
import {
  IGNORE_INDEX,
  checkShape,
  type Batch,
  type GreedyDecoder,
  type GreedyExactMatch,
  type Split,
  type SyntheticExample,
  type SyntheticTaskApi,
} from './task';
import type { Tokenizer } from './tokenizer';
import { UNK_ID, Vocab } from './vocab';

export const SYNTHETIC_TASKS = ['reverse', 'sort', 'add', 'copy-rule'] as const;
export type SyntheticName = (typeof SYNTHETIC_TASKS)[number];

export function isSyntheticName(s: string): s is SyntheticName {
  return (SYNTHETIC_TASKS as readonly string[]).includes(s);
}

export interface SyntheticSymbols {
  /** Between prompt and answer in reverse / sort / copy-rule. */
  sep: string;
  /** The operator in add. */
  plus: string;
  /** Between prompt and answer in add. */
  equals: string;
  /** Closes every answer. */
  end: string;
}

export const DEFAULT_SYMBOLS: SyntheticSymbols = { sep: '>', plus: '+', equals: '=', end: '.' };

export interface SyntheticOptions {
  /** Shortest / longest input string for reverse, sort, copy-rule (default 2 / 8). */
  minLen?: number;
  maxLen?: number;
  /** Characters of the input strings (default a-z). */
  alphabet?: string;
  /** Most digits per operand in add (default 3). */
  maxDigits?: number;
  /** copy-rule: places each letter moves along the alphabet (default 1). */
  shift?: number;
  /** Format characters (override to fit a base model's vocabulary, e.g. Moby Dick has no '>'). */
  symbols?: Partial<SyntheticSymbols>;
  /** Build on this (the base model's) tokenizer. A character Vocab must hold every character
   *  the task uses, else DataError 'vocab-missing-chars'; byte-level BPE holds every string
   *  (the end mark must be a single token). Default: the task's own small vocabulary. */
  tokenizer?: Tokenizer;
  /** Share of problems in validation (default 0.1). */
  valFraction?: number;
}

const ALPHA = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';

/** FNV-1a over UTF-16 units, then a murmur3 finaliser: a stable, well-mixed 32-bit hash. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Whether a prompt belongs to validation. */
export function isValPrompt(prompt: string, valFraction: number): boolean {
  return hash32(prompt) / 4294967296 < valFraction;
}

function randomString(rng: Rng, alphabet: string[], minLen: number, maxLen: number): string {
  const len = rng.int(minLen, maxLen);
  let s = '';
  for (let i = 0; i < len; i++) s += alphabet[rng.int(0, alphabet.length - 1)];
  return s;
}

/** A non-negative integer with a uniformly drawn digit count (so short numbers are common). */
function randomNumber(rng: Rng, maxDigits: number): number {
  const d = rng.int(1, maxDigits);
  return d === 1 ? rng.int(0, 9) : rng.int(10 ** (d - 1), 10 ** d - 1);
}

/** The correct answer for a prompt (without the end mark); exported for tests and the UI. */
export function solve(name: SyntheticName, input: string, opts: { alphabet?: string; shift?: number } = {}): string {
  const chars = [...input];
  switch (name) {
    case 'reverse':
      return chars.reverse().join('');
    case 'sort':
      return chars.sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!).join('');
    case 'copy-rule': {
      const alpha = [...(opts.alphabet ?? ALPHA)];
      const k = opts.shift ?? 1;
      return chars.map((c) => alpha[(((alpha.indexOf(c) + k) % alpha.length) + alpha.length) % alpha.length]).join('');
    }
    case 'add': {
      const [a, b] = input.split(/[^0-9]+/).filter((x) => x !== '').map(Number);
      return String(a + b);
    }
  }
}

function utf8Bytes(s: string): number {
  return new TextEncoder().encode(s).length;
}

export class SyntheticTask implements SyntheticTaskApi {
  readonly kind = 'synthetic' as const;
  readonly tokenizer: Tokenizer;
  readonly unknownFraction = 0;
  readonly minSeqLen: number;
  readonly maxSeqLen = Number.MAX_SAFE_INTEGER;
  readonly maxExampleLen: number;
  readonly maxAnswerLen: number;
  readonly endId: number;
  readonly symbols: SyntheticSymbols;
  private readonly alphabet: string[];
  private readonly minLen: number;
  private readonly maxLen: number;
  private readonly maxDigits: number;
  private readonly shift: number;
  private readonly valFraction: number;

  constructor(
    readonly name: SyntheticName,
    opts: SyntheticOptions = {},
  ) {
    this.symbols = { ...DEFAULT_SYMBOLS, ...opts.symbols };
    this.alphabet = [...new Set(opts.alphabet ?? ALPHA)];
    this.minLen = opts.minLen ?? 2;
    this.maxLen = opts.maxLen ?? 8;
    this.maxDigits = opts.maxDigits ?? 3;
    this.shift = opts.shift ?? 1;
    this.valFraction = opts.valFraction ?? 0.1;
    const bad = (msg: string) => new DataError('bad-shape', `${name}: ${msg}`);
    if (!(Number.isInteger(this.minLen) && this.minLen >= 1 && Number.isInteger(this.maxLen) && this.maxLen >= this.minLen)) throw bad(`need 1 ≤ minLen ≤ maxLen, got ${this.minLen}, ${this.maxLen}`);
    if (!(Number.isInteger(this.maxDigits) && this.maxDigits >= 1 && this.maxDigits <= 9)) throw bad(`maxDigits must be 1-9, got ${this.maxDigits}`);
    if (!(this.valFraction > 0 && this.valFraction < 1)) throw bad(`valFraction must be in (0, 1), got ${this.valFraction}`);
    if (this.alphabet.length === 0) throw bad('alphabet is empty');
    const s = this.symbols;
    for (const [k, c] of Object.entries(s)) if ([...c].length !== 1) throw bad(`symbol ${k} must be one character, got ${JSON.stringify(c)}`);

    // The characters this task can produce, and its longest example: in characters for a
    // character vocabulary, in UTF-8 bytes (a bound on BPE tokens) otherwise.
    const tok = opts.tokenizer;
    const len = tok === undefined || tok instanceof Vocab ? (c: string) => [...c].length : utf8Bytes;
    let used: string[];
    if (name === 'add') {
      used = [...DIGITS, s.plus, s.equals, s.end];
      const d = this.maxDigits;
      this.maxAnswerLen = d + 1 + len(s.end);
      this.maxExampleLen = d + len(s.plus) + d + len(s.equals) + this.maxAnswerLen;
    } else {
      used = [...this.alphabet, s.sep, s.end];
      const widest = Math.max(...this.alphabet.map(len));
      this.maxAnswerLen = this.maxLen * widest + len(s.end);
      this.maxExampleLen = this.maxLen * widest + len(s.sep) + this.maxAnswerLen;
    }
    const format = name === 'add' ? [s.plus, s.equals, s.end] : [s.sep, s.end];
    const content = name === 'add' ? [...DIGITS] : this.alphabet;
    if (new Set(format).size !== format.length || format.some((c) => content.includes(c))) {
      throw bad('format symbols must be distinct and not in the alphabet');
    }
    if (tok instanceof Vocab) {
      const missing = [...new Set(used)].filter((c) => !tok.has(c));
      if (missing.length) {
        throw new DataError(
          'vocab-missing-chars',
          `${name}: the vocabulary lacks ${missing.map((c) => JSON.stringify(c)).join(', ')}; choose other symbols/alphabet (options.symbols, options.alphabet) that it has`,
          { missing },
        );
      }
      this.tokenizer = tok;
      this.endId = tok.idOf(s.end);
    } else if (tok) {
      // A decoder stops at endId, so the end mark must be one token of its own.
      const end = tok.encode(s.end);
      if (end.length !== 1) {
        throw new DataError('vocab-missing-chars', `${name}: the end mark ${JSON.stringify(s.end)} is ${end.length} tokens in ${tok.describe()}; choose an end mark (options.symbols.end) that is one token`, { missing: [s.end] });
      }
      this.tokenizer = tok;
      this.endId = end[0];
    } else {
      const own = Vocab.fromTexts(used);
      this.tokenizer = own;
      this.endId = own.idOf(s.end);
    }
    this.minSeqLen = this.maxExampleLen - 1;
  }

  /** One example regardless of split. */
  private draw(rng: Rng): SyntheticExample {
    const s = this.symbols;
    if (this.name === 'add') {
      const a = randomNumber(rng, this.maxDigits);
      const b = randomNumber(rng, this.maxDigits);
      return { prompt: `${a}${s.plus}${b}${s.equals}`, answer: `${a + b}${s.end}` };
    }
    const x = randomString(rng, this.alphabet, this.minLen, this.maxLen);
    return { prompt: x + s.sep, answer: solve(this.name, x, { alphabet: this.alphabet.join(''), shift: this.shift }) + s.end };
  }

  sample(split: Split, rng: Rng): SyntheticExample {
    // Rejection sampling on the prompt's hash: expected 1/valFraction draws for val.
    for (let i = 0; i < 100_000; i++) {
      const ex = this.draw(rng);
      if (isValPrompt(ex.prompt, this.valFraction) === (split === 'val')) return ex;
    }
    throw new DataError('split-empty', `${this.name}: no ${split} example found; the problem space is too small for a ${split} split`);
  }

  batchOf(examples: SyntheticExample[], T: number): Batch {
    const B = examples.length;
    checkShape(B, T, this.minSeqLen, this.maxSeqLen);
    const inputs = new Int32Array(B * T).fill(UNK_ID);
    const targets = new Int32Array(B * T).fill(IGNORE_INDEX);
    examples.forEach((ex, r) => {
      const p = this.tokenizer.encode(ex.prompt);
      const a = this.tokenizer.encode(ex.answer);
      const L = p.length + a.length;
      if (L > T + 1) throw new DataError('bad-shape', `${this.name}: example of ${L} tokens does not fit T=${T}`);
      const row = r * T;
      inputs.set(p.subarray(0, Math.min(p.length, T)), row);
      if (p.length < T) inputs.set(a.subarray(0, Math.min(a.length, T - p.length)), row + p.length);
      // Position t predicts token t+1; count it when t+1 is inside the answer.
      for (let j = 0; j < a.length; j++) targets[row + p.length - 1 + j] = a[j];
    });
    return { B, T, inputs, targets };
  }

  nextBatch(split: Split, B: number, T: number, rng: Rng): Batch {
    checkShape(B, T, this.minSeqLen, this.maxSeqLen);
    const ex: SyntheticExample[] = [];
    for (let i = 0; i < B; i++) ex.push(this.sample(split, rng));
    return this.batchOf(ex, T);
  }

  async greedyExactMatch(decode: GreedyDecoder, n: number, rng: Rng, split: Split = 'val'): Promise<GreedyExactMatch> {
    let correct = 0;
    const samples: GreedyExactMatch['samples'] = [];
    for (let i = 0; i < n; i++) {
      const ex = this.sample(split, rng);
      const out = await decode(Array.from(this.tokenizer.encode(ex.prompt)), this.maxAnswerLen);
      // Compared as text, cut after the first end mark: with a character vocabulary that is
      // the same as comparing ids; with BPE it does not depend on how the model split it.
      const text = this.decodeLenient(out.slice(0, this.maxAnswerLen));
      const cut = text.indexOf(this.symbols.end);
      const predicted = cut >= 0 ? text.slice(0, cut + this.symbols.end.length) : text;
      const ok = predicted === ex.answer;
      if (ok) correct++;
      if (samples.length < 8) samples.push({ prompt: ex.prompt, answer: ex.answer, predicted, ok });
    }
    return { correct, total: n, accuracy: n ? correct / n : 0, samples };
  }

  /** Generated ids to text; an id outside the tokenizer (a decoder bug or a bigger model
   *  vocabulary) reads as U+FFFD, so it can never match an answer. */
  private decodeLenient(ids: number[]): string {
    const size = this.tokenizer.size;
    let s = '';
    let run: number[] = [];
    for (const id of ids) {
      if (Number.isInteger(id) && id >= 0 && id < size) run.push(id);
      else {
        s += this.tokenizer.decode(run) + '\uFFFD';
        run = [];
      }
    }
    return s + this.tokenizer.decode(run);
  }
}

export function syntheticTask(name: SyntheticName, opts: SyntheticOptions = {}): SyntheticTask {
  return new SyntheticTask(name, opts);
}
