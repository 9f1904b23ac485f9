// safetensors edge cases the round-trip tests leave open (found by mutation testing,
// docs/TESTING.md): the strict JSON parser's every branch and message, the length checks at
// their exact boundaries, the streaming reader's reads and range checks, the writer's order
// and refusals, and the float conversions on hand-worked values.
import { describe, expect, it } from 'vitest';
import { thrown, rejected } from '../util/thrown';
import {
  bf16ToFloat32,
  f16ToFloat32,
  firstNonFinite,
  float32ToBf16Bits,
  float32ToF16Bits,
  itemSize,
  MAX_HEADER_SIZE,
  openSafetensors,
  type RandomAccess,
  readHeaderLength,
  readSafetensors,
  SafetensorsError,
  type SafetensorsErrorKind,
  type SafeTensorInput,
  toFloat32,
  toFloat64,
  writeSafetensors,
} from './safetensors';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A file from header text (padded with spaces to 8) and `buffer` data bytes. */
function craft(header: string, buffer = 0): Uint8Array {
  const pad = (8 - (enc.encode(header).length % 8)) % 8;
  const h = enc.encode(header + ' '.repeat(pad));
  const out = new Uint8Array(8 + h.length + buffer);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

function refused(bytes: Uint8Array, kind: SafetensorsErrorKind): SafetensorsError {
  const e = thrown(SafetensorsError, () => readSafetensors(bytes));
  expect(e.kind, e.message).toBe(kind);
  return e;
}

/** The message of a header-json refusal, without the common prefix and position. */
const jsonError = (header: string) => {
  const e = refused(craft(header), 'header-json');
  return e.message.replace(/^safetensors: header is not valid JSON: /, '').replace(/ at character \d+$/, '');
};

const f32entry = (b: number, e: number, shape = '[1]') => `{"dtype":"F32","shape":${shape},"data_offsets":[${b},${e}]}`;
/** The header key order of a written file. */
function headerKeys(bytes: Uint8Array): string[] {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return Object.keys(JSON.parse(dec.decode(bytes.subarray(8, 8 + n))));
}
const headerText = (bytes: Uint8Array) => dec.decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true)))).trimEnd();

describe('the header length', () => {
  const len = (n: number) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
    return b;
  };
  it('is refused when the file or the first read is shorter than 8 bytes', () => {
    expect(thrown(SafetensorsError, () => readHeaderLength(len(0), 7)).kind).toBe('header-too-small');
    expect(thrown(SafetensorsError, () => readHeaderLength(new Uint8Array(7), 100)).kind).toBe('header-too-small');
    // Exactly 8 bytes with N = 0 passes this check (the header check then refuses it).
    expect(readHeaderLength(len(0), 8)).toBe(0);
    expect(readHeaderLength(len(4), 12)).toBe(4);
  });
  it('accepts exactly the limit and says how much the file allows', () => {
    const e = thrown(SafetensorsError, () => readHeaderLength(len(MAX_HEADER_SIZE), 1000));
    expect(e.kind).toBe('header-length'); // not 'header-too-large': N = the limit is allowed
    expect(e.message).toBe(`safetensors: header length ${MAX_HEADER_SIZE} goes past the end of the file (1000 bytes, so at most 992)`);
    expect(thrown(SafetensorsError, () => readHeaderLength(len(MAX_HEADER_SIZE + 1), 1000)).kind).toBe('header-too-large');
    expect(readHeaderLength(len(992), 1000)).toBe(992);
  });
});

describe('header text', () => {
  it('names the problem: UTF-8, an empty header, the first character, not-an-object', () => {
    const bad = craft('{"\xff"}');
    bad.set([0xff], 10);
    expect(refused(bad, 'header-utf8').message).toBe('safetensors: header is not valid UTF-8');
    expect(refused(craft(''), 'header-start').message).toBe("safetensors: header must begin with '{', found an empty header");
    expect(refused(craft(' {}'), 'header-start').message).toBe(`safetensors: header must begin with '{', found " "`);
  });
  it('an empty object and an empty metadata map are a file with no tensors', () => {
    for (const h of ['{}', '{"__metadata__":{}}', '{ }', '{"__metadata__":{ }}']) {
      const f = readSafetensors(craft(h));
      expect(Object.keys(f.tensors)).toEqual([]);
      expect(Object.keys(f.metadata)).toEqual([]);
    }
  });
  it('JSON whitespace (space, tab, CR, LF) anywhere between tokens', () => {
    const h = '{ \r\n\t"a" \r\n: \t{ "dtype" : "F32" , "shape" : [ 1 , 1 ] , "data_offsets" : [ 0 , 4 ] } ,\r"s" : { "dtype" : "F32" , "shape" : [ ] , "data_offsets" : [ 4 , 8 ] } , "__metadata__" : { "k" : "v" } \r\n}';
    const f = readSafetensors(craft(h, 8));
    expect(f.tensors.a.shape).toEqual([1, 1]);
    expect(f.tensors.s.shape).toEqual([]);
    expect(f.metadata.k).toBe('v');
  });
  it('__metadata__ that is not an object, or holds a non-string, says so', () => {
    for (const h of ['{"__metadata__":"x"}', '{"__metadata__":["a"]}', '{"__metadata__":1}']) {
      expect(refused(craft(h), 'metadata').message).toBe('safetensors: __metadata__ must be an object mapping strings to strings');
    }
    const found = (v: string) => refused(craft(`{"__metadata__":{"k":${v}}}`), 'metadata').message.replace('safetensors: __metadata__["k"] must be a string, found ', '');
    for (const [input, want] of [
      ['true', 'true'],
      ['false', 'false'],
      ['null', 'null'],
      ['12', 'the number 12'],
      ['-0.5e+3', 'the number -0.5e+3'],
      ['{}', 'an object'],
      ['[]', 'an array'],
    ]) expect(found(input), input).toBe(want);
  });
  it('a tensor entry of the wrong type is described', () => {
    const found = (v: string) => refused(craft(`{"x":${v}}`), 'tensor-info').message.replace('safetensors: tensor "x": entry must be an object {dtype, shape, data_offsets}, found ', '');
    for (const [input, want] of [
      ['1', 'the number 1'],
      ['null', 'null'],
      ['true', 'true'],
      ['[]', 'an array'],
      ['"abc"', 'the string "abc"'],
      // Strings over 40 characters are cut there (40 exactly are shown whole).
      [`"${'a'.repeat(40)}"`, `the string "${'a'.repeat(40)}"`],
      [`"${'b'.repeat(41)}"`, `the string "${'b'.repeat(40)}…"`],
    ]) expect(found(input), input).toBe(want);
  });
});

describe('the strict JSON parser', () => {
  it('names each syntax error', () => {
    expect(refused(craft('{"abcdef'), 'header-json').message).toBe('safetensors: header is not valid JSON: unterminated string at character 8');
    for (const [input, want] of [
      ['{"abc', 'unterminated string'],
      ['{"a\u0001":1}', 'control character in string'],
      ['{"a":"\\x"}', 'invalid escape \\x'],
      ['{"ab":"\\', 'invalid escape \\'], // 8 bytes: no padding after the backslash
      ['{"a":"\\u00zz"}', 'invalid \\u escape'],
      ['{"a":"\\u12"}', 'invalid \\u escape'],
      ['{"a":1,}', 'expected a string key'],
      ['{1:2}', 'expected a string key'],
      ['{"a" 1}', "expected ':'"],
      ['{"a":1 "b":2}', "expected ',' or '}'"],
      ['{"a":[1 2]}', "expected ',' or ']'"],
      ['{"a":[1,]}', 'unexpected "]"'],
      ['{"a":-}', 'invalid number'],
      ['{"a":-"1"}', 'invalid number'],
      ['{"a":x}', 'unexpected "x"'],
      ['{"a":+1}', 'unexpected "+"'],
      ['{"a":tru}', 'unexpected "t"'],
      ['{"a":', 'unexpected end'],
      ['{"a":1}}', 'unexpected text after the header object'],
    ]) expect(jsonError(input), input).toBe(want);
  });
  it('lone UTF-16 surrogates in \\u escapes are refused; pairs and their neighbours are read', () => {
    for (const s of ['\\ud800xudc00', '\\ud800x', '\\ud800\\n', '\\ud800\\u0041', '\\udbff\\ue000', '\\ud800\\udbff', '\\udc00', '\\udfff', '\\ud800']) {
      expect(jsonError(`{"__metadata__":{"k":"${s}"}}`), s).toBe('lone surrogate in \\u escape');
    }
    const meta = (s: string) => readSafetensors(craft(`{"__metadata__":{"k":"${s}"}}`)).metadata.k;
    expect(meta('\\ud835\\udcb5')).toBe('𝒵');
    expect(meta('\\ud800\\udc00')).toBe('\u{10000}');
    expect(meta('\\udbff\\udfff')).toBe('\u{10ffff}');
    expect(meta('\\ud7ff|\\ue000|\\u0041|\\uABcd')).toBe('\ud7ff|\ue000|A|\uabcd');
    expect(meta('x\\"\\\\\\/\\b\\f\\n\\r\\ty')).toBe('x"\\/\b\f\n\r\ty');
  });
  it('escapes in tensor names name the tensor as decoded', () => {
    const f = readSafetensors(craft(`{"\\u0041\\n":${f32entry(0, 4)}}`, 4));
    expect(Object.keys(f.tensors)).toEqual(['A\n']);
  });
  it('numbers: the whole token is taken (fraction, exponent sign, several exponent digits)', () => {
    const shapeError = (d: string) => refused(craft(`{"w":${f32entry(0, 4, `[${d}]`)}}`, 4), 'shape').message;
    expect(shapeError('1.25')).toContain('not an integer (1.25)');
    expect(shapeError('1e+5')).toContain('not an integer (1e+5)');
    expect(shapeError('1E-5')).toContain('not an integer (1E-5)');
    expect(shapeError('1e10')).toContain('not an integer (1e10)');
  });
  it('nesting: 128 levels parse, 129 are refused, in arrays and in objects', () => {
    // The root object is level 0; "a"'s value is level 1.
    expect(refused(craft(`{"a":${'['.repeat(128)}${']'.repeat(128)}}`), 'tensor-info').message).toContain('found an array');
    expect(jsonError(`{"a":${'['.repeat(129)}${']'.repeat(129)}}`)).toBe('nesting deeper than 128');
    expect(refused(craft(`{"a":${'{"b":'.repeat(127)}1${'}'.repeat(127)}}`), 'tensor-info').message).toContain('unknown field "b"');
    expect(jsonError(`{"a":${'{"b":'.repeat(200)}1${'}'.repeat(200)}}`)).toBe('nesting deeper than 128');
  });
  it('duplicate keys say where: top level, a tensor entry, __metadata__', () => {
    const dup = (h: string) => {
      const e = refused(craft(h), 'duplicate-key');
      return { message: e.message, tensor: e.tensor };
    };
    expect(dup(`{"x":${f32entry(0, 4)},"x":${f32entry(0, 4)}}`)).toEqual({ message: 'safetensors: header has duplicate key "x"', tensor: 'x' });
    expect(dup('{"x":{"shape":[],"shape":[]}}')).toEqual({ message: 'safetensors: header has duplicate key "shape" inside tensor "x"', tensor: 'x' });
    expect(dup('{"__metadata__":{"a":"1","a":"2"}}')).toEqual({ message: 'safetensors: header has duplicate key "a" inside __metadata__', tensor: '__metadata__' });
  });
});

describe('tensor entries', () => {
  const info = (entry: string) => refused(craft(`{"w":${entry}}`, 4), 'tensor-info').message.replace('safetensors: tensor "w": ', '');
  it('names exactly the missing fields', () => {
    expect(info('{"shape":[1],"data_offsets":[0,4]}')).toBe('missing dtype');
    expect(info('{"dtype":"F32","data_offsets":[0,4]}')).toBe('missing shape');
    expect(info('{"dtype":"F32","shape":[1]}')).toBe('missing data_offsets');
    expect(info('{}')).toBe('missing dtype, shape, data_offsets');
  });
  it('a dtype that is not a string, with the supported list', () => {
    const e = refused(craft(`{"w":{"dtype":5,"shape":[1],"data_offsets":[0,4]}}`, 4), 'dtype');
    expect(e.message).toBe('safetensors: tensor "w": unsupported dtype the number 5 (supported: BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64)');
    expect(e.tensor).toBe('w');
    expect(refused(craft(`{"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}`, 4), 'dtype').message).toContain('unsupported dtype "f32" (supported: BOOL, U8,');
  });
  it('the end offset: negative, too large', () => {
    const e = refused(craft('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,-4]}}', 4), 'offsets');
    expect(e.message).toBe('safetensors: tensor "w": data_offsets[1] is negative (-4)');
    expect(refused(craft('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999]}}', 4), 'offsets').message).toBe(
      'safetensors: tensor "w": data_offsets[1] is too large (99999999999999999999)',
    );
  });
  it('the size message gives the span and the need', () => {
    expect(refused(craft(`{"w":${f32entry(0, 20, '[2,3]')}}`, 20), 'size').message).toBe(
      'safetensors: tensor "w": data_offsets [0, 20] span 20 bytes, but shape [2,3] of F32 needs 6·4 = 24',
    );
  });
  it('the span is end − begin also for a tensor that does not start at 0', () => {
    expect(refused(craft(`{"a":${f32entry(0, 4)},"w":${f32entry(4, 12, '[3]')}}`, 12), 'size').message).toBe(
      'safetensors: tensor "w": data_offsets [4, 12] span 8 bytes, but shape [3] of F32 needs 3·4 = 12',
    );
  });
  it('zero-size tensors may share the offset of the next one, in any header order', () => {
    const f = readSafetensors(craft(`{"a":${f32entry(0, 4)},"z":${f32entry(0, 0, '[0]')},"m":${f32entry(4, 4, '[0]')}}`, 4));
    expect(Object.keys(f.tensors)).toEqual(['z', 'a', 'm']);
  });
  it('the error class is named', () => {
    expect(refused(craft(''), 'header-start').name).toBe('SafetensorsError');
  });
});

describe('read data', () => {
  it('readSafetensors copies: changing the input afterwards changes no tensor', () => {
    const bytes = writeSafetensors({ w: { shape: [2], data: Float32Array.from([1, 2]) } });
    const f = readSafetensors(bytes);
    bytes.fill(0xff, bytes.length - 8);
    expect(Array.from(f.tensors.w.data as Float32Array)).toEqual([1, 2]);
    expect(f.tensors.w.data.buffer).not.toBe(bytes.buffer);
  });
  it('itemSize per dtype', () => {
    expect(['BOOL', 'U8', 'I8', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'].map((d) => itemSize(d as never))).toEqual([1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 8, 8, 8]);
  });
});

describe('openSafetensors (positioned reads)', () => {
  const file = writeSafetensors({
    m: { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    e: { shape: [0], data: new Float32Array(0) },
    h: { dtype: 'F16', shape: [3], data: Uint16Array.from([0x3c00, 0x4000, 0xc000]) },
  });
  /** A source over `bytes` that logs its reads; `shift` returns each read at an odd byte offset of a bigger buffer. */
  const source = (bytes: Uint8Array, opts: { shift?: number; short?: boolean } = {}) => {
    const reads: [number, number][] = [];
    const returned: Uint8Array[] = [];
    const src: RandomAccess = {
      name: 'w.safetensors',
      size: bytes.length,
      async read(offset, length) {
        reads.push([offset, length]);
        let b = bytes.slice(offset, offset + length - (opts.short ? 1 : 0));
        if (opts.shift) {
          const big = new Uint8Array(b.length + opts.shift);
          big.set(b, opts.shift);
          b = big.subarray(opts.shift);
        }
        returned.push(b);
        return b;
      },
    };
    return { src, reads, returned };
  };
  const dataStart = readSafetensors(file) && 8 + Number(new DataView(file.buffer).getBigUint64(0, true));

  it('reads the length, then the header, then exactly the bytes asked for', async () => {
    const { src, reads, returned } = source(file);
    const st = await openSafetensors(src);
    expect(reads).toEqual([[0, 8], [8, dataStart - 8]]);
    expect(st.header.dataStart).toBe(dataStart);
    expect(Object.keys(st.info).sort()).toEqual(['e', 'h', 'm']);
    const m = await st.readTensor('m');
    expect(m.shape).toEqual([2, 3]);
    expect(m.dtype).toBe('F32');
    expect(Array.from(m.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    const mAt = dataStart + st.info.m.begin;
    expect(reads[2]).toEqual([mAt, 24]);
    // An aligned read it owns is used as it is, not copied again.
    expect(m.data.buffer).toBe(returned[2].buffer);
    const part = await st.readElements('m', 2, 3);
    expect(part.shape).toEqual([3]);
    expect(Array.from(part.data as Float32Array)).toEqual([3, 4, 5]);
    expect(reads[3]).toEqual([mAt + 8, 12]);
    const h = await st.readElements('h', 1, 2);
    expect(Array.from(h.data as Uint16Array)).toEqual([0x4000, 0xc000]);
    expect(reads[4]).toEqual([dataStart + st.info.h.begin + 2, 4]);
    const whole = await st.readElements('m', 0, 6);
    expect(whole.shape).toEqual([2, 3]);
    const first = await st.readElements('m', 0, 2);
    expect(first.shape).toEqual([2]);
    const tail = await st.readElements('m', 4, 2);
    expect(Array.from(tail.data as Float32Array)).toEqual([5, 6]);
    // A zero-size tensor reads nothing.
    const n = reads.length;
    const e = await st.readTensor('e');
    expect(e.shape).toEqual([0]);
    expect(e.data.length).toBe(0);
    expect(reads.length).toBe(n);
  });
  it('reads returned at an unaligned byte offset are copied into aligned arrays', async () => {
    const { src, returned } = source(file, { shift: 1 });
    const st = await openSafetensors(src);
    const m = await st.readTensor('m');
    expect(Array.from(m.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(m.data.buffer).not.toBe(returned.at(-1)!.buffer);
    expect(Array.from((await st.readElements('m', 1, 1)).data as Float32Array)).toEqual([2]);
    // At offset 4 a float32 is aligned: used in place.
    const four = source(file, { shift: 4 });
    const m4 = await (await openSafetensors(four.src)).readTensor('m');
    expect(m4.data.buffer).toBe(four.returned.at(-1)!.buffer);
    expect(m4.data.byteOffset).toBe(4);
  });
  it('refuses ranges outside the tensor and tensors not in the file', async () => {
    const { src, reads } = source(file);
    const st = await openSafetensors(src);
    const n = reads.length;
    for (const [s, c] of [
      [-1, 1],
      [0, -1],
      [5, 2],
      [6, 1],
      [7, 0],
    ]) {
      const e = await rejected(RangeError, st.readElements('m', s, c));
      expect(e.message).toBe(`elements [${s}, ${s + c}) of tensor m (6 elements)`);
    }
    expect(reads.length).toBe(n);
    expect((await st.readElements('m', 6, 0)).data.length).toBe(0);
    // 'h' does not start at offset 0 of the buffer: its element count is (end − begin) / 2.
    expect(st.info.h.begin).toBeGreaterThan(0);
    await rejected(RangeError, st.readElements('h', 2, 2));
    const h = await st.readTensor('h');
    expect(h.shape).toEqual([3]);
    expect(Array.from(h.data as Uint16Array)).toEqual([0x3c00, 0x4000, 0xc000]);
    for (const p of [st.readTensor('nope'), st.readElements('nope', 0, 0)]) {
      const e = await rejected(SafetensorsError, p);
      expect(e.kind).toBe('tensor-info');
      expect(e.message).toBe('safetensors: no tensor "nope" in the file');
      expect(e.tensor).toBe('nope');
    }
  });
  it('a file under 8 bytes is refused without a read; exactly 8 is read', async () => {
    const small = source(new Uint8Array(7));
    expect((await rejected(SafetensorsError, openSafetensors(small.src))).kind).toBe('header-too-small');
    expect(small.reads).toEqual([]);
    const eight = source(new Uint8Array(8));
    expect((await rejected(SafetensorsError, openSafetensors(eight.src))).kind).toBe('header-start');
    expect(eight.reads).toEqual([[0, 8]]);
  });
  it('a short read is an error naming the file, the read and what came back', async () => {
    const { src } = source(file, { short: true });
    const e = await rejected(SafetensorsError, openSafetensors(src));
    expect(e.kind).toBe('offsets');
    expect(e.message).toBe('safetensors: w.safetensors: read of 8 bytes at offset 0 returned 7 (the file changed or is truncated)');
  });
});

describe('the writer', () => {
  it('orders dtypes widest first, in the reference order, then names by code point', () => {
    const t: Record<string, SafeTensorInput> = {
      bool: { dtype: 'BOOL', shape: [1], data: Uint8Array.from([1]) },
      u8: { shape: [1], data: new Uint8Array(1) },
      i8: { shape: [1], data: new Int8Array(1) },
      i16: { shape: [1], data: new Int16Array(1) },
      u16: { dtype: 'U16', shape: [1], data: new Uint16Array(1) },
      f16: { dtype: 'F16', shape: [1], data: new Uint16Array(1) },
      bf16: { dtype: 'BF16', shape: [1], data: new Uint16Array(1) },
      i32: { shape: [1], data: new Int32Array(1) },
      u32: { shape: [1], data: new Uint32Array(1) },
      f32: { shape: [1], data: new Float32Array(1) },
      f64: { shape: [1], data: new Float64Array(1) },
      i64: { shape: [1], data: new BigInt64Array(1) },
      u64: { shape: [1], data: new BigUint64Array(1) },
    };
    expect(headerKeys(writeSafetensors(t))).toEqual(['u64', 'i64', 'f64', 'f32', 'u32', 'i32', 'bf16', 'f16', 'u16', 'i16', 'i8', 'u8', 'bool']);
    const z = (): SafeTensorInput => ({ shape: [0], data: new Float32Array(0) });
    expect(headerKeys(writeSafetensors({ ac: z(), ab: z(), abc: z(), a: z(), b: z() }))).toEqual(['a', 'ab', 'abc', 'ac', 'b']);
  });
  it('writes metadata keys in code point order', () => {
    expect(headerText(writeSafetensors({}, { b: '1', a: '2', '𝒵': '3', '～': '4' }))).toBe('{"__metadata__":{"a":"2","b":"1","～":"4","𝒵":"3"}}');
  });
  it('refuses metadata that is not a string or not valid Unicode', () => {
    const bad = (m: Record<string, unknown>) => {
      const e = thrown(SafetensorsError, () => writeSafetensors({}, m as Record<string, string>));
      expect(e.kind).toBe('metadata');
      return e.message;
    };
    expect(bad({ n: 1 })).toBe('safetensors: __metadata__["n"] must be a string, got number');
    expect(bad({ v: '\ud800' })).toBe('safetensors: __metadata__["v"] is not valid Unicode');
    expect(bad({ '\udc00': 'x' })).toContain('is not valid Unicode');
  });
  it('refuses unknown dtypes and data of no typed-array class', () => {
    const bad = (t: SafeTensorInput) => {
      const e = thrown(SafetensorsError, () => writeSafetensors({ q: t }));
      expect(e.kind).toBe('dtype');
      expect(e.tensor).toBe('q');
      return e.message;
    };
    expect(bad({ dtype: 'F128' as never, shape: [1], data: new Float32Array(1) })).toBe('safetensors: tensor "q": unsupported dtype "F128"');
    expect(bad({ dtype: 'F32', shape: [1], data: null as never })).toBe('safetensors: tensor "q": dtype F32 needs a Float32Array, got a object');
    expect(bad({ dtype: 'F32', shape: [1], data: Object.create(null) })).toBe('safetensors: tensor "q": dtype F32 needs a Float32Array, got a object');
    expect(bad({ dtype: 'F32', shape: [1], data: [1] as never })).toBe('safetensors: tensor "q": dtype F32 needs a Float32Array, got a Array');
    expect(bad({ dtype: 'BOOL', shape: [2], data: Uint8Array.from([0, 2]) })).toBe('safetensors: tensor "q": BOOL data must hold only 0 and 1');
  });
  it('a header of exactly the size limit is written; one padded past it is refused', () => {
    // '{"__metadata__":{"k":"' + value + '"}}' is 25 bytes + the value.
    const withHeader = (bytes: number) => ({ k: 'x'.repeat(bytes - 25) });
    const ok = writeSafetensors({}, withHeader(MAX_HEADER_SIZE - 7)); // padded by 7 to the limit
    expect(Number(new DataView(ok.buffer).getBigUint64(0, true))).toBe(MAX_HEADER_SIZE);
    const e = thrown(SafetensorsError, () => writeSafetensors({}, withHeader(MAX_HEADER_SIZE + 1)));
    expect(e.kind).toBe('header-too-large');
    expect(e.message).toBe(`safetensors: header would be ${MAX_HEADER_SIZE + 8} bytes, over the ${MAX_HEADER_SIZE}-byte limit`);
  });
});

describe('float conversions', () => {
  const f32 = (x: number) => Math.fround(x);
  it('float32ToF16Bits: normals, rounding to nearest even, overflow, subnormals, underflow, NaN', () => {
    expect(float32ToF16Bits(1)).toBe(0x3c00);
    expect(float32ToF16Bits(-2)).toBe(0xc000);
    expect(float32ToF16Bits(65504)).toBe(0x7bff);
    expect(float32ToF16Bits(65520)).toBe(0x7c00); // halfway to 2^16 rounds up to Inf
    expect(float32ToF16Bits(65519)).toBe(0x7bff);
    expect(float32ToF16Bits(1e6)).toBe(0x7c00);
    // 2^16 ≤ v < 2^17 has half exponent 31 exactly: Inf, not a NaN pattern.
    expect(float32ToF16Bits(70000)).toBe(0x7c00);
    expect(float32ToF16Bits(-131071)).toBe(0xfc00);
    expect(float32ToF16Bits(65536)).toBe(0x7c00);
    expect(float32ToF16Bits(-Infinity)).toBe(0xfc00);
    expect(float32ToF16Bits(NaN) & 0x7fff).toBe(0x7e00);
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: to even (1); 1 + 3·2^-11 → 1 + 2·2^-10.
    expect(float32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(float32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(float32ToF16Bits(f32(1 + 2 ** -11 + 2 ** -20))).toBe(0x3c01);
    expect(float32ToF16Bits(f32(1 + 2 ** -11 - 2 ** -20))).toBe(0x3c00);
    // Subnormals: 2^-24 is the smallest; half of it ties to even (0); just above rounds up.
    expect(float32ToF16Bits(2 ** -24)).toBe(0x0001);
    expect(float32ToF16Bits(2 ** -25)).toBe(0x0000);
    expect(float32ToF16Bits(f32(2 ** -25 * 1.5))).toBe(0x0001);
    expect(float32ToF16Bits(3 * 2 ** -25)).toBe(0x0002); // 1.5 ulp: tie to even
    expect(float32ToF16Bits(5 * 2 ** -25)).toBe(0x0002); // 2.5 ulp: tie to even
    expect(float32ToF16Bits(-(2 ** -26))).toBe(0x8000);
    // Far below: the shift would pass 32 bits (JS shifts wrap), so these must be cut off first.
    expect(float32ToF16Bits(1e-10)).toBe(0x0000);
    expect(float32ToF16Bits(2 ** -40)).toBe(0x0000);
    expect(float32ToF16Bits(-1e-30)).toBe(0x8000);
    expect(float32ToF16Bits(2 ** -30)).toBe(0x0000);
    expect(float32ToF16Bits(2 ** -14)).toBe(0x0400); // smallest normal
    expect(float32ToF16Bits(2 ** -14 - 2 ** -24)).toBe(0x03ff); // largest subnormal
    expect(float32ToF16Bits(2 ** -15)).toBe(0x0200);
  });
  it('F16 decoding: every half back through float32ToF16Bits, and f16ToFloat32', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const f = f16ToFloat32(all);
    expect(f.length).toBe(65536);
    for (let h = 0; h < 65536; h++) {
      const nan = (h & 0x7c00) === 0x7c00 && h & 0x3ff;
      if (nan) expect(f[h]).toBeNaN();
      else if (float32ToF16Bits(f[h]) !== h) expect(float32ToF16Bits(f[h]), `half ${h}`).toBe(h);
    }
    expect(Array.from(f16ToFloat32(Uint16Array.from([0x3c00, 0x0001, 0xfbff])))).toEqual([1, 2 ** -24, -65504]);
  });
  it('float32ToBf16Bits and bf16ToFloat32', () => {
    expect(float32ToBf16Bits(1)).toBe(0x3f80);
    expect(float32ToBf16Bits(-3.140625)).toBe(0xc049);
    expect(float32ToBf16Bits(f32(1 + 2 ** -8))).toBe(0x3f80); // tie to even
    expect(float32ToBf16Bits(f32(1 + 3 * 2 ** -8))).toBe(0x3f82); // tie to even (up)
    expect(float32ToBf16Bits(f32(1 + 2 ** -8 + 2 ** -16))).toBe(0x3f81);
    expect(float32ToBf16Bits(Infinity)).toBe(0x7f80);
    expect(float32ToBf16Bits(f32(3.3895313892515355e38))).toBe(0x7f7f); // max bf16
    const nan = float32ToBf16Bits(NaN);
    expect((nan & 0x7f80) === 0x7f80 && (nan & 0x7f) !== 0).toBe(true);
    // A NaN whose payload sits only in the low 16 bits must stay NaN (not become Inf).
    const lowNan = new Float32Array(new Uint32Array([0x7f800001]).buffer)[0];
    expect(float32ToBf16Bits(lowNan)).toBe(0x7fc0);
    // All mantissa bits set: rounding would carry out of the sign bit (-0) if NaN were not handled first.
    const fullNan = new Float32Array(new Uint32Array([0x7fffffff]).buffer)[0];
    const b = float32ToBf16Bits(fullNan);
    expect((b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0).toBe(true);
    expect(Array.from(bf16ToFloat32(Uint16Array.from([0x3f80, 0xc049, 0x0001])))).toEqual([1, -3.140625, 2 ** -133]);
  });
  it('firstNonFinite', () => {
    expect(firstNonFinite(Float32Array.from([0, -1, 3.4e38]))).toBe(-1);
    expect(firstNonFinite(new Float32Array(0))).toBe(-1);
    expect(firstNonFinite(Float32Array.from([1, 2, NaN, Infinity]))).toBe(2);
    expect(firstNonFinite(Float32Array.from([1, -Infinity]))).toBe(1);
    expect(firstNonFinite(Float32Array.from([Infinity]))).toBe(0);
  });
  it('toFloat32 and toFloat64 for every numeric dtype', () => {
    const bf = { dtype: 'BF16' as const, shape: [2], data: Uint16Array.from([0x3f80, 0xc049]) };
    expect(Array.from(toFloat32(bf))).toEqual([1, -3.140625]);
    expect(Array.from(toFloat64(bf))).toEqual([1, -3.140625]);
    const h = { dtype: 'F16' as const, shape: [2], data: Uint16Array.from([0x3555, 0xc000]) };
    expect(Array.from(toFloat64(h))).toEqual([0.333251953125, -2]);
    expect(Array.from(toFloat64({ dtype: 'U64', shape: [2], data: BigUint64Array.from([2n ** 64n - 1n, 3n]) }))).toEqual([2 ** 64, 3]);
    expect(Array.from(toFloat64({ dtype: 'I64', shape: [1], data: BigInt64Array.from([-(2n ** 40n)]) }))).toEqual([-(2 ** 40)]);
    expect(Array.from(toFloat64({ dtype: 'F64', shape: [2], data: Float64Array.from([Math.PI, -0.1]) }))).toEqual([Math.PI, -0.1]);
    expect(Array.from(toFloat64({ dtype: 'I32', shape: [1], data: Int32Array.from([-7]) }))).toEqual([-7]);
    expect(Array.from(toFloat32({ dtype: 'F64', shape: [1], data: Float64Array.from([0.1]) }))).toEqual([f32(0.1)]);
    expect(Array.from(toFloat32({ dtype: 'U8', shape: [2], data: Uint8Array.from([0, 255]) }))).toEqual([0, 255]);
  });
});
