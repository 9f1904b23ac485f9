// safetensors reader and writer, written from the format's published rules (the
// huggingface/safetensors README and the validation its reference Rust crate performs).
// Runs in the browser and in Node: no Node APIs, only TextEncoder/TextDecoder and typed arrays.
//
// Layout: 8-byte little-endian u64 N | N bytes of UTF-8 JSON header | byte buffer.
// The header maps tensor names to {dtype, shape, data_offsets: [begin, end]} (offsets are
// relative to the byte buffer), plus an optional "__metadata__" string→string map.
// The tensors must cover the byte buffer exactly: in offset order, with no gap, no
// overlap and nothing after the last one (this prevents polyglot files).
//
// Write order (matches the reference's `serialize`): tensors sorted by dtype in the
// reference's dtype order, widest alignment first (U64, I64, F64, F32, U32, I32, BF16,
// F16, U16, I16, I8, U8, BOOL), then by name (UTF-8 byte order). Since the header is padded
// with spaces to a multiple of 8, every tensor's data then starts aligned to its element
// size. JSON is compact (no spaces), "__metadata__" first (its keys sorted), and each entry
// is written as dtype, shape, data_offsets: for the same tensors the output is
// byte-identical to the reference's.

/** Element types this module reads and writes. */
export type Dtype = 'BOOL' | 'U8' | 'I8' | 'I16' | 'U16' | 'F16' | 'BF16' | 'I32' | 'U32' | 'F32' | 'F64' | 'I64' | 'U64';

/** The typed array that holds each dtype's elements (F16/BF16 as their raw 16-bit patterns). */
export interface DtypeArrays {
  BOOL: Uint8Array;
  U8: Uint8Array;
  I8: Int8Array;
  I16: Int16Array;
  U16: Uint16Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  I32: Int32Array;
  U32: Uint32Array;
  F32: Float32Array;
  F64: Float64Array;
  I64: BigInt64Array;
  U64: BigUint64Array;
}

export type TensorData = DtypeArrays[Dtype];

/** One tensor: row-major ('C' order) elements of `shape`. */
export interface SafeTensor<D extends Dtype = Dtype> {
  dtype: D;
  shape: number[];
  data: DtypeArrays[D];
}

/** What the writer accepts: `dtype` may be left out for arrays with one obvious dtype. */
export interface SafeTensorInput {
  dtype?: Dtype;
  shape: readonly number[];
  data: TensorData;
}

export interface SafetensorsFile {
  /** Null-prototype record (a tensor may be called "__proto__"), in file offset order. */
  tensors: Record<string, SafeTensor>;
  /** The `__metadata__` map ({} when the file has none). */
  metadata: Record<string, string>;
}

export type SafetensorsErrorKind =
  | 'header-too-small' // fewer than 8 bytes
  | 'header-too-large' // N > 100,000,000
  | 'header-length' // 8 + N goes past the end of the file
  | 'header-utf8' // header bytes are not valid UTF-8
  | 'header-start' // header does not begin with '{'
  | 'header-json' // not JSON, or JSON of the wrong form
  | 'duplicate-key'
  | 'metadata' // __metadata__ is not a string→string map
  | 'tensor-info' // a tensor entry is malformed (missing/unknown fields)
  | 'dtype' // unknown dtype, or data array does not match dtype (writer)
  | 'shape' // negative, non-integer or overflowing dimension
  | 'offsets' // data_offsets not contiguous, overlapping, reversed or past the end
  | 'size' // prod(shape)·itemsize ≠ end − begin (or ≠ data.length in the writer)
  | 'trailing' // bytes after the last tensor
  | 'name'; // invalid tensor name (writer)

export class SafetensorsError extends Error {
  readonly kind: SafetensorsErrorKind;
  /** The tensor the problem is about, when there is one. */
  readonly tensor?: string;
  constructor(kind: SafetensorsErrorKind, message: string, tensor?: string) {
    super(`safetensors: ${message}`);
    this.name = 'SafetensorsError';
    this.kind = kind;
    this.tensor = tensor;
  }
}

/** The reference crate refuses headers over 100 MB (a "header bomb" guard). */
export const MAX_HEADER_SIZE = 100_000_000;
const METADATA_KEY = '__metadata__';
// serde_json's default recursion limit; guards the parser's stack against deep nesting.
const MAX_JSON_DEPTH = 128;

// The reference's dtype enum order (ascending alignment); the writer sorts descending.
const DTYPE_ORDER: Dtype[] = ['BOOL', 'U8', 'I8', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'];
const ITEM_SIZE: Record<Dtype, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** Bytes per element of a dtype. */
export function itemSize(dtype: Dtype): number {
  return ITEM_SIZE[dtype];
}

export function isDtype(s: string): s is Dtype {
  return Object.prototype.hasOwnProperty.call(ITEM_SIZE, s);
}

const ARRAY_CTOR = {
  BOOL: Uint8Array,
  U8: Uint8Array,
  I8: Int8Array,
  I16: Int16Array,
  U16: Uint16Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I32: Int32Array,
  U32: Uint32Array,
  F32: Float32Array,
  F64: Float64Array,
  I64: BigInt64Array,
  U64: BigUint64Array,
} as const;

// Typed arrays use the host's byte order; the format is little-endian. Every browser and
// Node host today is little-endian, but swapping keeps the module correct anywhere.
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapInPlace(bytes: Uint8Array, size: number) {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

// ============================================================================ reading

/** One tensor's entry in a validated header; `begin`/`end` are offsets into the data buffer. */
export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  begin: number;
  end: number;
}

/** A validated header: every rule of the format checked against the file's total size. */
export interface SafetensorsHeader {
  /** Entries in file offset order (they tile the data buffer exactly). */
  tensors: TensorInfo[];
  /** Null-prototype `__metadata__` map ({} when the file has none). */
  metadata: Record<string, string>;
  /** Byte offset of the data buffer in the file (8 + header length). */
  dataStart: number;
}

/**
 * The header length N from the file's first 8 bytes (`first` may hold fewer when the file
 * is that short), checked against the size limit and the file size before anything of the
 * header is allocated or read. Shared by the in-memory and the streaming reader.
 */
export function readHeaderLength(first: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || first.length < 8) {
    throw new SafetensorsError('header-too-small', `file is ${fileSize} bytes, shorter than the 8-byte header length`);
  }
  const n64 = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_SIZE)) {
    throw new SafetensorsError('header-too-large', `header length ${n64} exceeds the ${MAX_HEADER_SIZE}-byte limit`);
  }
  const n = Number(n64);
  if (8 + n > fileSize) {
    throw new SafetensorsError('header-length', `header length ${n} goes past the end of the file (${fileSize} bytes, so at most ${fileSize - 8})`);
  }
  return n;
}

/**
 * Validates the N header bytes (file bytes 8 … 8+N) of a file of `fileSize` bytes: UTF-8,
 * strict JSON, entries, and offsets that tile the data buffer with no gap, overlap or
 * trailing bytes. The one implementation behind readSafetensors and openSafetensors.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, fileSize: number): SafetensorsHeader {
  const n = headerBytes.length;
  let text: string;
  try {
    // ignoreBOM keeps a leading BOM in the text, so the '{' check below refuses it.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError('header-utf8', 'header is not valid UTF-8');
  }
  if (text[0] !== '{') {
    throw new SafetensorsError('header-start', `header must begin with '{', found ${text.length ? JSON.stringify(text[0]) : 'an empty header'}`);
  }
  const root = parseJson(text);
  if (!(root instanceof Map)) throw new SafetensorsError('header-json', 'header is not a JSON object');

  const metadata: Record<string, string> = Object.create(null);
  const infos: TensorInfo[] = [];
  for (const [name, value] of root) {
    if (name === METADATA_KEY) {
      if (!(value instanceof Map)) throw new SafetensorsError('metadata', `${METADATA_KEY} must be an object mapping strings to strings`);
      for (const [k, v] of value) {
        if (typeof v !== 'string') {
          throw new SafetensorsError('metadata', `${METADATA_KEY}[${JSON.stringify(k)}] must be a string, found ${describeJson(v)}`);
        }
        metadata[k] = v;
      }
      continue;
    }
    infos.push({ name, ...parseTensorInfo(name, value) });
  }

  // Offsets must tile [0, bufferLength) in order. Sort by (begin, end) like the reference
  // (so zero-size tensors sharing an offset are fine), then walk a cursor.
  infos.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataStart = 8 + n;
  const bufferLength = fileSize - dataStart;
  let cursor = 0;
  let prev: string | null = null;
  for (const t of infos) {
    const where = `tensor ${JSON.stringify(t.name)}: data_offsets [${t.begin}, ${t.end}]`;
    if (t.end < t.begin) throw new SafetensorsError('offsets', `${where} end before begin`, t.name);
    if (t.begin > cursor) {
      throw new SafetensorsError('offsets', `${where} leave a gap: bytes [${cursor}, ${t.begin}) of the data buffer belong to no tensor`, t.name);
    }
    if (t.begin < cursor) {
      throw new SafetensorsError('offsets', `${where} overlap tensor ${JSON.stringify(prev)} (which ends at ${cursor})`, t.name);
    }
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const want = numel * ITEM_SIZE[t.dtype];
    if (!Number.isSafeInteger(want)) throw new SafetensorsError('shape', `tensor ${JSON.stringify(t.name)}: shape [${t.shape}] is too large`, t.name);
    if (t.end - t.begin !== want) {
      throw new SafetensorsError(
        'size',
        `${where} span ${t.end - t.begin} bytes, but shape [${t.shape}] of ${t.dtype} needs ${numel}·${ITEM_SIZE[t.dtype]} = ${want}`,
        t.name,
      );
    }
    if (t.end > bufferLength) {
      throw new SafetensorsError('offsets', `${where} go past the end of the data buffer (${bufferLength} bytes)`, t.name);
    }
    cursor = t.end;
    prev = t.name;
  }
  if (cursor !== bufferLength) {
    throw new SafetensorsError('trailing', `${bufferLength - cursor} trailing bytes after the last tensor (the data buffer is ${bufferLength} bytes, tensors cover ${cursor})`);
  }
  return { tensors: infos, metadata, dataStart };
}

/** Raw little-endian bytes of one tensor → its typed array (copies unless already aligned and owned). */
function tensorFromBytes(t: TensorInfo, raw: Uint8Array, owned: boolean): SafeTensor {
  const size = ITEM_SIZE[t.dtype];
  // A fresh copy sits at offset 0 of its own ArrayBuffer: aligned for any typed array.
  const bytes = owned && raw.byteOffset % size === 0 ? raw : raw.slice();
  if (!HOST_LITTLE_ENDIAN) swapInPlace(bytes, size);
  const data = new ARRAY_CTOR[t.dtype](bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length / size);
  return { dtype: t.dtype, shape: t.shape, data } as SafeTensor;
}

/**
 * Parses a whole safetensors file. Tensor data is copied into fresh, aligned typed arrays
 * (the input may sit at any byte offset). Throws SafetensorsError on any departure from the
 * format, naming the tensor concerned.
 */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  const n = readHeaderLength(bytes.subarray(0, 8), bytes.length);
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length);
  const tensors: Record<string, SafeTensor> = Object.create(null);
  for (const t of header.tensors) {
    tensors[t.name] = tensorFromBytes(t, bytes.subarray(header.dataStart + t.begin, header.dataStart + t.end), false);
  }
  return { tensors, metadata: header.metadata };
}

// ---------------------------------------------------------------------------- streaming

/** What the streaming reader needs of a file: its size and positioned reads (see byte_source.ts). */
export interface RandomAccess {
  name: string;
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A safetensors file opened through positioned reads: the header now, tensors on demand. */
export interface SafetensorsSource {
  header: SafetensorsHeader;
  /** Entries by name (null prototype). */
  info: Record<string, TensorInfo>;
  /** One tensor's elements (one read of exactly its bytes). */
  readTensor(name: string): Promise<SafeTensor>;
  /** Elements [start, start + count) of a tensor (one read of just those bytes). */
  readElements(name: string, start: number, count: number): Promise<SafeTensor>;
}

/**
 * Opens a safetensors file through positioned reads: the 8-byte length first, the header
 * only once its length has passed the limit and the file-size checks, then nothing more
 * until a tensor is asked for. The header is validated by the same code as readSafetensors.
 */
export async function openSafetensors(src: RandomAccess): Promise<SafetensorsSource> {
  const first = src.size >= 8 ? await readExactly(src, 0, 8) : new Uint8Array(0);
  const n = readHeaderLength(first, src.size);
  const header = parseSafetensorsHeader(await readExactly(src, 8, n), src.size);
  const info: Record<string, TensorInfo> = Object.create(null);
  for (const t of header.tensors) info[t.name] = t;
  const readElements = async (name: string, start: number, count: number): Promise<SafeTensor> => {
    const t = info[name];
    if (!t) throw new SafetensorsError('tensor-info', `no tensor ${JSON.stringify(name)} in the file`, name);
    const size = ITEM_SIZE[t.dtype];
    const numel = (t.end - t.begin) / size;
    if (!(start >= 0 && count >= 0 && start + count <= numel)) throw new RangeError(`elements [${start}, ${start + count}) of tensor ${name} (${numel} elements)`);
    const raw = await readExactly(src, header.dataStart + t.begin + start * size, count * size);
    return tensorFromBytes({ ...t, shape: start === 0 && count === numel ? t.shape : [count] }, raw, true);
  };
  return {
    header,
    info,
    readTensor: (name) => {
      const t = info[name];
      return readElements(name, 0, t ? (t.end - t.begin) / ITEM_SIZE[t.dtype] : 0);
    },
    readElements,
  };
}

/** A read that must return exactly `length` bytes (a file that shrank, or a short read, is an error). */
async function readExactly(src: RandomAccess, offset: number, length: number): Promise<Uint8Array> {
  const b = length === 0 ? new Uint8Array(0) : await src.read(offset, length);
  if (b.length !== length) {
    throw new SafetensorsError('offsets', `${src.name}: read of ${length} bytes at offset ${offset} returned ${b.length} (the file changed or is truncated)`);
  }
  return b;
}

function parseTensorInfo(name: string, value: JsonValue): { dtype: Dtype; shape: number[]; begin: number; end: number } {
  const q = JSON.stringify(name);
  if (!(value instanceof Map)) {
    throw new SafetensorsError('tensor-info', `tensor ${q}: entry must be an object {dtype, shape, data_offsets}, found ${describeJson(value)}`, name);
  }
  for (const k of value.keys()) {
    if (k !== 'dtype' && k !== 'shape' && k !== 'data_offsets') {
      throw new SafetensorsError('tensor-info', `tensor ${q}: unknown field ${JSON.stringify(k)} (expected dtype, shape, data_offsets)`, name);
    }
  }
  const dtype = value.get('dtype');
  const shape = value.get('shape');
  const offsets = value.get('data_offsets');
  if (dtype === undefined || shape === undefined || offsets === undefined) {
    const missing = ['dtype', 'shape', 'data_offsets'].filter((k) => !value.has(k));
    throw new SafetensorsError('tensor-info', `tensor ${q}: missing ${missing.join(', ')}`, name);
  }
  if (typeof dtype !== 'string' || !isDtype(dtype)) {
    throw new SafetensorsError('dtype', `tensor ${q}: unsupported dtype ${typeof dtype === 'string' ? JSON.stringify(dtype) : describeJson(dtype)} (supported: ${DTYPE_ORDER.join(', ')})`, name);
  }
  if (!Array.isArray(shape)) throw new SafetensorsError('shape', `tensor ${q}: shape must be an array of non-negative integers, found ${describeJson(shape)}`, name);
  const dims = shape.map((d, i) => jsonUint(d, `tensor ${q}: shape[${i}]`, 'shape', name));
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    throw new SafetensorsError('offsets', `tensor ${q}: data_offsets must be [begin, end], found ${describeJson(offsets)}`, name);
  }
  const begin = jsonUint(offsets[0], `tensor ${q}: data_offsets[0]`, 'offsets', name);
  const end = jsonUint(offsets[1], `tensor ${q}: data_offsets[1]`, 'offsets', name);
  return { dtype, shape: dims, begin, end };
}

/** A JSON number that must be a non-negative integer in plain form (as serde's usize demands). */
function jsonUint(v: JsonValue, what: string, kind: SafetensorsErrorKind, tensor: string): number {
  if (!(v instanceof JsonNumber)) throw new SafetensorsError(kind, `${what} must be a non-negative integer, found ${describeJson(v)}`, tensor);
  if (v.raw.startsWith('-')) throw new SafetensorsError(kind, `${what} is negative (${v.raw})`, tensor);
  if (!/^(0|[1-9][0-9]*)$/.test(v.raw)) throw new SafetensorsError(kind, `${what} is not an integer (${v.raw})`, tensor);
  const x = Number(v.raw);
  if (!Number.isSafeInteger(x)) throw new SafetensorsError(kind, `${what} is too large (${v.raw})`, tensor);
  return x;
}

function describeJson(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (v instanceof JsonNumber) return `the number ${v.raw}`;
  if (v instanceof Map) return 'an object';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return String(v);
}

// ---------------------------------------------------------------------------- strict JSON
// JSON.parse silently keeps the last of duplicate keys and turns integers into doubles;
// the format forbids duplicates and offsets must be exact, so the header gets its own
// small RFC 8259 parser: objects become Maps (insertion order), numbers keep their text.

class JsonNumber {
  constructor(readonly raw: string) {}
}
type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | Map<string, JsonValue>;

function parseJson(text: string): JsonValue {
  let i = 0;
  const fail = (msg: string): never => {
    throw new SafetensorsError('header-json', `header is not valid JSON: ${msg} at character ${i}`);
  };
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else return;
    }
  };
  const str = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('control character in string');
      if (c === 0x5c) {
        out += text.slice(start, i);
        const e = text[i + 1];
        i += 2;
        if (e === 'u') {
          const cu = hex4();
          if (cu >= 0xd800 && cu <= 0xdbff) {
            // A high surrogate escape must be followed by a low one (serde_json rejects lone ones).
            if (text[i] !== '\\' || text[i + 1] !== 'u') fail('lone surrogate in \\u escape');
            i += 2;
            const lo = hex4();
            if (lo < 0xdc00 || lo > 0xdfff) fail('lone surrogate in \\u escape');
            out += String.fromCharCode(cu, lo);
          } else if (cu >= 0xdc00 && cu <= 0xdfff) {
            fail('lone surrogate in \\u escape');
          } else out += String.fromCharCode(cu);
        } else {
          const m = ESCAPES[e as keyof typeof ESCAPES];
          if (m === undefined) fail(`invalid escape \\${e ?? ''}`);
          out += m;
        }
        start = i;
      } else i++;
    }
  };
  const hex4 = (): number => {
    const h = text.slice(i, i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('invalid \\u escape');
    i += 4;
    return parseInt(h, 16);
  };
  const num = (): JsonNumber => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '-' || m[0] === '') fail('invalid number');
    i += m![0].length;
    return new JsonNumber(m![0]);
  };
  // `owner`: the top-level key this value sits under, for error messages.
  const value = (depth: number, owner?: string): JsonValue => {
    if (depth > MAX_JSON_DEPTH) fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj = new Map<string, JsonValue>();
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const k = str();
        if (obj.has(k)) {
          const inside = owner === undefined ? '' : ` inside ${owner === METADATA_KEY ? METADATA_KEY : `tensor ${JSON.stringify(owner)}`}`;
          throw new SafetensorsError('duplicate-key', `header has duplicate key ${JSON.stringify(k)}${inside}`, owner ?? k);
        }
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        obj.set(k, value(depth + 1, owner ?? k));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1, owner));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (c === '-' || (c >= '0' && c <= '9')) return num();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fail(i >= text.length ? 'unexpected end' : `unexpected ${JSON.stringify(c)}`);
  };
  const v = value(0);
  ws(); // trailing padding (the writer pads with spaces)
  if (i !== text.length) fail('unexpected text after the header object');
  return v;
}

const ESCAPES = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' } as const;

// ============================================================================ writing

function inferDtype(data: TensorData): Dtype | null {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Uint32Array) return 'U32';
  if (data instanceof BigInt64Array) return 'I64';
  if (data instanceof BigUint64Array) return 'U64';
  if (data instanceof Int16Array) return 'I16';
  if (data instanceof Int8Array) return 'I8';
  if (data instanceof Uint8Array) return 'U8';
  return null; // Uint16Array: U16, F16 or BF16; the caller must say which.
}

// Unpaired UTF-16 surrogates cannot be encoded as UTF-8 (TextEncoder would silently
// replace them), so names and metadata holding them are refused.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function compareUtf8(a: string, b: string): number {
  // UTF-8 byte order equals code point order; JS's `<` compares UTF-16 code units,
  // which differs above U+FFFF, so compare code points.
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/**
 * Serialises tensors (and an optional string→string metadata map) to safetensors bytes.
 * Order and padding follow the reference writer (see the top of this file), so the same
 * tensors always give the same bytes. Validates names, dtypes, shapes and data lengths.
 */
export function writeSafetensors(tensors: Record<string, SafeTensorInput>, metadata?: Record<string, string>): Uint8Array {
  const entries: { name: string; dtype: Dtype; shape: number[]; data: TensorData; bytes: number }[] = [];
  for (const name of Object.keys(tensors)) {
    const t = tensors[name];
    const q = JSON.stringify(name);
    if (name === METADATA_KEY) throw new SafetensorsError('name', `a tensor cannot be called ${METADATA_KEY}`, name);
    if (LONE_SURROGATE.test(name)) throw new SafetensorsError('name', `tensor name ${q} is not valid Unicode`, name);
    const dtype = t.dtype ?? inferDtype(t.data);
    if (dtype === null) throw new SafetensorsError('dtype', `tensor ${q}: a Uint16Array may be U16, F16 or BF16: give dtype`, name);
    if (!isDtype(dtype)) throw new SafetensorsError('dtype', `tensor ${q}: unsupported dtype ${JSON.stringify(dtype)}`, name);
    const Ctor = ARRAY_CTOR[dtype];
    if (!(t.data instanceof Ctor)) {
      throw new SafetensorsError('dtype', `tensor ${q}: dtype ${dtype} needs a ${Ctor.name}, got a ${t.data?.constructor?.name ?? typeof t.data}`, name);
    }
    const shape = Array.from(t.shape);
    let numel = 1;
    shape.forEach((d, i) => {
      if (!Number.isSafeInteger(d) || d < 0) throw new SafetensorsError('shape', `tensor ${q}: shape[${i}] = ${d} is not a non-negative integer`, name);
      numel *= d;
    });
    if (numel !== t.data.length) {
      throw new SafetensorsError('size', `tensor ${q}: shape [${shape}] has ${numel} elements but data has ${t.data.length}`, name);
    }
    if (dtype === 'BOOL' && (t.data as Uint8Array).some((v) => v > 1)) {
      throw new SafetensorsError('dtype', `tensor ${q}: BOOL data must hold only 0 and 1`, name);
    }
    entries.push({ name, dtype, shape, data: t.data, bytes: numel * ITEM_SIZE[dtype] });
  }
  entries.sort((a, b) => DTYPE_ORDER.indexOf(b.dtype) - DTYPE_ORDER.indexOf(a.dtype) || compareUtf8(a.name, b.name));

  let header = '{';
  const parts: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort(compareUtf8);
    const kv: string[] = [];
    for (const k of keys) {
      const v = metadata[k];
      if (typeof v !== 'string') throw new SafetensorsError('metadata', `${METADATA_KEY}[${JSON.stringify(k)}] must be a string, got ${typeof v}`);
      if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) throw new SafetensorsError('metadata', `${METADATA_KEY}[${JSON.stringify(k)}] is not valid Unicode`);
      kv.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    parts.push(`"${METADATA_KEY}":{${kv.join(',')}}`);
  }
  let offset = 0;
  for (const e of entries) {
    parts.push(`${JSON.stringify(e.name)}:{"dtype":"${e.dtype}","shape":[${e.shape.join(',')}],"data_offsets":[${offset},${offset + e.bytes}]}`);
    offset += e.bytes;
  }
  header += parts.join(',') + '}';
  const headerBytes = new TextEncoder().encode(header);
  const pad = (8 - (headerBytes.length % 8)) % 8;
  if (headerBytes.length + pad > MAX_HEADER_SIZE) {
    throw new SafetensorsError('header-too-large', `header would be ${headerBytes.length + pad} bytes, over the ${MAX_HEADER_SIZE}-byte limit`);
  }
  const out = new Uint8Array(8 + headerBytes.length + pad + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length + pad), true);
  out.set(headerBytes, 8);
  out.fill(0x20, 8 + headerBytes.length, 8 + headerBytes.length + pad);
  let at = 8 + headerBytes.length + pad;
  for (const e of entries) {
    const src = new Uint8Array(e.data.buffer, e.data.byteOffset, e.bytes);
    out.set(src, at);
    if (!HOST_LITTLE_ENDIAN) swapInPlace(out.subarray(at, at + e.bytes), ITEM_SIZE[e.dtype]);
    at += e.bytes;
  }
  return out;
}

// ============================================================================ conversions

/** IEEE half bits → number (exact). */
export function f16ToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** bfloat16 bits → number (exact: bf16 is the top half of a float32). */
export function bf16ToNumber(h: number): number {
  const u = new Uint32Array([h << 16]);
  return new Float32Array(u.buffer)[0];
}

// A table of all 65536 halves (256 KiB, built on first use): one lookup per element is
// several times faster than decoding exponent and mantissa on multi-megabyte tensors.
let F16_TABLE: Float32Array | null = null;
function f16Table(): Float32Array {
  if (!F16_TABLE) {
    F16_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) F16_TABLE[h] = f16ToNumber(h);
  }
  return F16_TABLE;
}

/** F16 bit patterns → float32 (exact: every half is a float32). */
export function f16ToFloat32(src: Uint16Array): Float32Array {
  const table = f16Table();
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]];
  return out;
}

/** BF16 bit patterns → float32 (exact: a bfloat16 is the top half of a float32's bits). */
export function bf16ToFloat32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  return out;
}

const F32_SCRATCH = new Float32Array(1);
const U32_SCRATCH = new Uint32Array(F32_SCRATCH.buffer);

/** float32 → IEEE half bits, rounded to nearest even (overflow → ±Inf, NaN stays NaN). */
export function float32ToF16Bits(v: number): number {
  F32_SCRATCH[0] = v;
  const x = U32_SCRATCH[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const man = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    const m = man | 0x800000; // implicit bit
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry into the exponent is correct rounding
  return sign | h;
}

/** float32 → bfloat16 bits, rounded to nearest even (NaN stays NaN). */
export function float32ToBf16Bits(v: number): number {
  F32_SCRATCH[0] = v;
  const x = U32_SCRATCH[0];
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Index of the first NaN or ±Infinity, or -1 when every element is finite. */
export function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v - v !== 0) return i; // NaN - NaN and ∞ - ∞ are NaN; finite - itself is 0
  }
  return -1;
}

/**
 * Any numeric tensor's elements as float32 (F16/BF16 decoded; F64 and integers rounded to
 * the nearest float32). Returns the tensor's own array, not a copy, when it is already F32.
 */
export function toFloat32(t: SafeTensor): Float32Array {
  if (t.dtype === 'F32') return t.data as Float32Array;
  if (t.dtype === 'F16') return f16ToFloat32(t.data as Uint16Array);
  if (t.dtype === 'BF16') return bf16ToFloat32(t.data as Uint16Array);
  return Float32Array.from(toFloat64(t));
}

/** Any numeric tensor's elements as float64 (exact except for 64-bit integers above 2^53). */
export function toFloat64(t: SafeTensor): Float64Array {
  const n = t.data.length;
  const out = new Float64Array(n);
  if (t.dtype === 'F16') for (let i = 0; i < n; i++) out[i] = f16ToNumber((t.data as Uint16Array)[i]);
  else if (t.dtype === 'BF16') for (let i = 0; i < n; i++) out[i] = bf16ToNumber((t.data as Uint16Array)[i]);
  else if (t.dtype === 'I64' || t.dtype === 'U64') for (let i = 0; i < n; i++) out[i] = Number((t.data as BigInt64Array)[i]);
  else out.set(t.data as Exclude<TensorData, BigInt64Array | BigUint64Array>);
  return out;
}
