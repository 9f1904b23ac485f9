// GPT-2 byte-level BPE on tiny vocabularies (ms per test, no 50k-token files): the byte table,
// where encode cuts long text into chunks (next to every kind of whitespace), each refusal's
// code and message, added tokens, ids at the vocabulary's ends. bpe.test.ts compares the real
// GPT-2 vocabulary with gpt-3-encoder; this file is what mutation testing runs for bpe.ts.
import { describe, expect, it } from 'vitest';
import { thrown } from '../util/thrown';
import { BpeTokenizer, bpeFromTokenizerJson, bpeFromVocabMerges, BYTE_CHARS, GPT2_EOS, tokenizerJsonFromVocabMerges } from './bpe';
import { DataError } from './errors';

/** Byte b is id b, so the ids of unmerged text are its UTF-8 bytes. */
const byteVocab = (): Record<string, number> => Object.fromEntries(BYTE_CHARS.map((c, i) => [c, i]));
const G = BYTE_CHARS[0x20]; // 'Ġ'
const lastByteChar = (s: string) => BYTE_CHARS[new TextEncoder().encode(s).at(-1)!];

/** The library encoding a string in one call (no chunks): the oracle for encode's cuts. */
const whole = (t: BpeTokenizer, s: string) => (t as unknown as { hf: { encode(s: string, o: object): { ids: number[] } } }).hf.encode(s, { add_special_tokens: false }).ids;

/** A tokenizer from vocabulary entries beyond the bytes (ids from 256 in order) and merges. */
function tiny(extra: string[], merges: string[]): BpeTokenizer {
  const vocab = byteVocab();
  extra.forEach((t, i) => (vocab[t] = 256 + i));
  return bpeFromVocabMerges(vocab, merges.join('\n'));
}

const dataError = (f: () => unknown) => {
  const e = thrown(DataError, f);
  return [e.code, e.message];
};

describe('GPT-2 byte table', () => {
  it('printable Latin-1 bytes stand for themselves, the other 68 for U+0100.. in byte order', () => {
    expect(BYTE_CHARS.length).toBe(256);
    expect(new Set(BYTE_CHARS).size).toBe(256);
    const cp = (b: number) => BYTE_CHARS[b].codePointAt(0);
    // The boundaries of the three printable ranges and the shifted bytes around them.
    expect([0x00, 0x0a, 0x20, 0x21, 0x7e, 0x7f, 0xa0, 0xa1, 0xac, 0xad, 0xae, 0xff].map(cp)).toEqual([
      0x100, 0x10a, 0x120, 0x21, 0x7e, 0x121, 0x142, 0xa1, 0xac, 0x143, 0xae, 0xff,
    ]);
    expect(BYTE_CHARS.filter((c) => c.codePointAt(0)! >= 0x100).length).toBe(68);
  });
});

describe('BPE encode: chunk cuts', () => {
  it('a long text of " th" words cuts only before a space that follows a word', () => {
    const t = tiny(['Ġt', 'Ġth'], ['Ġ t', 'Ġt h']);
    const s = 'a' + ' th'.repeat(3000);
    expect(Array.from(t.encode(s))).toEqual([97, ...new Array(3000).fill(257)]);
  });

  it('hands the library at most one window (4096 units) per call when the text has cut points', () => {
    const t = tiny(['Ġt', 'Ġth'], ['Ġ t', 'Ġt h']);
    // Cut points of "q  th" are the first space of each pair (i ≡ 1 mod 5): the last one in
    // each 4096-unit window.
    const s = 'q  th'.repeat(2400);
    const expected = whole(t, s);
    const hf = (t as unknown as { hf: { encode(s: string, o: object): { ids: number[] } } }).hf;
    const lengths: number[] = [];
    const encode = hf.encode.bind(hf);
    hf.encode = (s: string, o: object) => {
      lengths.push(s.length);
      return encode(s, o);
    };
    expect(Array.from(t.encode(s))).toEqual(expected);
    expect(lengths).toEqual([4096, 4095, 3809]);
    // A word longer than the window: extended to the next cut point (the first space of
    // the pair after it), then windows again.
    lengths.length = 0;
    const long = 'y'.repeat(5000) + '  th' + 'q th'.repeat(2000);
    expect(Array.from(t.encode(long))).toEqual(whole(t, long));
    expect(lengths.slice(0, 2)).toEqual([5000, 4093]);
  });

  it('a non-whitespace character inside a piece is never a cut point', () => {
    // [the character before, the character]: punctuation with a control character, letters
    // with a CJK letter. A cut before the character would split the piece and lose the merge.
    for (const [before, ch] of [
      ['!', '\x01'],
      ['!', '\x08'],
      ['x', '日'],
      ['!', '\u200b'],
    ]) {
      const first = BYTE_CHARS[new TextEncoder().encode(ch)[0]];
      const t = tiny([lastByteChar(before) + first], [`${lastByteChar(before)} ${first}`]);
      const s = 'q '.repeat(2000) + before.repeat(50) + ch + before.repeat(100);
      const got = Array.from(t.encode(s));
      expect(got, JSON.stringify(ch)).toEqual(whole(t, s));
      expect(got).toContain(256);
    }
  });

  it('added tokens holding whitespace, or stripping it after them, are never split by a cut', () => {
    const vocab = { ...byteVocab(), 'Ġt': 256 };
    const j = tokenizerJsonFromVocabMerges(vocab, 'Ġ t') as Record<string, unknown>;
    const cases: [object, string][] = [
      [{ id: 257, content: '<pad>', rstrip: true }, 'y'.repeat(4090) + '<pad> b' + 'z'.repeat(10)],
      [{ id: 257, content: '<p d>' }, 'y'.repeat(4092) + '<p d>' + 'z'.repeat(10)],
      [{ id: 257, content: '<pad>', lstrip: true }, 'y'.repeat(4090) + ' <pad>' + 'z'.repeat(10) + ' th'.repeat(2000)],
    ];
    for (const [added, s] of cases) {
      const t = bpeFromTokenizerJson({ ...j, added_tokens: [added] });
      const got = Array.from(t.encode(s));
      expect(got, JSON.stringify(added)).toEqual(whole(t, s));
      expect(got).toContain(257);
    }
  });

  it('a word longer than the window extends the chunk to the next cut point', () => {
    // "y y" merges: a wrong cut inside the word leaves a lone y where "yy" belongs.
    const t = tiny(['yy', 'Ġt', 'Ġth'], ['y y', 'Ġ t', 'Ġt h']);
    for (const s of ['y'.repeat(6001) + ' th', 'y'.repeat(9001), 'ab' + 'y'.repeat(5001) + ' th th', 'y'.repeat(4095) + ' ' + 'y'.repeat(4097)]) {
      const got = Array.from(t.encode(s));
      expect(got).toEqual(whole(t, s));
      expect(got).toContain(256);
    }
  });

  // Each whitespace character W: a cut right after W (before a second whitespace character V)
  // would split the piece "W V" that the whole text has, so a merge of W's last byte with V's
  // first byte is lost. The original cuts before W (W after a letter), which is always safe.
  const WHITESPACE: [number, string][] = [
    [0x20, '\n'],
    [0x09, ' '],
    [0x0d, ' '],
    [0xa0, ' '],
    [0x1680, ' '],
    [0x2000, ' '],
    [0x200a, ' '],
    [0x2028, ' '],
    [0x2029, ' '],
    [0x202f, ' '],
    [0x205f, ' '],
    [0x3000, ' '],
    [0xfeff, ' '],
  ];
  for (const [w, v] of WHITESPACE) {
    it(`U+${w.toString(16).padStart(4, '0').toUpperCase()} is whitespace to the cut (never cut right after it)`, () => {
      const W = String.fromCharCode(w);
      const pair = lastByteChar(W) + BYTE_CHARS[v.charCodeAt(0)];
      const t = tiny([pair], [`${lastByteChar(W)} ${BYTE_CHARS[v.charCodeAt(0)]}`]);
      // 4000 units of "q ", letters up to 4050, W at 4050, V at 4051: the window ends at 4096.
      const s = 'q '.repeat(2000) + 'x'.repeat(50) + W + v + ' ' + 'y'.repeat(100);
      const got = Array.from(t.encode(s));
      expect(got).toEqual(whole(t, s));
      expect(got).toContain(256);
    });
  }

  it('the cut falls before the space of " th" near the window end, never between space and word', () => {
    const t = tiny(['Ġt', 'Ġth'], ['Ġ t', 'Ġt h']);
    const s = 'q '.repeat(2040) + 'x th' + 'y'.repeat(200);
    expect(Array.from(t.encode(s))).toEqual(whole(t, s));
    expect(Array.from(t.encode(s))).toContain(257);
  });
});

describe('BPE pre-tokenization as GPT-2', () => {
  it('no prefix space, words split before merging, merges not skipped for vocabulary words', () => {
    // "ab" is in the vocabulary but no merge makes it: GPT-2 still encodes "a", "b".
    const t = tiny(['Ġt', 'Ġth', 'aĠ', 'ab', 'xy'], ['Ġ t', 'Ġt h', `a ${G}`, 'x y']);
    expect(Array.from(t.encode('th'))).toEqual([116, 104]); // no prefix space: not "Ġth"
    expect(Array.from(t.encode(' th'))).toEqual([257]);
    expect(Array.from(t.encode('a b'))).toEqual([97, 32, 98]); // "a" and " b" are separate pieces: "aĠ" never forms
    expect(Array.from(t.encode('ab'))).toEqual([97, 98]);
    expect(Array.from(t.encode('xy'))).toEqual([260]);
    expect(t.decode(t.encode(' th ab'))).toBe(' th ab');
    // No clean-up of spaces before punctuation or contractions.
    for (const s of ["a . b , c ! d ? e 's f n't", ' ,', "x 've"]) expect(t.decode(t.encode(s))).toBe(s);
  });
});

describe('BPE tokenizer values', () => {
  const small = () => ({ ...byteVocab(), 'Ġt': 256, 'Ġth': 257, [GPT2_EOS]: 258 });
  const smallMerges = '#version: 0.2\nĠ t\nĠt h\n';

  it('size, end-of-text id, description, token strings and bytes', () => {
    const t = bpeFromVocabMerges(small(), smallMerges);
    expect([t.kind, t.size, t.eosId, t.source]).toEqual(['bpe', 259, 258, 'vocab.json + merges.txt']);
    expect(t.describe()).toBe('byte-level BPE, 259 tokens (vocab.json + merges.txt)');
    expect(bpeFromTokenizerJson(tokenizerJsonFromVocabMerges(small(), smallMerges)).describe()).toBe('byte-level BPE, 259 tokens (tokenizer.json)');
    expect(bpeFromTokenizerJson(tokenizerJsonFromVocabMerges(small(), smallMerges), 'gpt2/tokenizer.json').source).toBe('gpt2/tokenizer.json');
    expect(t.tokenString(257)).toBe('Ġth');
    expect(t.tokenString(0)).toBe(BYTE_CHARS[0]);
    expect(t.tokenBytes(257)).toBe(3); // one byte per byte character
    expect(t.tokenBytes(258)).toBe(13); // an added token's literal text
    expect(t.tokenBytes(0)).toBe(1);
    // An added token outside ASCII counts its UTF-8 bytes, not its UTF-16 length.
    const j = tokenizerJsonFromVocabMerges(small(), smallMerges) as Record<string, unknown>;
    const withE = bpeFromTokenizerJson({ ...j, added_tokens: [...(j.added_tokens as object[]), { id: 259, content: '<é>', special: true }] });
    expect(withE.tokenBytes(259)).toBe(4);
    // The end-of-text token at id 0 is still found.
    const eos0: Record<string, number> = { [GPT2_EOS]: 0 };
    BYTE_CHARS.forEach((c, i) => (eos0[c] = i + 1));
    eos0['Ġt'] = 257;
    expect(bpeFromVocabMerges(eos0, 'Ġ t').eosId).toBe(0);
    expect(bpeFromVocabMerges({ ...byteVocab(), 'Ġt': 256 }, 'Ġ t').eosId).toBeNull();
  });

  it('ids at the vocabulary ends: the last id decodes, size and beyond are bad-id with the position', () => {
    const t = bpeFromVocabMerges(small(), smallMerges);
    expect(t.decode([])).toBe('');
    expect(t.decode([258])).toBe(GPT2_EOS);
    expect(t.decode([0x68, 0x69, 257, 258])).toBe(`hi th${GPT2_EOS}`);
    expect(Array.from(t.encode(`a${GPT2_EOS} th`))).toEqual([97, 258, 257]);
    for (const [bad, at] of [
      [259, 1],
      [-1, 0],
      [1.5, 2],
    ] as const) {
      const ids = [104, 105, 106];
      ids[at] = bad;
      const e = thrown(DataError, () => t.decode(ids));
      expect([e.code, e.message, e.details]).toEqual(['bad-id', `token id ${bad} at position ${at} is outside the vocabulary [0, 259)`, { id: bad, position: at }]);
    }
    expect(dataError(() => t.tokenString(259))).toEqual(['bad-id', 'token id 259 at position 0 is outside the vocabulary [0, 259)']);
    expect(dataError(() => t.tokenBytes(-1))).toEqual(['bad-id', 'token id -1 at position 0 is outside the vocabulary [0, 259)']);
  });

  it('added tokens: flags kept (lstrip/rstrip eat the spaces beside them), single_word refused', () => {
    const j = tokenizerJsonFromVocabMerges(small(), smallMerges) as Record<string, unknown>;
    const withPad = (pad: object) => bpeFromTokenizerJson({ ...j, added_tokens: [...(j.added_tokens as object[]), { id: 259, content: '<pad>', ...pad }] });
    expect(Array.from(withPad({}).encode('a <pad> b'))).toEqual([97, 32, 259, 32, 98]);
    expect(Array.from(withPad({ lstrip: true }).encode('a <pad> b'))).toEqual([97, 259, 32, 98]);
    expect(Array.from(withPad({ rstrip: true }).encode('a <pad> b'))).toEqual([97, 32, 259, 98]);
    expect(Array.from(withPad({ lstrip: 'yes', rstrip: 1 }).encode('a <pad> b'))).toEqual([97, 32, 259, 32, 98]); // only true counts
    expect(dataError(() => withPad({ single_word: true }))).toEqual(['bad-tokenizer', 'tokenizer.json: added token "<pad>" has single_word: true, which is not supported']);
    expect(thrown(DataError, () => withPad({ single_word: true })).details).toEqual({ index: 1 });
    expect(withPad({ single_word: false }).size).toBe(260);
    expect(bpeFromTokenizerJson({ ...j, added_tokens: null }).size).toBe(259);
    expect(bpeFromTokenizerJson({ ...j, added_tokens: undefined }).eosId).toBe(258); // the vocabulary still has it
  });

  it('tokenizerJsonFromVocabMerges writes Hugging Face GPT-2 layout, end-of-text as an added special token', () => {
    const j = tokenizerJsonFromVocabMerges(small(), smallMerges) as Record<string, unknown>;
    expect([j.version, j.truncation, j.padding, j.normalizer]).toEqual(['1.0', null, null, null]);
    expect(j.added_tokens).toEqual([{ id: 258, content: GPT2_EOS, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }]);
    // ByteLevel everywhere: [part, add_prefix_space, trim_offsets] as in Hugging Face's gpt2.
    for (const [part, prefix, trim] of [['pre_tokenizer', false, true], ['post_processor', true, false], ['decoder', true, true]] as const) {
      expect(j[part], part).toEqual({ type: 'ByteLevel', add_prefix_space: prefix, trim_offsets: trim, use_regex: true });
    }
    const plainBpe = { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false };
    expect(j.model).toEqual({ ...plainBpe, vocab: small(), merges: ['Ġ t', 'Ġt h'] });
    expect(tokenizerJsonFromVocabMerges({ ...byteVocab(), 'Ġt': 256 }, 'Ġ t').added_tokens).toEqual([]);
    // "#version" is skipped only as the first line; blank lines anywhere are dropped.
    expect((tokenizerJsonFromVocabMerges(small(), '\nĠ t\n\nĠt h') as { model: { merges: string[] } }).model.merges).toEqual(['Ġ t', 'Ġt h']);
    expect(dataError(() => bpeFromVocabMerges(small(), 'Ġ t\n#version: 0.2'))[0]).toBe('bad-merges');
  });
});

describe('BPE refusals: code and message', () => {
  const small = () => ({ ...byteVocab(), 'Ġt': 256, 'Ġth': 257, [GPT2_EOS]: 258 });
  const smallMerges = 'Ġ t\nĠt h';
  const good = () => tokenizerJsonFromVocabMerges(small(), smallMerges) as Record<string, any>;
  const model = (m: object) => ({ ...good(), model: { ...good().model, ...m } });

  it('vocabularies', () => {
    const V = 'vocab.json';
    expect(dataError(() => bpeFromVocabMerges([], smallMerges))).toEqual(['bad-vocab', `${V} must be a JSON object {token: id}, got an array`]);
    expect(dataError(() => bpeFromVocabMerges(null, smallMerges))).toEqual(['bad-vocab', `${V} must be a JSON object {token: id}, got null`]);
    expect(dataError(() => bpeFromVocabMerges('x', smallMerges))).toEqual(['bad-vocab', `${V} must be a JSON object {token: id}, got string`]);
    expect(dataError(() => bpeFromVocabMerges({}, smallMerges))).toEqual(['bad-vocab', `${V} is empty`]);
    expect(dataError(() => bpeFromVocabMerges({ ...small(), 'Ġth': -1 }, smallMerges))).toEqual(['bad-vocab', `${V}: the id of token "Ġth" must be a non-negative integer, got -1`]);
    expect(dataError(() => bpeFromVocabMerges({ ...small(), 'Ġth': '2' }, smallMerges))).toEqual(['bad-vocab', `${V}: the id of token "Ġth" must be a non-negative integer, got "2"`]);
    expect(dataError(() => bpeFromVocabMerges({ ...small(), 'Ġth': 2.5 }, smallMerges))).toEqual(['bad-vocab', `${V}: the id of token "Ġth" must be a non-negative integer, got 2.5`]);
    expect(thrown(DataError, () => bpeFromVocabMerges({ ...small(), 'Ġth': -1 }, smallMerges)).details).toEqual({ token: 'Ġth' });
    expect(bpeFromVocabMerges({ ...byteVocab(), 'Ġt': 256, 'Ġth': 257 }, smallMerges).tokenString(0)).toBe(BYTE_CHARS[0]); // id 0 is fine
    expect(dataError(() => bpeFromVocabMerges({ ...small(), '': 259 }, smallMerges))).toEqual(['bad-vocab', `${V}: empty token string (id 259)`]);
    expect(thrown(DataError, () => bpeFromVocabMerges({ ...small(), '': 259 }, smallMerges)).details).toEqual({ id: 259 });
    // Through the tokenizer.json route the file is named as the user gave it.
    expect(dataError(() => bpeFromVocabMerges({ ...small(), 'Ġth': 300 }, smallMerges))).toEqual(['bad-vocab', 'vocab.json + merges.txt: ids must be 0..258 without holes (259 tokens), but "Ġth" has id 300']);
    expect(thrown(DataError, () => bpeFromVocabMerges({ ...small(), 'Ġth': 300 }, smallMerges)).details).toEqual({ token: 'Ġth', id: 300 });
    expect(dataError(() => bpeFromVocabMerges({ ...small(), 'Ġth': 259 }, smallMerges))).toEqual(['bad-vocab', 'vocab.json + merges.txt: ids must be 0..258 without holes (259 tokens), but "Ġth" has id 259']);
    const dup = { ...small(), 'Ġth': 256, [GPT2_EOS]: 257 };
    expect(dataError(() => bpeFromVocabMerges(dup, smallMerges))).toEqual(['bad-vocab', 'vocab.json + merges.txt: id 256 is used twice, by "Ġt" and "Ġth"']);
    expect(thrown(DataError, () => bpeFromVocabMerges(dup, smallMerges)).details).toEqual({ id: 256 });
    expect(dataError(() => bpeFromVocabMerges({ ...small(), ' th': 259 }, smallMerges))).toEqual([
      'bad-vocab',
      `vocab.json + merges.txt: token " th" (id 259) contains " ", which is not one of GPT-2's 256 byte characters: this is not a byte-level BPE vocabulary`,
    ]);
    expect(thrown(DataError, () => bpeFromVocabMerges({ ...small(), ' th': 259 }, smallMerges)).details).toEqual({ token: ' th', id: 259 });
    const noA: Record<string, number> = { ...small(), [GPT2_EOS]: 97 };
    delete noA.a;
    expect(dataError(() => bpeFromVocabMerges(noA, smallMerges))).toEqual(['bad-vocab', 'vocab.json + merges.txt: 1 of the 256 single-byte tokens are missing (e.g. "a"): not a byte-level BPE vocabulary']);
    expect(thrown(DataError, () => bpeFromVocabMerges(noA, smallMerges)).details).toEqual({ missing: 1 });
    // A long token is cut in the message.
    const long = 'Ġ'.repeat(60);
    expect(dataError(() => bpeFromVocabMerges({ ...small(), [long]: 1000 }, smallMerges))[1]).toBe(`vocab.json + merges.txt: ids must be 0..259 without holes (260 tokens), but "${'Ġ'.repeat(36)}…" has id 1000`);
    expect(dataError(() => bpeFromVocabMerges({ ...small(), [long.slice(0, 38)]: 1000 }, smallMerges))[1]).toContain(`"${'Ġ'.repeat(38)}" has id`);
  });

  it('merges', () => {
    const W = 'vocab.json + merges.txt';
    expect(dataError(() => bpeFromVocabMerges(small(), 42 as unknown as string))).toEqual(['bad-merges', 'merges.txt must be text']);
    expect(dataError(() => bpeFromVocabMerges(small(), '#version: 0.2\n'))).toEqual(['bad-merges', 'merges.txt has no merges']);
    expect(dataError(() => bpeFromVocabMerges(small(), 'Ġ t h'))).toEqual(['bad-merges', `${W}: merge 0 must be exactly two tokens, got "Ġ t h"`]);
    expect(thrown(DataError, () => bpeFromVocabMerges(small(), 'Ġ t\nĠ t h')).details).toEqual({ index: 1 });
    expect(dataError(() => bpeFromVocabMerges(small(), 'Ġ t\nĠt'))).toEqual(['bad-merges', `${W}: merge 1 must be exactly two tokens, got "Ġt"`]);
    expect(dataError(() => bpeFromVocabMerges(small(), 'Ġ  t'))).toEqual(['bad-merges', `${W}: merge 0 must be exactly two tokens, got "Ġ  t"`]);
    expect(dataError(() => bpeFromVocabMerges(small(), ' t'))).toEqual(['bad-merges', `${W}: merge 0 must be exactly two tokens, got " t"`]);
    expect(dataError(() => bpeFromVocabMerges(small(), 'Ġ x'))).toEqual(['bad-merges', `${W}: merge 0 ("Ġ" "x") uses "Ġx", which is not in the vocabulary`]);
    expect(dataError(() => bpeFromVocabMerges(small(), 'Ġ t\nq Ġth'))).toEqual(['bad-merges', `${W}: merge 1 ("q" "Ġth") uses "qĠth", which is not in the vocabulary`]);
    expect(thrown(DataError, () => bpeFromVocabMerges(small(), 'Ġ t\nq Ġth')).details).toEqual({ index: 1, token: 'qĠth' });
    // The parts of a merge must be tokens too (here "Ġz", and then "Ġzt").
    expect(dataError(() => bpeFromTokenizerJson(model({ merges: [['Ġz', 't']] })))[1]).toBe('tokenizer.json model: merge 0 ("Ġz" "t") uses "Ġz", which is not in the vocabulary');
    expect(dataError(() => bpeFromTokenizerJson(model({ merges: [['Ġ', 'z']] })))[1]).toBe('tokenizer.json model: merge 0 ("Ġ" "z") uses "Ġz", which is not in the vocabulary');
    expect(dataError(() => bpeFromTokenizerJson(model({ merges: [] })))).toEqual(['bad-merges', 'tokenizer.json model: merges are missing or empty (a BPE tokenizer needs its merge list)']);
    expect(dataError(() => bpeFromTokenizerJson(model({ merges: 'Ġ t' })))[0]).toBe('bad-merges');
    expect(dataError(() => bpeFromTokenizerJson(model({ merges: [7] })))).toEqual(['bad-merges', 'tokenizer.json model: merge 0 is neither "a b" nor ["a", "b"]']);
    expect(thrown(DataError, () => bpeFromTokenizerJson(model({ merges: ['Ġ t', 7] }))).details).toEqual({ index: 1 });
    for (const m of [['Ġ'], ['Ġ', 't', 'h'], ['Ġ', 1], [1, 't'], ['', 't'], ['Ġ', '']]) {
      expect(dataError(() => bpeFromTokenizerJson(model({ merges: [m] })))).toEqual(['bad-merges', `tokenizer.json model: merge 0 must be exactly two tokens, got ${JSON.stringify(m)}`]);
    }
    const longMerge = 'Ġ '.repeat(40);
    expect(dataError(() => bpeFromVocabMerges(small(), longMerge))[1]).toBe(`${W}: merge 0 must be exactly two tokens, got ${JSON.stringify(longMerge).slice(0, 60)}`);
    expect(bpeFromTokenizerJson(model({ merges: [['Ġ', 't'], 'Ġt h'] })).size).toBe(259);
  });

  it('tokenizer.json that is not GPT-2 byte-level BPE', () => {
    const T = 'tokenizer.json';
    expect(dataError(() => bpeFromTokenizerJson('{}'))).toEqual(['bad-tokenizer', `${T} must be a JSON object`]);
    expect(dataError(() => bpeFromTokenizerJson(null))).toEqual(['bad-tokenizer', `${T} must be a JSON object`]);
    expect(dataError(() => bpeFromTokenizerJson([good()]))).toEqual(['bad-tokenizer', `${T} must be a JSON object`]);
    expect(dataError(() => bpeFromTokenizerJson({ ...good(), model: [good().model] }))).toEqual(['bad-tokenizer', `${T}: "model" must be an object`]);
    expect(dataError(() => bpeFromTokenizerJson({ ...good(), model: null }))).toEqual(['bad-tokenizer', `${T}: "model" must be an object`]);
    expect(dataError(() => bpeFromTokenizerJson(model({ type: 'WordPiece' })))).toEqual(['bad-tokenizer', `${T}: the model is "WordPiece", not byte-level BPE (GPT-2)`]);
    expect(thrown(DataError, () => bpeFromTokenizerJson(model({ type: 'WordPiece' }))).details).toEqual({ modelType: 'WordPiece' });
    expect(dataError(() => bpeFromTokenizerJson(model({ type: undefined })))).toEqual(['bad-tokenizer', `${T}: the model is null, not byte-level BPE (GPT-2)`]);
    expect(dataError(() => bpeFromTokenizerJson(model({ dropout: 0.1 })))).toEqual(['bad-tokenizer', `${T}: BPE dropout 0.1 makes encoding random; GPT-2 has none`]);
    expect(bpeFromTokenizerJson(model({ dropout: 0 })).size).toBe(259);
    expect(bpeFromTokenizerJson(model({ dropout: undefined, continuing_subword_prefix: null, end_of_word_suffix: undefined })).size).toBe(259);
    expect(dataError(() => bpeFromTokenizerJson(model({ continuing_subword_prefix: '##' })))).toEqual(['bad-tokenizer', `${T}: model.continuing_subword_prefix "##" is not GPT-2 byte-level BPE`]);
    expect(dataError(() => bpeFromTokenizerJson(model({ end_of_word_suffix: '</w>' })))).toEqual(['bad-tokenizer', `${T}: model.end_of_word_suffix "</w>" is not GPT-2 byte-level BPE`]);
    expect(dataError(() => bpeFromTokenizerJson({ ...good(), normalizer: { type: 'NFC' } }))).toEqual(['bad-tokenizer', `${T}: has a normalizer ("NFC"); GPT-2 has none`]);
    expect(dataError(() => bpeFromTokenizerJson({ ...good(), normalizer: 'x' }))).toEqual(['bad-tokenizer', `${T}: has a normalizer ("x"); GPT-2 has none`]);
    expect(bpeFromTokenizerJson({ ...good(), normalizer: undefined }).size).toBe(259);
    expect(dataError(() => bpeFromTokenizerJson({ ...good(), pre_tokenizer: { type: 'Metaspace' } }))).toEqual(['bad-tokenizer', `${T}: the pre-tokenizer is "Metaspace", not ByteLevel: not byte-level BPE (GPT-2)`]);
    expect(dataError(() => bpeFromTokenizerJson({ ...good(), pre_tokenizer: 'ByteLevel' }))).toEqual(['bad-tokenizer', `${T}: the pre-tokenizer is "ByteLevel", not ByteLevel: not byte-level BPE (GPT-2)`]);
    expect(dataError(() => bpeFromTokenizerJson({ ...good(), pre_tokenizer: undefined }))).toEqual(['bad-tokenizer', `${T}: the pre-tokenizer is null, not ByteLevel: not byte-level BPE (GPT-2)`]);
    expect(dataError(() => bpeFromTokenizerJson({ ...good(), pre_tokenizer: { type: 'ByteLevel' } }))).toEqual(['bad-tokenizer', `${T}: pre_tokenizer.add_prefix_space must be false, as in GPT-2 (got null)`]);
    expect(dataError(() => bpeFromTokenizerJson({ ...good(), pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true } }))).toEqual(['bad-tokenizer', `${T}: pre_tokenizer.add_prefix_space must be false, as in GPT-2 (got true)`]);
    expect(dataError(() => bpeFromTokenizerJson({ ...good(), pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, use_regex: false } }))).toEqual(['bad-tokenizer', `${T}: pre_tokenizer.use_regex false is not GPT-2's pre-tokenization`]);
    expect(bpeFromTokenizerJson({ ...good(), pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false } }).size).toBe(259);
    expect(dataError(() => bpeFromTokenizerJson({ ...good(), decoder: null }))).toEqual(['bad-tokenizer', `${T}: the decoder is null, not ByteLevel`]);
    expect(dataError(() => bpeFromTokenizerJson({ ...good(), decoder: 'ByteLevel' }))).toEqual(['bad-tokenizer', `${T}: the decoder is "ByteLevel", not ByteLevel`]);
    expect(dataError(() => bpeFromTokenizerJson({ ...good(), decoder: { type: 'WordPiece' } }))).toEqual(['bad-tokenizer', `${T}: the decoder is "WordPiece", not ByteLevel`]);
    expect(dataError(() => bpeFromTokenizerJson({ ...good(), decoder: null }, 'my/tokenizer.json'))[1]).toBe('my/tokenizer.json: the decoder is null, not ByteLevel');
    expect(dataError(() => bpeFromTokenizerJson(model({ vocab: [] }), 'my.json'))).toEqual(['bad-vocab', 'my.json model must be a JSON object {token: id}, got an array']);
  });

  it('added tokens', () => {
    const T = 'tokenizer.json';
    expect(dataError(() => bpeFromTokenizerJson({ ...good(), added_tokens: 'x' }))).toEqual(['bad-tokenizer', `${T}: added_tokens must be an array`]);
    const badAdded = `${T}: added_tokens[1] must be {id: non-negative integer, content: non-empty string, …}`;
    for (const a of [null, [], { id: 259 }, { id: 259, content: '' }, { id: 259, content: 5 }, { content: 'x' }, { id: '259', content: 'x' }, { id: 1.5, content: 'x' }, { id: -1, content: 'x' }]) {
      const e = thrown(DataError, () => bpeFromTokenizerJson({ ...good(), added_tokens: [good().added_tokens[0], a] }));
      expect([e.code, e.message, e.details]).toEqual(['bad-tokenizer', badAdded, { index: 1 }]);
    }
    expect(dataError(() => bpeFromTokenizerJson({ ...good(), added_tokens: [{ id: 5, content: GPT2_EOS, special: true }] }))).toEqual([
      'bad-vocab',
      `${T} model: added token "<|endoftext|>" has id 5 but the vocabulary says 258`,
    ]);
    expect(thrown(DataError, () => bpeFromTokenizerJson({ ...good(), added_tokens: [{ id: 5, content: GPT2_EOS }] })).details).toEqual({ token: GPT2_EOS });
    expect(dataError(() => bpeFromTokenizerJson({ ...good(), added_tokens: [{ id: 261, content: '<pad>' }] }))).toEqual(['bad-vocab', `${T} model: ids must be 0..259 without holes (260 tokens), but "<pad>" has id 261`]);
    // An added token is not held to the byte alphabet; the same token in the vocabulary is.
    expect(bpeFromTokenizerJson({ ...good(), added_tokens: [{ id: 259, content: '<p ad>' }] }).tokenString(259)).toBe('<p ad>');
    const withAdded = { ...good(), model: { ...good().model, vocab: { ...small(), '<p ad>': 259 } } };
    expect(bpeFromTokenizerJson({ ...withAdded, added_tokens: [{ id: 259, content: '<p ad>' }] }).size).toBe(260);
    expect(dataError(() => bpeFromTokenizerJson(withAdded))[1]).toContain('token "<p ad>" (id 259) contains " "');
    expect(bpeFromTokenizerJson({ ...good(), added_tokens: [{ id: 0, content: BYTE_CHARS[0] }] }).size).toBe(259);
  });
});
