// Edge cases of bundle.ts's JSON reading: the nesting limit (exact boundary, brackets inside
// strings), values quoted in messages whatever their size, and declared zip sizes.
import { describe, expect, it } from 'vitest';
import { CheckpointError, MAX_JSON_DEPTH, parseJsonObject, posInt, showJson } from './bundle';

const enc = new TextEncoder();
const nested = (depth: number) => `{"a":${'['.repeat(depth - 1)}1${']'.repeat(depth - 1)}}`;

function refusal(fn: () => unknown): CheckpointError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CheckpointError) return e;
    throw e;
  }
  throw new Error('expected a CheckpointError');
}

describe('parseJsonObject nesting limit', () => {
  it('accepts exactly MAX_JSON_DEPTH levels and refuses one more, naming the file and the place', () => {
    expect(parseJsonObject(enc.encode(nested(MAX_JSON_DEPTH)), 'c.json')).toHaveProperty('a');
    const e = refusal(() => parseJsonObject(enc.encode(nested(MAX_JSON_DEPTH + 1)), 'c.json'));
    expect(e.kind).toBe('json');
    expect(e.file).toBe('c.json');
    // The object's brace is level 1, so the bracket opening level 65 is character 5 + 63.
    expect(e.message).toBe(`c.json: nests deeper than ${MAX_JSON_DEPTH} levels (at character ${5 + MAX_JSON_DEPTH - 1}); no config is that deep`);
  });

  it('counts closing brackets (siblings do not add up) and skips brackets inside strings and escapes', () => {
    const siblings = `{"a":[${Array.from({ length: 200 }, () => '[[1]]').join(',')}]}`;
    expect(parseJsonObject(enc.encode(siblings), 'c.json').a).toHaveLength(200);
    const inString = `{"a":"${'['.repeat(500)}\\"${'{'.repeat(500)}","b":{"c":"\\\\"}}`;
    expect(parseJsonObject(enc.encode(inString), 'c.json').b).toEqual({ c: '\\' });
  });

  it('a 100,000-deep value is refused quickly by the same limit', () => {
    expect(refusal(() => parseJsonObject(enc.encode(nested(100_000)), 'c.json')).message).toMatch(/nests deeper than 64/);
  });
});

describe('showJson', () => {
  it('writes small values as JSON', () => {
    for (const v of [1, -0.5, true, null, 'x', ['c_attn', 'q'], { a: 1, b: [2, 3] }, [], {}]) expect(showJson(v)).toBe(JSON.stringify(v));
    expect(showJson(undefined)).toBe('nothing');
  });

  it('cuts long strings, long arrays, many keys and deep nesting short', () => {
    expect(showJson('x'.repeat(61))).toBe(JSON.stringify(`${'x'.repeat(60)}…`));
    expect(showJson('x'.repeat(60))).toBe(JSON.stringify('x'.repeat(60)));
    expect(showJson([1, 2, 3, 4, 5, 6, 7])).toBe('[1,2,3,4,5,6,… (7 items)]');
    expect(showJson([1, 2, 3, 4, 5, 6])).toBe('[1,2,3,4,5,6]');
    expect(showJson({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7 })).toBe('{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,… (7 keys)}');
    expect(showJson([[[[1]]]])).toBe('[[[[…]]]]');
    expect(showJson({ a: { b: { c: { d: 1 } } } })).toBe('{"a":{"b":{"c":{…}}}}');
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(showJson(deep)).toBe('[[[[…]]]]');
  });

  it('is what posInt quotes', () => {
    expect(refusal(() => posInt({ n: [[[[[1]]]]] }, 'n', 'c.json')).message).toBe('c.json: "n" must be a positive integer, got [[[[…]]]]');
    expect(refusal(() => posInt({}, 'n', 'c.json')).message).toBe('c.json: "n" must be a positive integer, got nothing');
    expect(refusal(() => posInt({ n: 0 }, 'n', 'c.json')).message).toMatch(/got 0$/);
    expect(refusal(() => posInt({ n: 1.5 }, 'n', 'c.json')).message).toMatch(/got 1.5$/);
    expect(posInt({ n: 1 }, 'n', 'c.json')).toBe(1);
  });
});
