// Edge cases of bundle.ts: the JSON nesting limit (exact boundary, brackets inside strings),
// values quoted in messages whatever their size, the file-map helpers' messages, and zip
// bundles damaged by hand (one message per kind of damage).
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError, crc32, MAX_JSON_DEPTH, parseJsonObject, posInt, readJsonObject, readTensorsFile, refuseUnexpected, requireFile, showJson, takeTensor, unzipFiles, zipFiles,
} from './bundle';
import { readSafetensors, writeSafetensors } from './safetensors';
import { thrown } from '../util/thrown';

const enc = new TextEncoder();
const nested = (depth: number) => `{"a":${'['.repeat(depth - 1)}1${']'.repeat(depth - 1)}}`;

const refusal = (fn: () => unknown) => thrown(CheckpointError, fn);

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

// ------------------------------------------------------------------ file map helpers, zip

describe('file map helpers', () => {
  it('requireFile names the missing file, what it is for and what is there', () => {
    const e = refusal(() => requireFile(new Map([['a.json', new Uint8Array(1)], ['b.bin', new Uint8Array(1)]]), 'config.json', 'the config'));
    expect([e.kind, e.name, e.message]).toEqual(['missing-file', 'CheckpointError', 'missing config.json (the config); the files present are a.json, b.bin']);
    expect(refusal(() => requireFile(new Map(), 'x', 'y')).message).toBe('missing x (y); the files present are none');
  });

  it('parseJsonObject: not UTF-8, not JSON, not an object', () => {
    expect(refusal(() => parseJsonObject(Uint8Array.of(0x7b, 0xff, 0x7d), 'c.json')).message).toBe('c.json: is not valid UTF-8');
    expect(refusal(() => parseJsonObject(enc.encode('{'), 'c.json')).message).toMatch(/^c\.json: is not valid JSON \(/);
    for (const t of ['null', '[1]', '3', '"s"']) expect(refusal(() => parseJsonObject(enc.encode(t), 'c.json')).message).toBe('c.json: must hold a JSON object');
    expect(readJsonObject(new Map([['c.json', enc.encode('{"a":1}')]]), 'c.json', 'x')).toEqual({ a: 1 });
  });

  it('tensors: safetensors errors renamed, missing, shape, dtype, unexpected names (first five, then a count)', () => {
    const st = writeSafetensors({ a: { shape: [2], data: Float32Array.of(1, 2) }, i: { dtype: 'I32', shape: [1], data: Int32Array.of(1) } });
    const file = readSafetensors(st);
    expect(Array.from(takeTensor(file, 'm.st', 'a', [2]))).toEqual([1, 2]);
    expect(refusal(() => takeTensor(file, 'm.st', 'b', [2])).message).toBe('m.st: missing tensor b (expected shape [2])');
    expect(refusal(() => takeTensor(file, 'm.st', 'a', [1, 2])).message).toBe('m.st: tensor a: expected shape [1,2], got [2]');
    expect(refusal(() => takeTensor(file, 'm.st', 'a', [3])).kind).toBe('shape');
    const d = refusal(() => takeTensor(file, 'm.st', 'i', [1]));
    expect([d.kind, d.tensor]).toEqual(['dtype', 'i']);
    expect(d.message).toBe('m.st: tensor i: dtype I32 is not supported (F32, F16 or BF16; convert with .float())');
    const bad = refusal(() => readTensorsFile(new Map([['m.st', st.subarray(0, 20)]]), 'm.st', 'weights'));
    expect([bad.kind, bad.file]).toEqual(['safetensors', 'm.st']);
    expect(() => refuseUnexpected(file, 'm.st', new Set(['a', 'i']), 'why')).not.toThrow();
    const one = refusal(() => refuseUnexpected(file, 'm.st', new Set(['a']), 'not in the config'));
    expect([one.kind, one.tensor, one.message]).toEqual(['tensor-unexpected', 'i', 'm.st: unexpected tensor i (not in the config)']);
    const many = readSafetensors(writeSafetensors(Object.fromEntries(['t1', 't2', 't3', 't4', 't5', 't6'].map((n) => [n, { shape: [1], data: Float32Array.of(0) }]))));
    expect(refusal(() => refuseUnexpected(many, 'm.st', new Set(), 'why')).message).toBe('m.st: unexpected tensors t1, t2, t3, t4, t5, … (6 in all) (why)');
    expect(refusal(() => refuseUnexpected(many, 'm.st', new Set(['t1', 't3', 't4', 't5', 't6']), 'why')).message).toBe('m.st: unexpected tensor t2 (why)');
  });
});

describe('zip bundles by hand', () => {
  const files = () => new Map([['config.json', enc.encode('{"a":1}'.repeat(30))], ['model.safetensors', Uint8Array.from({ length: 64 }, (_, i) => i)]]);
  const central = (z: Uint8Array) => {
    const dv = new DataView(z.buffer, z.byteOffset, z.byteLength);
    const out: number[] = [];
    for (let i = 0; i + 4 <= z.length; i++) if (dv.getUint32(i, true) === 0x02014b50) out.push(i);
    return out;
  };
  const zipError = (z: Uint8Array) => {
    const e = refusal(() => unzipFiles(z));
    expect(e.kind).toBe('zip');
    return e.message.replace(/^not a valid zip bundle: /, '');
  };

  it('crc32 of "123456789" is the standard check value; zips are byte-for-byte reproducible, weights stored', () => {
    expect(crc32(enc.encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    const a = zipFiles(files());
    expect(zipFiles(files())).toEqual(a);
    const dv = new DataView(a.buffer, a.byteOffset, a.byteLength);
    const methods = central(a).map((o) => dv.getUint16(o + 10, true));
    expect(methods).toEqual([8, 0]); // JSON deflated, safetensors stored
    // The fixed timestamp: 2024-01-01 00:00 in DOS date format.
    expect(dv.getUint16(central(a)[0] + 14, true)).toBe(((2024 - 1980) << 9) | (1 << 5) | 1);
    const back = unzipFiles(a);
    expect([...back.keys()]).toEqual(['config.json', 'model.safetensors']);
    expect(back.get('model.safetensors')).toEqual(files().get('model.safetensors'));
    // A stored entry is a copy, not a view into the archive.
    expect(back.get('model.safetensors')!.buffer).not.toBe(a.buffer);
  });

  it('a zipped folder loses its one top-level folder; two top-level names keep theirs', () => {
    const z = zipFiles(new Map([['run/a.json', enc.encode('{}')], ['run/b.json', enc.encode('{}')]]));
    expect([...unzipFiles(z).keys()]).toEqual(['a.json', 'b.json']);
    const two = zipFiles(new Map([['x/a.json', enc.encode('{}')], ['y/b.json', enc.encode('{}')]]));
    expect([...unzipFiles(two).keys()]).toEqual(['x/a.json', 'y/b.json']);
    const top = zipFiles(new Map([['x/a.json', enc.encode('{}')], ['b.json', enc.encode('{}')]]));
    expect([...unzipFiles(top).keys()]).toEqual(['x/a.json', 'b.json']);
  });

  it('refuses bad names when writing', () => {
    for (const n of ['', '/abs', 'a\\b', '../x', 'a/./b', 'a//b', 'a/..']) {
      expect(refusal(() => zipFiles(new Map([[n, new Uint8Array(0)]]))).message).toBe(`invalid file name ${JSON.stringify(n)} in a bundle`);
    }
  });

  it('names each kind of damage', () => {
    const z = zipFiles(files());
    const [c0, c1] = central(z);
    const at = (edit: (dv: DataView, b: Uint8Array) => void) => {
      const b = z.slice();
      edit(new DataView(b.buffer), b);
      return zipError(b);
    };
    expect(zipError(z.subarray(0, 21))).toBe('no end-of-central-directory record (file of 21 bytes: truncated, or not a zip)');
    const eocd = z.length - 22;
    expect(at((dv) => dv.setUint16(eocd + 10, 0xffff, true))).toBe('ZIP64 archives are not supported');
    expect(at((dv) => dv.setUint32(eocd + 16, 0xffffffff, true))).toBe('ZIP64 archives are not supported');
    expect(at((dv) => dv.setUint32(eocd + 12, dv.getUint32(eocd + 12, true) + 1, true))).toBe('central directory runs past its end record');
    expect(at((dv) => dv.setUint32(c1, 0, true))).toBe('central directory entry 1 has a bad signature');
    expect(at((dv) => dv.setUint16(c0 + 28, 0xff00, true))).toBe('central directory entry 0 is truncated');
    expect(at((_, b) => (b[c0 + 46] = 0xff))).toBe("entry 0's name is not UTF-8");
    expect(at((dv) => dv.setUint32(0, 0, true))).toBe('config.json: bad local header signature');
    expect(at((dv) => dv.setUint32(c1 + 20, z.length, true))).toBe('model.safetensors: data runs past the end of the file (truncated download?)');
    expect(at((dv) => dv.setUint32(c1 + 24, 65, true))).toBe('model.safetensors: stored entry declares 65 bytes but holds 64');
    expect(at((dv) => dv.setUint32(c0 + 24, 0x80000000, true))).toBe(`config.json: declared size 2147483648 bytes is over the 2147483647-byte limit per file`);
    const csize = new DataView(z.buffer, z.byteOffset).getUint32(c0 + 20, true);
    expect(at((dv) => dv.setUint32(c0 + 24, csize * 1032 + 65, true))).toBe(`config.json: declared size ${csize * 1032 + 65} bytes cannot come from ${csize} compressed bytes (the directory is damaged)`);
    expect(at((dv) => dv.setUint32(c0 + 24, 211, true))).toBe('config.json: expected 211 bytes, got 210');
    expect(at((dv) => dv.setUint16(c0 + 10, 12, true))).toBe('config.json: unsupported compression method 12 (stored or deflate only)');
    expect(at((dv) => dv.setUint32(c0 + 16, dv.getUint32(c0 + 16, true) ^ 1, true))).toBe('config.json: CRC-32 mismatch (the file is damaged)');
    // Compressed bytes that are not deflate (method 8 on the stored weights).
    expect(at((dv) => dv.setUint16(c1 + 10, 8, true))).toMatch(/^model\.safetensors: (compressed data is corrupt|expected 64 bytes)/);
  });

  it('skips directory entries and __MACOSX, refuses a duplicate name, and one that escapes', () => {
    // zipFiles refuses such names, so write this archive with fflate itself.
    const z = zipSync({ 'd/': new Uint8Array(0), '__MACOSX/._a.json': enc.encode('x'), 'a.json': enc.encode('{}'), 'b.json': enc.encode('{}') });
    expect([...unzipFiles(z).keys()]).toEqual(['a.json', 'b.json']);
    // Rename b.json to a.json in both headers: a duplicate.
    const dup = zipFiles(new Map([['a.json', enc.encode('{}')], ['b.json', enc.encode('{}')]])).slice();
    for (let i = 0; i + 6 <= dup.length; i++) if (new TextDecoder().decode(dup.subarray(i, i + 6)) === 'b.json') dup[i] = 0x61;
    expect(zipError(dup)).toBe('duplicate entry a.json');
    const esc = zipFiles(new Map([['aa/x.json', enc.encode('{}')], ['bb/y.json', enc.encode('{}')]])).slice();
    for (let i = 0; i + 3 <= esc.length; i++) if (new TextDecoder().decode(esc.subarray(i, i + 3)) === 'bb/') (esc[i] = 0x2e), (esc[i + 1] = 0x2e);
    expect(refusal(() => unzipFiles(esc)).message).toBe('invalid file name "../y.json" in a bundle');
  });
});
