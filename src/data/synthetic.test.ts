import { describe, expect, it } from 'vitest';
import { freshSeed, Rng } from '../util/rng';
import { DataError } from './errors';
import { isValPrompt, SYNTHETIC_TASKS, SyntheticTask, syntheticTask } from './synthetic';
import { argmaxRows, IGNORE_INDEX, teacherForcedExactMatch, tokenAccuracy } from './task';
import { UNK_ID, Vocab } from './vocab';

/** Schoolbook addition on digit strings: independent of the generator's Number arithmetic. */
function addStrings(a: string, b: string): string {
  let out = '';
  let carry = 0;
  for (let i = a.length - 1, j = b.length - 1; i >= 0 || j >= 0 || carry; i--, j--) {
    const s = (i >= 0 ? a.charCodeAt(i) - 48 : 0) + (j >= 0 ? b.charCodeAt(j) - 48 : 0) + carry;
    out = String(s % 10) + out;
    carry = s >= 10 ? 1 : 0;
  }
  return out.replace(/^0+(?=\d)/, '');
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof DataError) return e.code;
    throw e;
  }
  return undefined;
}

describe('synthetic tasks: answers', () => {
  const seed = freshSeed();

  it(`add: "a+b=" → the sum and "." (seed ${seed})`, () => {
    const task = syntheticTask('add');
    const rng = new Rng(seed);
    let maxLen = 0;
    for (let i = 0; i < 2000; i++) {
      const ex = task.sample(i % 5 ? 'train' : 'val', rng);
      const m = /^(\d+)\+(\d+)=$/.exec(ex.prompt);
      expect(m, ex.prompt).not.toBeNull();
      expect(m![1].length).toBeLessThanOrEqual(3);
      expect(m![1]).toMatch(/^(0|[1-9]\d*)$/); // no leading zeros
      expect(ex.answer).toBe(addStrings(m![1], m![2]) + '.');
      maxLen = Math.max(maxLen, ex.prompt.length + ex.answer.length);
    }
    expect(maxLen).toBeLessThanOrEqual(task.maxExampleLen);
  });

  it(`reverse, sort, copy-rule (seed ${seed})`, () => {
    const rng = new Rng(seed);
    const alpha = 'abcdefghijklmnopqrstuvwxyz';
    for (const name of ['reverse', 'sort', 'copy-rule'] as const) {
      const task = syntheticTask(name, { minLen: 1, maxLen: 6 });
      for (let i = 0; i < 500; i++) {
        const { prompt, answer } = task.sample('train', rng);
        expect(prompt).toMatch(/^[a-z]{1,6}>$/);
        expect(answer.endsWith('.')).toBe(true);
        const x = prompt.slice(0, -1);
        const y = answer.slice(0, -1);
        expect(y.length).toBe(x.length);
        for (let k = 0; k < x.length; k++) {
          if (name === 'reverse') expect(y[k]).toBe(x[x.length - 1 - k]);
          if (name === 'copy-rule') expect(alpha.indexOf(y[k])).toBe((alpha.indexOf(x[k]) + 1) % 26);
        }
        if (name === 'sort') {
          for (let k = 1; k < y.length; k++) expect(y[k - 1] <= y[k]).toBe(true);
          expect([...y].sort().join('')).toBe([...x].sort().join(''));
        }
      }
    }
    // The cyclic case explicitly.
    const cr = syntheticTask('copy-rule', { alphabet: 'xyz', shift: 2, minLen: 3, maxLen: 3 });
    const ex = cr.sample('train', new Rng(1));
    const map: Record<string, string> = { x: 'z', y: 'x', z: 'y' };
    expect(ex.answer).toBe([...ex.prompt.slice(0, -1)].map((c) => map[c]).join('') + '.');
  });
});

describe('synthetic tasks: batches', () => {
  for (const name of SYNTHETIC_TASKS) {
    it(`${name}: targets only on answer positions, padding after (fresh seed)`, () => {
      const seed = freshSeed();
      const task = syntheticTask(name);
      const T = task.minSeqLen + 3;
      const B = 16;
      const rng = new Rng(seed);
      const examples = Array.from({ length: B }, () => task.sample('train', rng));
      const { inputs, targets } = task.batchOf(examples, T);
      examples.forEach((ex, r) => {
        const p = [...ex.prompt].length;
        const a = [...ex.answer].length;
        const full = task.tokenizer.encode(ex.prompt + ex.answer);
        for (let t = 0; t < T; t++) {
          const x = inputs[r * T + t];
          const y = targets[r * T + t];
          expect(x, `seed ${seed}`).toBe(t < p + a ? full[t] : UNK_ID);
          // Position t predicts token t+1: counted iff t+1 is an answer position.
          if (t + 1 >= p && t + 1 < p + a) expect(y).toBe(full[t + 1]);
          else expect(y).toBe(IGNORE_INDEX);
        }
        expect(task.tokenizer.decode(Array.from(targets.subarray(r * T, r * T + T)).filter((y) => y !== IGNORE_INDEX))).toBe(ex.answer);
      });
    });
  }

  it('fit exactly at T = minSeqLen (the last answer token is only a target)', () => {
    const task = syntheticTask('reverse', { minLen: 4, maxLen: 4 });
    const T = task.minSeqLen; // 4 + 1 + 4 + 1 − 1 = 9
    expect(T).toBe(9);
    const { inputs, targets } = task.batchOf([{ prompt: 'abcd>', answer: 'dcba.' }], T);
    expect(task.tokenizer.decode(inputs)).toBe('abcd>dcba');
    expect(Array.from(targets).map((y) => (y < 0 ? '_' : (task.tokenizer as Vocab).chars[y])).join('')).toBe('____dcba.');
    expect(code(() => task.batchOf([{ prompt: 'abcd>', answer: 'dcba.' }], T - 1))).toBe('bad-shape');
  });

  it('are deterministic for a seed', () => {
    const task = syntheticTask('add');
    const a = task.nextBatch('train', 8, 16, new Rng(9));
    const b = task.nextBatch('train', 8, 16, new Rng(9));
    const c = task.nextBatch('train', 8, 16, new Rng(10));
    expect(b.inputs).toEqual(a.inputs);
    expect(b.targets).toEqual(a.targets);
    expect(c.inputs).not.toEqual(a.inputs);
  });

  it('keep train and val problems disjoint', () => {
    const task = syntheticTask('add', { maxDigits: 2 });
    const rng = new Rng(123);
    const train = new Set<string>();
    const val = new Set<string>();
    for (let i = 0; i < 3000; i++) train.add(task.sample('train', rng).prompt);
    for (let i = 0; i < 1000; i++) val.add(task.sample('val', rng).prompt);
    for (const p of val) expect(train.has(p)).toBe(false);
    for (const p of val) expect(isValPrompt(p, 0.1)).toBe(true);
    // About 10% of the problem space is validation.
    let nv = 0;
    for (let a = 0; a < 100; a++) for (let b = 0; b < 100; b++) if (isValPrompt(`${a}+${b}=`, 0.1)) nv++;
    expect(nv / 10_000).toBeGreaterThan(0.08);
    expect(nv / 10_000).toBeLessThan(0.12);
  });
});

describe('synthetic tasks: vocabulary', () => {
  it('has its own small vocabulary by default', () => {
    expect((syntheticTask('add').tokenizer as Vocab).chars.join('')).toBe('\uFFFD+.0123456789=');
    expect(syntheticTask('reverse').tokenizer.size).toBe(1 + 26 + 2);
  });

  it("builds on a base model's vocabulary, or names the missing characters", () => {
    const moby = Vocab.fromText("Call me Ishmael. 0123456789: it's; a-z? abcdefghijklmnopqrstuvwxyz");
    let err: unknown;
    try {
      syntheticTask('add', { tokenizer: moby });
    } catch (e) {
      err = e;
    }
    expect((err as DataError).code).toBe('vocab-missing-chars');
    expect((err as DataError).details.missing).toEqual(['+', '=']);
    const task = syntheticTask('add', { tokenizer: moby, symbols: { plus: ';', equals: ':' } });
    expect(task.tokenizer).toBe(moby);
    const ex = task.sample('train', new Rng(2));
    expect(ex.prompt).toMatch(/^\d+;\d+:$/);
    const b = task.batchOf([ex], task.minSeqLen);
    expect(task.tokenizer.decode(b.inputs.subarray(0, [...ex.prompt].length))).toBe(ex.prompt);
    expect(code(() => syntheticTask('reverse', { symbols: { sep: 'a' } }))).toBe('bad-shape');
  });
});

describe('exact match', () => {
  it('teacher-forced: a row counts only if every answer position is right', () => {
    const task = syntheticTask('add');
    const rng = new Rng(4);
    const B = 6;
    const T = task.minSeqLen;
    const batch = task.nextBatch('val', B, T, rng);
    // Perfect predictions (padding/prompt predictions are irrelevant: make them garbage).
    const pred = Int32Array.from(batch.targets, (y) => (y === IGNORE_INDEX ? 5 : y));
    expect(teacherForcedExactMatch(pred, batch.targets, B, T)).toEqual({ correct: B, total: B, accuracy: 1 });
    // One wrong answer token in rows 1 and 4.
    for (const r of [1, 4]) {
      const t = batch.targets.subarray(r * T, r * T + T).findIndex((y) => y !== IGNORE_INDEX);
      pred[r * T + t] = (pred[r * T + t] + 1) % task.tokenizer.size;
    }
    const em = teacherForcedExactMatch(pred, batch.targets, B, T);
    expect(em).toEqual({ correct: B - 2, total: B, accuracy: (B - 2) / B });
    const counted = batch.targets.filter((y) => y !== IGNORE_INDEX).length;
    expect(tokenAccuracy(pred, batch.targets)).toEqual({ correct: counted - 2, total: counted, accuracy: (counted - 2) / counted });
  });

  it('argmaxRows picks the largest logit per row (first on ties)', () => {
    const logits = Float32Array.from([0, 2, 1, 5, 5, -1, -3, -2, -9]);
    expect(Array.from(argmaxRows(logits, 3, 3))).toEqual([1, 0, 1]);
  });

  it('greedy: an oracle decoder scores 1, a wrong or unterminated one 0', async () => {
    const task: SyntheticTask = syntheticTask('reverse');
    const solve = (prompt: number[]) => {
      const s = task.tokenizer.decode(prompt);
      return Array.from(task.tokenizer.encode([...s.slice(0, -1)].reverse().join('') + '.'));
    };
    const oracle = await task.greedyExactMatch(async (p) => [...solve(p), 3, 4], 50, new Rng(1));
    expect(oracle.accuracy).toBe(1); // tokens after the end mark are ignored
    expect(oracle.samples[0].ok).toBe(true);
    const noEnd = await task.greedyExactMatch(async (p) => solve(p).slice(0, -1), 20, new Rng(1));
    expect(noEnd.accuracy).toBe(0);
    const offByOne = await task.greedyExactMatch(async (p) => [(task.tokenizer as Vocab).idOf('a'), ...solve(p)], 20, new Rng(1));
    expect(offByOne.correct).toBe(0);
    let maxNewSeen = 0;
    await task.greedyExactMatch(async (p, maxNew) => ((maxNewSeen = maxNew), solve(p)), 5, new Rng(1));
    expect(maxNewSeen).toBe(task.maxAnswerLen);
  });
});
