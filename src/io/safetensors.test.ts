import { describe, expect, it } from 'vitest';
import {
  bf16ToNumber,
  f16ToNumber,
  readSafetensors,
  SafetensorsError,
  toFloat32,
  toFloat64,
  writeSafetensors,
  type SafeTensorInput,
  type SafetensorsErrorKind,
} from './safetensors';

/** A file made by hand: header text (padded to 8 with spaces unless `raw`) + buffer bytes. */
function craft(header: string, buffer: Uint8Array | number = 0, opts: { raw?: boolean; n?: bigint } = {}): Uint8Array {
  let h = new TextEncoder().encode(header);
  if (!opts.raw && h.length % 8) h = new TextEncoder().encode(header + ' '.repeat(8 - (h.length % 8)));
  const buf = typeof buffer === 'number' ? new Uint8Array(buffer) : buffer;
  const out = new Uint8Array(8 + h.length + buf.length);
  new DataView(out.buffer).setBigUint64(0, opts.n ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(buf, 8 + h.length);
  return out;
}

function refused(bytes: Uint8Array, kind: SafetensorsErrorKind, ...mentions: string[]): SafetensorsError {
  let err: unknown;
  try {
    readSafetensors(bytes);
  } catch (e) {
    err = e;
  }
  expect(err, `expected a ${kind} error`).toBeInstanceOf(SafetensorsError);
  const se = err as SafetensorsError;
  expect(se.kind, se.message).toBe(kind);
  for (const m of mentions) expect(se.message).toContain(m);
  return se;
}

const entry = (dtype: string, shape: number[], b: number, e: number) => ({ dtype, shape, data_offsets: [b, e] });

describe('safetensors round trip', () => {
  it('keeps every dtype, shape, value and the metadata', () => {
    const tensors: Record<string, SafeTensorInput> = {
      f32: { shape: [2, 3], data: Float32Array.from([0, -1.5, 3.25, NaN, Infinity, -0]) },
      f64: { shape: [3], data: Float64Array.from([Math.PI, -1e300, 5e-324]) },
      i32: { shape: [2, 2], data: Int32Array.from([-2147483648, 2147483647, 0, -7]) },
      u32: { shape: [1], data: Uint32Array.from([4294967295]) },
      i64: { shape: [2], data: BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n]) },
      u64: { shape: [1], data: BigUint64Array.from([2n ** 64n - 1n]) },
      f16: { dtype: 'F16', shape: [2], data: Uint16Array.from([0x3c00, 0xc000]) },
      bf16: { dtype: 'BF16', shape: [1, 1], data: Uint16Array.from([0x3f80]) },
      u16: { dtype: 'U16', shape: [1], data: Uint16Array.from([65535]) },
      i16: { shape: [1], data: Int16Array.from([-32768]) },
      i8: { shape: [3], data: Int8Array.from([-128, 0, 127]) },
      u8: { shape: [3], data: Uint8Array.from([1, 2, 255]) },
      bool: { dtype: 'BOOL', shape: [2], data: Uint8Array.from([1, 0]) },
      scalar: { shape: [], data: Float32Array.from([42]) },
      empty: { shape: [0, 5], data: new Float32Array(0) },
      'ünïcode ✓ 𝔵': { shape: [1], data: Float32Array.from([7]) },
    };
    // A plain literal with a "__proto__" key would set the prototype; define it as data.
    Object.defineProperty(tensors, '__proto__', { value: { shape: [1], data: Int32Array.from([9]) }, enumerable: true });
    const meta = { format: 'pt', note: 'quotes " and \\ and\nnewline', ü: 'ünï' };
    const bytes = writeSafetensors(tensors, meta);
    const back = readSafetensors(bytes);
    expect({ ...back.metadata }).toEqual(meta);
    expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const name of Object.keys(tensors)) {
      const a = tensors[name];
      const b = back.tensors[name];
      expect(b.shape, name).toEqual(a.shape);
      expect(b.data.constructor, name).toBe(a.data.constructor);
      expect(Array.from(b.data as ArrayLike<number | bigint>), name).toEqual(Array.from(a.data as ArrayLike<number | bigint>));
      if (a.dtype) expect(b.dtype).toBe(a.dtype);
    }
    expect(back.tensors.f64.dtype).toBe('F64');
    expect(back.tensors.u8.dtype).toBe('U8');
  });

  it('writes deterministically, aligned, in the reference order (dtype alignment, then name)', () => {
    const a = { zeta: { shape: [1], data: new Float32Array(1) }, alpha: { shape: [1], data: new Float32Array(1) }, w: { shape: [1], data: new Float64Array(1) }, b: { shape: [3], data: new Uint8Array(3) } };
    const b = { b: a.b, w: a.w, alpha: a.alpha, zeta: a.zeta };
    const x = writeSafetensors(a);
    expect(writeSafetensors(b)).toEqual(x);
    const n = Number(new DataView(x.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(x.subarray(8, 8 + n)));
    expect(Object.keys(header)).toEqual(['w', 'alpha', 'zeta', 'b']);
    expect(header.w.data_offsets).toEqual([0, 8]);
    expect(header.alpha.data_offsets).toEqual([8, 12]);
    expect(header.b.data_offsets).toEqual([16, 19]);
    // Name order is by UTF-8 bytes (code points), not UTF-16 units: U+FF5E < U+1D4B5.
    const y = writeSafetensors({ '𝒵': { shape: [0], data: new Float32Array(0) }, '～': { shape: [0], data: new Float32Array(0) } });
    const yn = Number(new DataView(y.buffer).getBigUint64(0, true));
    expect(Object.keys(JSON.parse(new TextDecoder().decode(y.subarray(8, 8 + yn))))).toEqual(['～', '𝒵']);
  });

  it('is byte-identical to the reference writer on its own test vectors', () => {
    // From huggingface/safetensors tensor.rs tests (test_serialization, test_empty).
    const v1 = [
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97,
      112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125,
      0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ];
    expect(Array.from(writeSafetensors({ 'attn.0': { shape: [1, 2, 3], data: Float32Array.from([0, 1, 2, 3, 4, 5]) } }))).toEqual(v1);
    expect(Array.from(writeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    const v3 = [
      40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34,
      58, 34, 112, 116, 34, 125, 125, 32, 32, 32, 32, 32,
    ];
    expect(Array.from(writeSafetensors({}, { framework: 'pt' }))).toEqual(v3);
    const back = readSafetensors(Uint8Array.from(v1));
    expect(Array.from(back.tensors['attn.0'].data as Float32Array)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('reads a file at an odd byte offset, headers in any key order, and JSON whitespace padding', () => {
    const data = new Uint8Array(new Float32Array([1, 2]).buffer);
    const inner = craft(JSON.stringify({ b: entry('F32', [1], 4, 8), __metadata__: { k: 'v' }, a: entry('F32', [1], 0, 4) }) + '\n\t ', data, { raw: true });
    const big = new Uint8Array(inner.length + 3);
    big.set(inner, 3);
    const f = readSafetensors(big.subarray(3));
    expect(Array.from(f.tensors.a.data as Float32Array)).toEqual([1]);
    expect(Array.from(f.tensors.b.data as Float32Array)).toEqual([2]);
    expect(Object.keys(f.tensors)).toEqual(['a', 'b']); // offset order
    expect(f.metadata.k).toBe('v');
  });

  it('converts F16, BF16, F64 and integers to float', () => {
    expect(f16ToNumber(0x3c00)).toBe(1);
    expect(f16ToNumber(0xc000)).toBe(-2);
    expect(f16ToNumber(0x7bff)).toBe(65504);
    expect(f16ToNumber(0x0001)).toBe(2 ** -24);
    expect(f16ToNumber(0x7c00)).toBe(Infinity);
    expect(f16ToNumber(0x7e00)).toBeNaN();
    expect(bf16ToNumber(0x3f80)).toBe(1);
    expect(bf16ToNumber(0xc049)).toBe(-3.140625);
    expect(Array.from(toFloat32({ dtype: 'F16', shape: [2], data: Uint16Array.from([0x3555, 0x8000]) }))).toEqual([Math.fround(0.333251953125), -0]);
    expect(Array.from(toFloat64({ dtype: 'I64', shape: [2], data: BigInt64Array.from([-5n, 7n]) }))).toEqual([-5, 7]);
    const f = Float32Array.from([1.5]);
    expect(toFloat32({ dtype: 'F32', shape: [1], data: f })).toBe(f);
  });
});

describe('safetensors refuses malformed files', () => {
  const ok = JSON.stringify({ x: entry('F32', [2], 0, 8) });

  it('too short, header too large, header past the end', () => {
    refused(new Uint8Array(5), 'header-too-small', '5 bytes');
    refused(craft(ok, 8, { n: 100_000_001n }), 'header-too-large', '100000001');
    refused(craft(ok, 8, { n: 2n ** 64n - 1n }), 'header-too-large');
    refused(craft(ok, 0, { n: 1000n }), 'header-length', '1000');
  });

  it('invalid UTF-8, a BOM, a header not starting with {', () => {
    const bad = craft(ok, 8);
    bad[8 + 3] = 0xff; // inside the tensor name
    refused(bad, 'header-utf8');
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(ok)]);
    const withBom = new Uint8Array(8 + bom.length + 8);
    new DataView(withBom.buffer).setBigUint64(0, BigInt(bom.length), true);
    withBom.set(bom, 8);
    refused(withBom, 'header-start');
    refused(craft(' ' + ok, 8), 'header-start');
    refused(craft('[1,2]', 0), 'header-start');
  });

  it('invalid JSON', () => {
    for (const h of ['{', '{"x":}', '{"x":{"dtype":"F32",}}', "{'x':1}", '{"x":1} trailing', '{"a":"\u0001"}', '{"a":"\\x"}', '{"a":"\\ud800"}', '{"a":01}', '{"a":NaN}']) {
      refused(craft(h, 0), 'header-json');
    }
    refused(craft('{"a":' + '['.repeat(200) + ']'.repeat(200) + '}', 0), 'header-json', 'deeper');
    refused(craft('{"x":1}', 0), 'tensor-info', '"x"');
  });

  it('duplicate keys, at the top and inside an entry', () => {
    refused(craft(`{"x":${JSON.stringify(entry('F32', [1], 0, 4))},"x":${JSON.stringify(entry('F32', [1], 4, 8))}}`, 8), 'duplicate-key', '"x"');
    const e = refused(craft('{"x":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 8), 'duplicate-key', '"dtype"', 'tensor "x"');
    expect(e.tensor).toBe('x');
    refused(craft('{"__metadata__":{"a":"1","a":"2"}}', 0), 'duplicate-key', '__metadata__');
  });

  it('metadata that is not a string→string map', () => {
    refused(craft('{"__metadata__":{"a":1}}', 0), 'metadata', '"a"');
    refused(craft('{"__metadata__":["a"]}', 0), 'metadata');
    refused(craft('{"__metadata__":{"a":{"b":"c"}}}', 0), 'metadata');
  });

  it('gaps, overlaps, reversed offsets, trailing bytes, offsets past the end', () => {
    const two = (a: [number, number], b: [number, number]) => JSON.stringify({ a: entry('F32', [1], ...a), b: entry('F32', [1], ...b) });
    refused(craft(two([0, 4], [8, 12]), 12), 'offsets', '"b"', 'gap', '[4, 8)');
    refused(craft(two([0, 4], [4, 8]).replace('"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}', '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}'), 8), 'offsets', 'overlap', '"a"');
    refused(craft(two([4, 8], [0, 4]), 12), 'trailing', '4 trailing bytes');
    refused(craft(JSON.stringify({ a: entry('F32', [0], 4, 0) }), 4), 'offsets', 'end before begin', '"a"');
    refused(craft(JSON.stringify({ a: entry('F32', [2], 0, 8) }), 4), 'offsets', 'past the end', '"a"');
    refused(craft(ok, 9), 'trailing', '1 trailing');
    refused(craft(JSON.stringify({ a: entry('F32', [1], 1, 5) }), 5), 'offsets', 'gap', '"a"');
  });

  it('size ≠ prod(shape)·itemsize', () => {
    refused(craft(JSON.stringify({ w: entry('F32', [2, 3], 0, 20) }), 20), 'size', '"w"', '24', '20');
    refused(craft(JSON.stringify({ w: entry('F64', [2], 0, 8) }), 8), 'size', '"w"');
  });

  it('unknown dtypes, bad shapes, missing or unknown fields', () => {
    refused(craft(JSON.stringify({ w: entry('F128', [1], 0, 16) }), 16), 'dtype', '"w"', 'F128');
    refused(craft(JSON.stringify({ w: entry('float32', [1], 0, 4) }), 4), 'dtype', '"w"');
    refused(craft(JSON.stringify({ w: entry('F32', [-1], 0, 4) }), 4), 'shape', '"w"', 'negative');
    refused(craft('{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}', 4), 'shape', '"w"', 'not an integer');
    refused(craft('{"w":{"dtype":"F32","shape":[1e0],"data_offsets":[0,4]}}', 4), 'shape', '"w"', 'not an integer');
    refused(craft('{"w":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}', 4), 'shape', '"w"');
    refused(craft('{"w":{"dtype":"F32","shape":1,"data_offsets":[0,4]}}', 4), 'shape', '"w"');
    refused(craft('{"w":{"dtype":"F32","shape":[99999999999,99999999999],"data_offsets":[0,4]}}', 4), 'shape', '"w"', 'too large');
    refused(craft('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}', 4), 'offsets', '"w"');
    refused(craft('{"w":{"dtype":"F32","shape":[1],"data_offsets":[-0,4]}}', 4), 'offsets', '"w"', 'negative');
    refused(craft('{"w":{"dtype":"F32","shape":[1]}}', 4), 'tensor-info', '"w"', 'data_offsets');
    refused(craft('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}', 4), 'tensor-info', '"w"', 'extra');
  });
});

describe('safetensors writer refuses bad input', () => {
  const bad = (t: Record<string, SafeTensorInput>, kind: SafetensorsErrorKind, mention: string) => {
    let err: unknown;
    try {
      writeSafetensors(t);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SafetensorsError);
    expect((err as SafetensorsError).kind).toBe(kind);
    expect((err as SafetensorsError).message).toContain(mention);
  };
  it('names the tensor and the problem', () => {
    bad({ q: { shape: [2, 3], data: new Float32Array(5) } }, 'size', '"q"');
    bad({ q: { dtype: 'F32', shape: [2], data: new Float64Array(2) } }, 'dtype', 'Float32Array');
    bad({ q: { shape: [2], data: new Uint16Array(2) } }, 'dtype', 'U16, F16 or BF16');
    bad({ q: { shape: [-2], data: new Float32Array(0) } }, 'shape', '"q"');
    bad({ q: { shape: [1.5], data: new Float32Array(1) } }, 'shape', '"q"');
    bad({ __metadata__: { shape: [1], data: new Float32Array(1) } }, 'name', '__metadata__');
    bad({ '\ud800': { shape: [1], data: new Float32Array(1) } }, 'name', 'Unicode');
    bad({ m: { dtype: 'BOOL', shape: [1], data: Uint8Array.from([2]) } }, 'dtype', 'BOOL');
    expect(() => writeSafetensors({}, { a: 1 as unknown as string })).toThrow(SafetensorsError);
  });
});
