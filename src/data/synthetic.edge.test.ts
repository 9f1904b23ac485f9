// Edge cases of the synthetic tasks: solve() for every task by hand (code-point sort,
// cyclic shifts both ways, add with other symbols), the option checks and their messages,
// lengths in UTF-8 bytes for a non-character tokenizer, the split hash pinned (changing it
// would move problems between train and validation of existing runs), a split that cannot
// be drawn, an example that does not fit, and generated ids outside the tokenizer.
import { describe, expect, it } from 'vitest';
import { Rng } from '../util/rng';
import { DataError } from './errors';
import { isValPrompt, solve, SyntheticTask } from './synthetic';
import type { Tokenizer } from './tokenizer';
import { Vocab } from './vocab';
import { thrown } from '../util/thrown';

const refusal = (fn: () => unknown) => thrown(DataError, fn);

/** A byte tokenizer (one id per UTF-8 byte, like a byte-level BPE without merges). */
const bytes: Tokenizer = {
  kind: 'bpe',
  size: 256,
  eosId: null,
  encode: (t) => Int32Array.from(new TextEncoder().encode(t)),
  decode: (ids) => new TextDecoder().decode(Uint8Array.from(ids as ArrayLike<number>)),
  describe: () => 'bytes, 256 tokens',
};

describe('solve', () => {
  it('reverse, sort by code point (repeats kept, astral after U+FFxx), copy-rule both ways, add', () => {
    expect(solve('reverse', 'abc')).toBe('cba');
    expect(solve('sort', 'dcbab')).toBe('abbcd');
    expect(solve('sort', '😀\uFF01a')).toBe('a\uFF01😀');
    expect(solve('sort', 'ba')).toBe('ab');
    expect(solve('copy-rule', 'abz')).toBe('bca');
    expect(solve('copy-rule', 'abz', { shift: 2 })).toBe('cdb');
    expect(solve('copy-rule', 'abz', { shift: -1 })).toBe('zay');
    expect(solve('copy-rule', 'abz', { shift: 0 })).toBe('abz');
    expect(solve('copy-rule', 'xyx', { alphabet: 'xyz', shift: 4 })).toBe('yzy');
    expect(solve('add', '123+45=')).toBe('168');
    expect(solve('add', '7p0e')).toBe('7');
    expect(solve('add', '99+1=')).toBe('100');
  });
});

describe('SyntheticTask options', () => {
  it('refuses each bad option with a message naming it', () => {
    const cases: [ConstructorParameters<typeof SyntheticTask>, string][] = [
      [['reverse', { minLen: 0 }], 'reverse: need 1 ≤ minLen ≤ maxLen, got 0, 8'],
      [['reverse', { minLen: 1.5 }], 'reverse: need 1 ≤ minLen ≤ maxLen, got 1.5, 8'],
      [['reverse', { minLen: 3, maxLen: 2 }], 'reverse: need 1 ≤ minLen ≤ maxLen, got 3, 2'],
      [['reverse', { maxLen: 2.5 }], 'reverse: need 1 ≤ minLen ≤ maxLen, got 2, 2.5'],
      [['add', { maxDigits: 0 }], 'add: maxDigits must be 1-9, got 0'],
      [['add', { maxDigits: 10 }], 'add: maxDigits must be 1-9, got 10'],
      [['add', { maxDigits: 2.5 }], 'add: maxDigits must be 1-9, got 2.5'],
      [['sort', { valFraction: 0 }], 'sort: valFraction must be in (0, 1), got 0'],
      [['sort', { valFraction: 1 }], 'sort: valFraction must be in (0, 1), got 1'],
      [['sort', { alphabet: '' }], 'sort: alphabet is empty'],
      [['sort', { symbols: { sep: '->' } }], 'sort: symbol sep must be one character, got "->"'],
      [['sort', { symbols: { end: '' } }], 'sort: symbol end must be one character, got ""'],
      [['sort', { symbols: { sep: 'a' } }], 'sort: format symbols must be distinct and not in the alphabet'],
      [['sort', { symbols: { sep: '.' } }], 'sort: format symbols must be distinct and not in the alphabet'],
      [['add', { symbols: { plus: '1' } }], 'add: format symbols must be distinct and not in the alphabet'],
      [['add', { symbols: { plus: '=' } }], 'add: format symbols must be distinct and not in the alphabet'],
    ];
    for (const [args, message] of cases) {
      const e = refusal(() => new SyntheticTask(...args));
      expect(e.code, message).toBe('bad-shape');
      expect(e.message).toBe(message);
    }
  });

  it('accepts the bounds themselves (minLen = maxLen = 1, maxDigits 1 and 9, letters as add symbols)', () => {
    expect(new SyntheticTask('reverse', { minLen: 1, maxLen: 1 }).maxExampleLen).toBe(4);
    expect(new SyntheticTask('add', { maxDigits: 1 }).maxExampleLen).toBe(1 + 1 + 1 + 1 + 3);
    expect(new SyntheticTask('add', { maxDigits: 9 }).maxAnswerLen).toBe(11);
    // a..z as add's symbols are fine (add's content is digits), and sep '>' is unused by add.
    expect(new SyntheticTask('add', { symbols: { plus: 'a', equals: 'b', end: 'c', sep: '1' } }).symbols.end).toBe('c');
    expect(new SyntheticTask('sort', { alphabet: 'aab' }).maxAnswerLen).toBe(9);
  });

  it('measures lengths in code points for a character vocabulary, in UTF-8 bytes otherwise (widest character)', () => {
    const v = Vocab.fromText('aé😀>.');
    const chars = new SyntheticTask('reverse', { alphabet: 'aé😀', maxLen: 3, tokenizer: v });
    expect([chars.maxAnswerLen, chars.maxExampleLen, chars.minSeqLen]).toEqual([4, 8, 7]);
    const own = new SyntheticTask('reverse', { alphabet: 'aé😀', maxLen: 3 });
    expect(own.maxExampleLen).toBe(8);
    const b = new SyntheticTask('reverse', { alphabet: 'aé😀', maxLen: 3, tokenizer: bytes });
    expect([b.maxAnswerLen, b.maxExampleLen]).toEqual([3 * 4 + 1, 3 * 4 + 1 + 3 * 4 + 1]);
    expect(b.endId).toBe('.'.charCodeAt(0));
    const add = new SyntheticTask('add', { maxDigits: 2, symbols: { plus: 'é' }, tokenizer: bytes });
    expect([add.maxAnswerLen, add.maxExampleLen]).toEqual([4, 2 + 2 + 2 + 1 + 4]);
  });

  it('a non-character tokenizer must write the end mark as one token', () => {
    const e = refusal(() => new SyntheticTask('sort', { tokenizer: bytes, symbols: { end: 'é' } }));
    expect(e.code).toBe('vocab-missing-chars');
    expect(e.message).toBe('sort: the end mark "é" is 2 tokens in bytes, 256 tokens; choose an end mark (options.symbols.end) that is one token');
    expect(e.details).toEqual({ missing: ['é'] });
  });
});

describe('drawing and batching', () => {
  it('the split hash is pinned: which of these prompts are validation at 10% and 50%', () => {
    const prompts = Array.from({ length: 40 }, (_, i) => `${i}+${i * 7}=`);
    const at10 = prompts.filter((p) => isValPrompt(p, 0.1));
    const at50 = prompts.filter((p) => isValPrompt(p, 0.5));
    expect(at10).toEqual(PINNED_10);
    expect(at50.length).toBe(PINNED_50_COUNT);
    expect(at10.every((p) => at50.includes(p))).toBe(true);
  });

  it('add draws operands of every digit count up to maxDigits, 0 included, never more digits', () => {
    const t = new SyntheticTask('add', { maxDigits: 2 });
    const rng = new Rng(5);
    const ops = new Set<number>();
    for (let i = 0; i < 400; i++) {
      const { prompt, answer } = t.sample('train', rng);
      const [a, b] = prompt.slice(0, -1).split('+').map(Number);
      expect(answer).toBe(`${a + b}.`);
      ops.add(a).add(b);
    }
    expect(Math.max(...ops)).toBeLessThanOrEqual(99);
    expect([...ops].some((x) => x >= 10)).toBe(true);
    expect(ops.has(0)).toBe(true);
  });

  it('a problem space too small for a split says so', () => {
    const t = new SyntheticTask('reverse', { alphabet: 'a', minLen: 1, maxLen: 1 });
    const split = isValPrompt('a>', 0.1) ? 'train' : 'val';
    const e = refusal(() => t.sample(split, new Rng(1)));
    expect(e.code).toBe('split-empty');
    expect(e.message).toBe(`reverse: no ${split} example found; the problem space is too small for a ${split} split`);
  });

  it('an example longer than T + 1 tokens is refused by batchOf', () => {
    const t = new SyntheticTask('reverse', { maxLen: 3 });
    const e = refusal(() => t.batchOf([{ prompt: 'abcdefgh>', answer: 'hgfedcba.' }], t.minSeqLen));
    expect(e.message).toBe(`reverse: example of 18 tokens does not fit T=${t.minSeqLen}`);
  });

  it('greedy exact match reads ids outside the tokenizer as U+FFFD (never a match), the rest as text', async () => {
    const t = new SyntheticTask('reverse', { minLen: 2, maxLen: 2 });
    const tok = t.tokenizer;
    const r = await t.greedyExactMatch(async (prompt) => {
      const x = tok.decode(prompt).slice(0, 2);
      const answer = Array.from(tok.encode(`${solve('reverse', x)}.`));
      return [answer[0], 9999, ...answer.slice(1)];
    }, 3, new Rng(2));
    expect(r.correct).toBe(0);
    // Cut to maxAnswerLen ids, the inserted one pushes the end mark out.
    for (const s of r.samples) expect(s.predicted).toBe(`${s.answer[0]}\uFFFD${s.answer[1]}`);
  });
});

// Computed once from the current hash (FNV-1a + murmur3 finaliser); a change to the hash
// must be deliberate, since it reshuffles every run's splits.
describe('greedy exact match and batches, more edges', () => {
  it('id 0 and size − 1 are in range, size, −1 and 1.5 are not; at most 8 samples are kept', async () => {
    const t = new SyntheticTask('reverse', { minLen: 2, maxLen: 2 });
    const size = t.tokenizer.size;
    const r = await t.greedyExactMatch(async () => [0, size - 1, size, -1, 1.5], 10, new Rng(3));
    expect(r.total).toBe(10);
    expect(r.samples).toHaveLength(8);
    const last = t.tokenizer.decode([size - 1]);
    // Cut to maxAnswerLen = 3 ids: [0, size − 1, size].
    for (const sm of r.samples) expect(sm.predicted).toBe(`\uFFFD${last}\uFFFD`);
    expect((await t.greedyExactMatch(async () => [], 0, new Rng(3))).accuracy).toBe(0);
  });

  it('the answer is cut after its first end mark, also when it is the first token', async () => {
    const t = new SyntheticTask('reverse', { minLen: 2, maxLen: 2 });
    const end = t.endId;
    const r = await t.greedyExactMatch(async () => [end, end, end], 2, new Rng(4));
    for (const sm of r.samples) expect(sm.predicted).toBe('.');
  });

  it('nextBatch draws B rows and checks the shape; batchOf fills a row cut at T', () => {
    const t = new SyntheticTask('reverse', { minLen: 2, maxLen: 2 });
    const b = t.nextBatch('train', 3, t.minSeqLen, new Rng(6));
    expect([b.B, b.T, b.inputs.length]).toEqual([3, t.minSeqLen, 3 * t.minSeqLen]);
    expect(refusal(() => t.nextBatch('train', 0, t.minSeqLen, new Rng(6))).code).toBe('bad-shape');
    expect(refusal(() => t.batchOf([], t.minSeqLen)).code).toBe('bad-shape');
    const v = t.tokenizer;
    // T = minSeqLen = 5 for "ab>" + "ba.": the last answer token is only a target.
    const one = t.batchOf([{ prompt: 'ab>', answer: 'ba.' }], t.minSeqLen);
    expect(Array.from(one.inputs)).toEqual(Array.from(v.encode('ab>ba')));
    expect(Array.from(one.targets)).toEqual([-1, -1, ...Array.from(v.encode('ba.'))]);
  });
});

const PINNED_10 = ['19+133=', '26+182=', '28+196=', '38+266='];
const PINNED_50_COUNT = 26;
