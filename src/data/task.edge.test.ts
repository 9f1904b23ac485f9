// The data layer's task contract helpers on hand-worked values: shape checks and their
// messages, row argmax (first index on ties), teacher-forced exact match (rows with no
// counted position skipped), token accuracy, bits per byte.
import { describe, expect, it } from 'vitest';
import { thrown } from '../util/thrown';
import { DataError } from './errors';
import { argmaxRows, bitsPerByte, checkShape, IGNORE_INDEX, teacherForcedExactMatch, tokenAccuracy } from './task';

const refusal = (f: () => unknown) => {
  const e = thrown(DataError, f);
  return [e.code, e.message, e.details];
};

describe('checkShape', () => {
  it('accepts the bounds themselves', () => {
    expect(() => checkShape(1, 1, 1, 1)).not.toThrow();
    expect(() => checkShape(3, 5, 5, 9)).not.toThrow();
    expect(() => checkShape(3, 9, 5, 9)).not.toThrow();
  });

  it('refuses each bad dimension with its message', () => {
    expect(refusal(() => checkShape(0, 4, 1, 9))).toEqual(['bad-shape', 'batch size must be a positive integer, got 0', {}]);
    expect(refusal(() => checkShape(1.5, 4, 1, 9))).toEqual(['bad-shape', 'batch size must be a positive integer, got 1.5', {}]);
    expect(refusal(() => checkShape(2, 0, 1, 9))).toEqual(['bad-shape', 'sequence length must be a positive integer, got 0', {}]);
    expect(refusal(() => checkShape(2, 2.5, 1, 9))).toEqual(['bad-shape', 'sequence length must be a positive integer, got 2.5', {}]);
    expect(refusal(() => checkShape(2, 4, 5, 9))).toEqual(['bad-shape', 'sequence length 4 is too short for this task: examples need at least 5', { needed: 5 }]);
    expect(refusal(() => checkShape(2, 10, 5, 9))).toEqual(['too-short', "sequence length 10 is longer than this task's data allows (at most 9)", { max: 9 }]);
  });
});

describe('argmaxRows', () => {
  it('the largest logit per row, the first on ties, the last column reachable', () => {
    // Rows: max at 0; max last; a tie (first wins); all equal; max in the middle after a dip.
    const logits = [5, 1, 2, 0, 1, 2, 3, 4, 1, 4, 4, 0, 7, 7, 7, 7, 2, 1, 3, 0];
    expect(Array.from(argmaxRows(logits, 5, 4))).toEqual([0, 3, 1, 0, 2]);
    expect(Array.from(argmaxRows([-3, -1, -2], 1, 3))).toEqual([1]);
    expect(Array.from(argmaxRows([9], 1, 1))).toEqual([0]);
  });
});

describe('teacherForcedExactMatch', () => {
  const X = IGNORE_INDEX;
  it('a row counts when every counted position is right; rows with none are skipped', () => {
    // B = 4, T = 3: right, one wrong, nothing counted, right (ignored positions differ).
    const targets = [1, 2, X, X, 5, 6, X, X, X, 7, X, 8];
    const predicted = [1, 2, 9, 0, 5, 0, 3, 3, 3, 7, 0, 8];
    expect(teacherForcedExactMatch(predicted, targets, 4, 3)).toEqual({ correct: 2, total: 3, accuracy: 2 / 3 });
    expect(teacherForcedExactMatch([0, 0], [X, X], 1, 2)).toEqual({ correct: 0, total: 0, accuracy: 0 });
    // Only the first B·T entries are read.
    expect(teacherForcedExactMatch([1, 2, 0], [1, 2, 5], 1, 2)).toEqual({ correct: 1, total: 1, accuracy: 1 });
  });

  it('refuses fewer predictions or targets than B·T', () => {
    expect(refusal(() => teacherForcedExactMatch([1, 2, 3], [1, 2, 3, 4], 2, 2))).toEqual(['bad-shape', 'expected at least 4 predictions and targets', {}]);
    expect(refusal(() => teacherForcedExactMatch([1, 2, 3, 4], [1, 2, 3], 2, 2))[0]).toBe('bad-shape');
    expect(() => teacherForcedExactMatch([1, 2, 3, 4], [1, 2, 3, 4], 2, 2)).not.toThrow();
  });
});

describe('tokenAccuracy and bitsPerByte', () => {
  it('token accuracy over counted positions only', () => {
    expect(tokenAccuracy([1, 2, 3, 4], [1, IGNORE_INDEX, 0, 4])).toEqual({ correct: 2, total: 3, accuracy: 2 / 3 });
    expect(tokenAccuracy([1], [IGNORE_INDEX])).toEqual({ correct: 0, total: 0, accuracy: 0 });
  });

  it('bits per byte = loss · tokens / (bytes · ln 2), the validation split by default', () => {
    const task = { splitSize: (s: string) => (s === 'val' ? 100 : 900), splitBytes: (s: string) => (s === 'val' ? 250 : 2000) };
    expect(bitsPerByte(Math.LN2, task)).toBeCloseTo(100 / 250, 14);
    expect(bitsPerByte(2, task, 'train')).toBeCloseTo((2 * 900) / (2000 * Math.LN2), 14);
    const empty = { splitSize: () => 0, splitBytes: () => 0 };
    expect(refusal(() => bitsPerByte(1, empty, 'train'))).toEqual(['split-empty', 'the train split has no bytes, so bits per byte is undefined', {}]);
    expect(refusal(() => bitsPerByte(1, { splitSize: () => 1, splitBytes: () => NaN }))[1]).toBe('the val split has no bytes, so bits per byte is undefined');
  });
});
