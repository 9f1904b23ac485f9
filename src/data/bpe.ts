// GPT-2's byte-level BPE as a Tokenizer, for adapting Hugging Face GPT-2 checkpoints.
//
// The merging itself is @huggingface/tokenizers (pure JS, the same engine as Transformers.js);
// this file validates the untrusted files first (a checkpoint folder's tokenizer.json, or
// vocab.json + merges.txt), so a malformed one is a DataError naming what is wrong instead
// of a crash or, worse, silently wrong ids.
//
// Only GPT-2's exact scheme is accepted: a BPE model over the 256-character byte alphabet,
// the ByteLevel pre-tokenizer with add_prefix_space false and the GPT-2 regex, the ByteLevel
// decoder, no normalizer, no dropout, no subword affixes. Anything else would encode text
// differently from the checkpoint's own tokenizer, which is exactly the error to refuse.
//
// Special tokens: "<|endoftext|>" (and any other added token) written in the text encodes
// to its special id, as Hugging Face's GPT-2 tokenizer does by default, so a corpus with
// document separators gets the ids the checkpoint was trained with, and our ids equal
// `tokenizer(text)["input_ids"]` in Python. (OpenAI's original encoder.py and gpt-3-encoder
// treat it as plain text: "<", "|", "end", ….) Encoding never adds BOS/EOS tokens.
//
// Text is UTF-8 encoded before merging, so a lone surrogate (not representable in UTF-8)
// becomes U+FFFD's bytes: encode(s) === encode(s.toWellFormed()), and decode gives U+FFFD.
//
// Known difference from OpenAI's encoder.py: the pre-tokenizer regex runs in JavaScript,
// whose \s includes U+FEFF and excludes U+0085, the reverse of Python's `regex` module
// (checked over all code points; \p{L} and \p{N} agree). So U+0085 / U+FEFF next to other
// whitespace can split differently. gpt-3-encoder has the same JS regex and agrees with us.
//
// Decoding never "cleans up" spaces (Transformers' clean_up_tokenization_spaces), so
// decode(encode(s)) === s for every well-formed string.

import { BPE as HfBpe, Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { DataError } from './errors';
import type { Tokenizer } from './tokenizer';

export const GPT2_EOS = '<|endoftext|>';

/** GPT-2's byte → character table: printable Latin-1 bytes stand for themselves, the other
 *  68 bytes (controls, space, NBSP, soft hyphen…) for U+0100.. in byte order, so every token
 *  is a printable string. BYTE_CHARS[b] is byte b's character. */
export const BYTE_CHARS: readonly string[] = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let next = 0x100;
  for (let b = 0; b < 256; b++) out.push(String.fromCharCode(printable(b) ? b : next++));
  return out;
})();
const BYTE_SET = new Set(BYTE_CHARS);

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function bad(code: 'bad-tokenizer' | 'bad-vocab' | 'bad-merges', msg: string, details: Record<string, unknown> = {}): DataError {
  return new DataError(code, msg, details);
}

function show(s: string): string {
  const j = JSON.stringify(s);
  return j.length > 40 ? j.slice(0, 37) + '…"' : j;
}

interface AddedTokenJson {
  id: number;
  content: string;
  special: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  single_word: boolean;
}

/** The parts of a GPT-2 tokenizer after validation. */
interface Parsed {
  /** id → token string; contiguous 0..size-1. */
  tokens: string[];
  vocab: Record<string, number>;
  merges: [string, string][];
  added: AddedTokenJson[];
}

function parseVocab(vocab: unknown, where: string): Map<string, number> {
  if (!isObject(vocab)) throw bad('bad-vocab', `${where} must be a JSON object {token: id}, got ${Array.isArray(vocab) ? 'an array' : vocab === null ? 'null' : typeof vocab}`);
  const map = new Map<string, number>();
  for (const [tok, id] of Object.entries(vocab)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw bad('bad-vocab', `${where}: the id of token ${show(tok)} must be a non-negative integer, got ${JSON.stringify(id)}`, { token: tok });
    }
    if (tok.length === 0) throw bad('bad-vocab', `${where}: empty token string (id ${id})`, { id });
    map.set(tok, id);
  }
  if (map.size === 0) throw bad('bad-vocab', `${where} is empty`);
  return map;
}

function parseAdded(added: unknown): AddedTokenJson[] {
  if (added === undefined || added === null) return [];
  if (!Array.isArray(added)) throw bad('bad-tokenizer', 'tokenizer.json: added_tokens must be an array');
  return added.map((a, i): AddedTokenJson => {
    if (!isObject(a) || typeof a.content !== 'string' || a.content.length === 0 || typeof a.id !== 'number' || !Number.isInteger(a.id) || a.id < 0) {
      throw bad('bad-tokenizer', `tokenizer.json: added_tokens[${i}] must be {id: non-negative integer, content: non-empty string, …}`, { index: i });
    }
    // single_word is not implemented by the library: ids would differ from Hugging Face's.
    if (a.single_word === true) throw bad('bad-tokenizer', `tokenizer.json: added token ${show(a.content)} has single_word: true, which is not supported`, { index: i });
    return {
      id: a.id,
      content: a.content,
      special: a.special === true,
      lstrip: a.lstrip === true,
      rstrip: a.rstrip === true,
      normalized: a.normalized === true,
      single_word: false,
    };
  });
}

function parseMerges(merges: unknown, where: string): [string, string][] {
  if (!Array.isArray(merges) || merges.length === 0) throw bad('bad-merges', `${where}: merges are missing or empty (a BPE tokenizer needs its merge list)`);
  return merges.map((m, i): [string, string] => {
    let pair: unknown[];
    if (typeof m === 'string') pair = m.split(' ');
    else if (Array.isArray(m)) pair = m;
    else throw bad('bad-merges', `${where}: merge ${i} is neither "a b" nor ["a", "b"]`, { index: i });
    if (pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string' || pair[0] === '' || pair[1] === '') {
      throw bad('bad-merges', `${where}: merge ${i} must be exactly two tokens, got ${JSON.stringify(m).slice(0, 60)}`, { index: i });
    }
    return [pair[0], pair[1]];
  });
}

/** Vocabulary + added tokens + merges → checked Parsed. `where` names the file(s) in messages. */
function check(vocabIn: unknown, mergesIn: unknown, addedIn: AddedTokenJson[], where: string): Parsed {
  const vocab = parseVocab(vocabIn, where);
  const merges = parseMerges(mergesIn, where);
  // Union of vocabulary and added tokens; an added token usually repeats a vocabulary entry
  // (GPT-2: "<|endoftext|>": 50256 in both) and must then agree on the id.
  const byToken = new Map(vocab);
  const addedSet = new Set<string>();
  for (const a of addedIn) {
    const had = byToken.get(a.content);
    if (had !== undefined && had !== a.id) throw bad('bad-vocab', `${where}: added token ${show(a.content)} has id ${a.id} but the vocabulary says ${had}`, { token: a.content });
    byToken.set(a.content, a.id);
    addedSet.add(a.content);
  }
  // Distinct ids that all lie in [0, n) with n entries are exactly 0..n-1: no duplicates, no
  // holes, and no huge id can make us allocate a huge array.
  const n = byToken.size;
  const tokens = new Array<string>(n);
  for (const [tok, id] of byToken) {
    if (id >= n) throw bad('bad-vocab', `${where}: ids must be 0..${n - 1} without holes (${n} tokens), but ${show(tok)} has id ${id}`, { token: tok, id });
    if (tokens[id] !== undefined) throw bad('bad-vocab', `${where}: id ${id} is used twice, by ${show(tokens[id])} and ${show(tok)}`, { id });
    tokens[id] = tok;
  }
  // Byte-level: every ordinary token is a string of byte characters, and every single byte is
  // a token (otherwise some text would have no id at all).
  for (const [tok, id] of vocab) {
    if (addedSet.has(tok)) continue;
    for (const ch of tok) {
      if (!BYTE_SET.has(ch)) {
        throw bad('bad-vocab', `${where}: token ${show(tok)} (id ${id}) contains ${show(ch)}, which is not one of GPT-2's 256 byte characters: this is not a byte-level BPE vocabulary`, { token: tok, id });
      }
    }
  }
  const missing = BYTE_CHARS.filter((c) => !vocab.has(c));
  if (missing.length) throw bad('bad-vocab', `${where}: ${missing.length} of the 256 single-byte tokens are missing (e.g. ${show(missing[0])}): not a byte-level BPE vocabulary`, { missing: missing.length });
  merges.forEach(([a, b], i) => {
    for (const t of [a, b, a + b]) {
      if (!vocab.has(t)) throw bad('bad-merges', `${where}: merge ${i} (${show(a)} ${show(b)}) uses ${show(t)}, which is not in the vocabulary`, { index: i, token: t });
    }
  });
  return { tokens, vocab: Object.fromEntries(vocab), merges, added: addedIn };
}

function hfJson(p: Parsed): Json {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: p.added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    // Ids never get BOS/EOS added (we encode with add_special_tokens false anyway).
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: p.vocab,
      merges: p.merges,
    },
  };
}

function isWs(c: number): boolean {
  // JS \s, the class the library's pre-tokenizer regex uses.
  return (
    c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/** Most UTF-16 units handed to the library at once (see encode). */
const CHUNK = 4096;
/** Distinct words the merge cache keeps before it starts over (Moby Dick has ~19k). */
const CACHE_WORDS = 1 << 17;

/** Stands in for the library's LRU cache of merged words, which moves the entry on every hit
 *  (a Map delete + set): that bookkeeping was ~70% of encode time, and its 10k capacity is
 *  below a book's vocabulary, so it also missed. A plain Map cleared when full costs one
 *  lookup per hit. The cached values are the library's own results, so ids do not change. */
class WordCache {
  private map = new Map<string, string[]>();
  get(key: string): string[] | undefined {
    return this.map.get(key);
  }
  put(key: string, value: string[]): void {
    if (this.map.size >= CACHE_WORDS) this.map.clear();
    this.map.set(key, value);
  }
  clear(): void {
    this.map.clear();
  }
}

export class BpeTokenizer implements Tokenizer {
  readonly kind = 'bpe' as const;
  readonly size: number;
  readonly eosId: number | null;
  /** id → token string (byte characters, or an added token's literal text). */
  private readonly tokens: readonly string[];
  private readonly addedIds: ReadonlySet<number>;
  private readonly hf: HfTokenizer;
  /** Longest text handed to the library at once: CHUNK, or all of it when an added token
   *  holds whitespace or eats the whitespace after it (rstrip), which a cut could split. */
  private readonly window: number;

  /** Use bpeFromTokenizerJson / bpeFromVocabMerges. */
  constructor(
    p: Parsed,
    readonly source: string,
  ) {
    this.tokens = p.tokens;
    this.size = p.tokens.length;
    this.addedIds = new Set(p.added.map((a) => a.id));
    const cuttable = (a: AddedTokenJson) => !a.rstrip && ![...a.content].some((ch) => isWs(ch.charCodeAt(0)));
    this.window = p.added.every(cuttable) ? CHUNK : Infinity;
    const eos = p.tokens.indexOf(GPT2_EOS);
    this.eosId = eos >= 0 ? eos : null;
    try {
      this.hf = new HfTokenizer(hfJson(p), { clean_up_tokenization_spaces: false });
    } catch (e) {
      throw bad('bad-tokenizer', `${source}: the tokenizer library rejected it: ${(e as Error).message}`);
    }
    if (this.hf.model instanceof HfBpe) (this.hf.model as unknown as { cache: WordCache }).cache = new WordCache();
  }

  describe(): string {
    return `byte-level BPE, ${this.size} tokens (${this.source})`;
  }

  /** The token string of an id (byte characters: "Ġthe" is " the"). */
  tokenString(id: number): string {
    this.checkId(id, 0);
    return this.tokens[id];
  }

  /** UTF-8 bytes that one id stands for (a partial character's bytes count as they are). */
  tokenBytes(id: number): number {
    this.checkId(id, 0);
    const t = this.tokens[id];
    return this.addedIds.has(id) ? new TextEncoder().encode(t).length : t.length;
  }

  encode(text: string): Int32Array {
    // The pre-tokenizer splits text into pieces that BPE merges independently, so cutting
    // the text where the split always falls gives the same ids. Such a point: a whitespace
    // unit right after a non-whitespace one (no piece spans it: whitespace only joins
    // whitespace or the word after it, and the (?!\S) lookahead only looks past a
    // whitespace run, which here starts at the cut). Added tokens are never cut when none
    // holds whitespace or strips the whitespace after it (else: one call, see window).
    // Chunks keep the library's per-call arrays small.
    const parts: number[][] = [];
    let total = 0;
    let start = 0;
    while (start < text.length) {
      let end = Math.min(text.length, start + this.window);
      if (end < text.length) {
        let p = end;
        while (p > start + 1 && !(isWs(text.charCodeAt(p)) && !isWs(text.charCodeAt(p - 1)))) p--;
        if (p > start + 1) end = p;
        else {
          // No cut point in the window (e.g. one very long word): extend to the next one.
          p = end;
          while (p < text.length && !(isWs(text.charCodeAt(p)) && !isWs(text.charCodeAt(p - 1)))) p++;
          end = p;
        }
      }
      const ids = this.hf.encode(text.slice(start, end), { add_special_tokens: false }).ids;
      parts.push(ids);
      total += ids.length;
      start = end;
    }
    const out = new Int32Array(total);
    let at = 0;
    for (const ids of parts) {
      out.set(ids, at);
      at += ids.length;
    }
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    const list: number[] = new Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      this.checkId(ids[i], i);
      list[i] = ids[i];
    }
    // The library refuses an empty list.
    if (list.length === 0) return '';
    return this.hf.decode(list, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  private checkId(id: number, position: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) {
      throw new DataError('bad-id', `token id ${id} at position ${position} is outside the vocabulary [0, ${this.size})`, { id, position });
    }
  }
}

/** A Hugging Face tokenizer.json (already parsed) of a GPT-2-style byte-level BPE. */
export function bpeFromTokenizerJson(json: unknown, source = 'tokenizer.json'): BpeTokenizer {
  if (!isObject(json)) throw bad('bad-tokenizer', `${source} must be a JSON object`);
  const model = json.model;
  if (!isObject(model)) throw bad('bad-tokenizer', `${source}: "model" must be an object`);
  if (model.type !== 'BPE') throw bad('bad-tokenizer', `${source}: the model is ${JSON.stringify(model.type ?? null)}, not byte-level BPE (GPT-2)`, { modelType: model.type });
  if (model.dropout != null && model.dropout !== 0) throw bad('bad-tokenizer', `${source}: BPE dropout ${JSON.stringify(model.dropout)} makes encoding random; GPT-2 has none`);
  for (const k of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    if (model[k] != null && model[k] !== '') throw bad('bad-tokenizer', `${source}: model.${k} ${JSON.stringify(model[k])} is not GPT-2 byte-level BPE`);
  }
  if (json.normalizer != null) throw bad('bad-tokenizer', `${source}: has a normalizer (${JSON.stringify((json.normalizer as Json).type ?? json.normalizer)}); GPT-2 has none`);
  const pre = json.pre_tokenizer;
  if (!isObject(pre) || pre.type !== 'ByteLevel') {
    throw bad('bad-tokenizer', `${source}: the pre-tokenizer is ${JSON.stringify(isObject(pre) ? pre.type : pre ?? null)}, not ByteLevel: not byte-level BPE (GPT-2)`);
  }
  if (pre.add_prefix_space !== false) throw bad('bad-tokenizer', `${source}: pre_tokenizer.add_prefix_space must be false, as in GPT-2 (got ${JSON.stringify(pre.add_prefix_space ?? null)})`);
  if (pre.use_regex === false) throw bad('bad-tokenizer', `${source}: pre_tokenizer.use_regex false is not GPT-2's pre-tokenization`);
  const dec = json.decoder;
  if (!isObject(dec) || dec.type !== 'ByteLevel') throw bad('bad-tokenizer', `${source}: the decoder is ${JSON.stringify(isObject(dec) ? dec.type : dec ?? null)}, not ByteLevel`);
  const added = parseAdded(json.added_tokens);
  return new BpeTokenizer(check(model.vocab, model.merges, added, `${source} model`), source);
}

/** Merges.txt text → "a b" lines: an optional "#version" first line (GPT-2's has
 *  "#version: 0.2") is skipped, as are empty lines (the file ends with a newline). */
function mergesLines(merges: string): string[] {
  const lines = merges.split(/\r?\n/);
  if (lines.length && lines[0].startsWith('#version')) lines.shift();
  return lines.filter((l) => l !== '');
}

/** The tokenizer.json object equivalent to GPT-2's vocab.json + merges.txt (the layout of
 *  Hugging Face's own GPT-2 tokenizer.json), "<|endoftext|>" an added special token when
 *  the vocabulary has it. Throws DataError on malformed input. */
export function tokenizerJsonFromVocabMerges(vocab: unknown, merges: string): Json {
  if (typeof merges !== 'string') throw bad('bad-merges', 'merges.txt must be text');
  const vmap = parseVocab(vocab, 'vocab.json');
  const eos = vmap.get(GPT2_EOS);
  const added: AddedTokenJson[] = eos === undefined ? [] : [{ id: eos, content: GPT2_EOS, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }];
  const lines = mergesLines(merges);
  if (lines.length === 0) throw bad('bad-merges', 'merges.txt has no merges');
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: lines,
    },
  };
}

/** GPT-2's vocab.json (parsed) + merges.txt (text). */
export function bpeFromVocabMerges(vocab: unknown, merges: string): BpeTokenizer {
  const json = tokenizerJsonFromVocabMerges(vocab, merges);
  try {
    return bpeFromTokenizerJson(json, 'vocab.json + merges.txt');
  } catch (e) {
    // Point at the user's files, not the object built from them.
    if (e instanceof DataError) throw new DataError(e.code, e.message.replace('vocab.json + merges.txt model', 'vocab.json + merges.txt'), e.details);
    throw e;
  }
}
