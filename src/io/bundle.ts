// The files of a checkpoint as a plain map (file name → bytes), the one error type every
// checkpoint reader and writer throws, small helpers to read JSON and safetensors out of
// the map, and the single-file `.zip` bundle for the browser. No Node APIs: the same code
// runs in the browser and in Node. Formats: docs/FORMAT.md.
// Reading uses fflate's inflate only: its unzipSync checks no CRC and keeps the last of
// duplicate names, so the archive's directory is read here.
import { inflateSync, zipSync } from 'fflate';
import { firstNonFinite, readSafetensors, SafetensorsError, type SafetensorsFile, toFloat32 } from './safetensors';

/** A checkpoint or adapter: its folder's files by name ("config.json", "model.safetensors", …). */
export type CheckpointFiles = Map<string, Uint8Array>;

export type CheckpointErrorKind =
  | 'missing-file' // a file the format needs is not there
  | 'json' // a JSON file that does not parse or lacks a field
  | 'config' // a config value we cannot honour (unknown activation, other epsilon, …)
  | 'safetensors' // the safetensors file itself is malformed (header, offsets, size)
  | 'tensor-missing' // a tensor the config implies is absent
  | 'tensor-unexpected' // a tensor the config does not explain
  | 'shape' // a tensor of the wrong shape
  | 'dtype' // a tensor of a dtype we do not load
  | 'vocab' // vocab.json malformed, or its size differs from the config's
  | 'adapter' // an adapter type or setting we do not support
  | 'base-mismatch' // an adapter made for another base model (fingerprints differ)
  | 'params' // the caller's parameters do not match the config (export side)
  | 'non-finite' // a tensor holding NaN or ±Infinity
  | 'cancelled' // the caller aborted the load (AbortSignal)
  | 'zip'; // a bundle that is not a valid zip, or whose contents are corrupt

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly kind: CheckpointErrorKind,
    message: string,
    /** The file the problem is in, when there is one. */
    readonly file?: string,
    /** The tensor the problem is about, when there is one. */
    readonly tensor?: string,
  ) {
    super(file ? `${file}: ${message}` : message);
  }
}

// ------------------------------------------------------------------------ reading a file map

export function requireFile(files: CheckpointFiles, name: string, what: string): Uint8Array {
  const f = files.get(name);
  if (!f) {
    const have = [...files.keys()];
    throw new CheckpointError('missing-file', `missing ${name} (${what}); the files present are ${have.length ? have.join(', ') : 'none'}`);
  }
  return f;
}

/** A JSON object from a file (UTF-8, top level must be an object). */
export function readJsonObject(files: CheckpointFiles, name: string, what: string): Record<string, unknown> {
  return parseJsonObject(requireFile(files, name, what), name);
}

/** A file's bytes as a JSON object (UTF-8, top level must be an object); errors name the file. */
export function parseJsonObject(bytes: Uint8Array, name: string): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CheckpointError('json', 'is not valid UTF-8', name);
  }
  const depth = jsonDepthOver(text, MAX_JSON_DEPTH);
  if (depth >= 0) throw new CheckpointError('json', `nests deeper than ${MAX_JSON_DEPTH} levels (at character ${depth}); no config is that deep`, name);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError('json', `is not valid JSON (${(e as Error).message})`, name);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new CheckpointError('json', 'must hold a JSON object', name);
  return v as Record<string, unknown>;
}

/** Config files are a few levels deep; deeper nesting is damage (and would overflow the stack of code that walks it). */
export const MAX_JSON_DEPTH = 64;

/** The index of the first bracket that opens level `max` + 1 in JSON text, or -1 (strings skipped; one pass, no recursion). */
function jsonDepthOver(text: string, max: number): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: skip to its closing quote, stepping over escapes.
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
}

/**
 * A parsed JSON value for an error message: JSON as written for small values, cut short
 * for long strings, long arrays and deep nesting (never unbounded recursion).
 */
export function showJson(v: unknown, depth = 0): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (v === null || typeof v !== 'object') return String(v);
  if (depth >= 3) return Array.isArray(v) ? '[…]' : '{…}';
  const MAX_ITEMS = 6;
  if (Array.isArray(v)) {
    const items = v.slice(0, MAX_ITEMS).map((x) => showJson(x, depth + 1));
    return `[${items.join(',')}${v.length > MAX_ITEMS ? `,… (${v.length} items)` : ''}]`;
  }
  const entries = Object.entries(v);
  const items = entries.slice(0, MAX_ITEMS).map(([k, x]) => `${showJson(k)}:${showJson(x, depth + 1)}`);
  return `{${items.join(',')}${entries.length > MAX_ITEMS ? `,… (${entries.length} keys)` : ''}}`;
}

export function jsonBytes(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v, null, 2) + '\n');
}

/** A field that must be a positive integer. */
export function posInt(obj: Record<string, unknown>, key: string, file: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new CheckpointError('json', `"${key}" must be a positive integer, got ${showJson(v)}`, file);
  }
  return v;
}

/** A safetensors file from the map, with the reader's errors re-thrown as CheckpointError. */
export function readTensorsFile(files: CheckpointFiles, name: string, what: string): SafetensorsFile {
  const bytes = requireFile(files, name, what);
  try {
    return readSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError('safetensors', e.message, name, e.tensor);
    throw e;
  }
}

/**
 * One tensor as float32, checked against the expected shape. F32 is taken as is; F16 and
 * BF16 widen exactly; anything else (F64 would round, integers are not weights) is refused,
 * and so is a NaN or infinite element.
 */
export function takeTensor(file: SafetensorsFile, fileName: string, key: string, shape: readonly number[]): Float32Array {
  const t = file.tensors[key];
  if (!t) throw new CheckpointError('tensor-missing', `missing tensor ${key} (expected shape [${shape}])`, fileName, key);
  checkShape(fileName, key, t.shape, shape);
  checkFloatDtype(fileName, key, t.dtype);
  const out = toFloat32(t);
  checkFinite(fileName, key, t.shape, out);
  return out;
}

export function checkShape(fileName: string, key: string, got: readonly number[], want: readonly number[]) {
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new CheckpointError('shape', `tensor ${key}: expected shape [${want}], got [${got}]`, fileName, key);
  }
}

/** Weights load from F32, F16 or BF16 (all exact in float32). */
export function checkFloatDtype(fileName: string, key: string, dtype: string) {
  if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') {
    throw new CheckpointError('dtype', `tensor ${key}: dtype ${dtype} is not supported (F32, F16 or BF16; convert with .float())`, fileName, key);
  }
}

/** Refuses NaN and ±Infinity, naming the first bad element (flat index and coordinates). */
export function checkFinite(fileName: string, key: string, shape: readonly number[], data: Float32Array) {
  const i = firstNonFinite(data);
  if (i < 0) return;
  const at: number[] = [];
  let r = i;
  for (let a = shape.length - 1; a >= 0; a--) {
    at.unshift(r % shape[a]);
    r = Math.floor(r / shape[a]);
  }
  throw new CheckpointError(
    'non-finite',
    `tensor ${key}: element ${i} (index [${at}]) is ${data[i]} (weights must be finite; the file is damaged or was saved after training diverged)`,
    fileName,
    key,
  );
}

/** Tensors in the file that `known` does not account for: an error naming them. */
export function refuseUnexpected(file: SafetensorsFile, fileName: string, known: Set<string>, why: string) {
  const extra = Object.keys(file.tensors).filter((k) => !known.has(k));
  if (extra.length) {
    const list = extra.slice(0, 5).join(', ') + (extra.length > 5 ? `, … (${extra.length} in all)` : '');
    throw new CheckpointError('tensor-unexpected', `unexpected tensor${extra.length > 1 ? 's' : ''} ${list} (${why})`, fileName, extra[0]);
  }
}

// ------------------------------------------------------------------------------- the bundle

/**
 * The files as one `.zip` (safetensors stored, JSON deflated). A fixed timestamp makes
 * the same files give the same bytes.
 */
export function zipFiles(files: CheckpointFiles): Uint8Array {
  const entries: Record<string, [Uint8Array, { level: 0 | 6 }]> = {};
  for (const [name, bytes] of files) {
    checkEntryName(name);
    // Float weights barely compress; storing them keeps saving fast.
    entries[name] = [bytes, { level: name.endsWith('.safetensors') ? 0 : 6 }];
  }
  return zipSync(entries, { mtime: new Date(Date.UTC(2024, 0, 1)) });
}

function checkEntryName(name: string) {
  if (!name || name.startsWith('/') || name.includes('\\') || name.split('/').some((p) => p === '..' || p === '.' || p === '')) {
    throw new CheckpointError('zip', `invalid file name ${JSON.stringify(name)} in a bundle`);
  }
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

export function crc32(b: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Deflate cannot expand data by more than 1032:1 (258-byte matches coded in 2 bits). */
const MAX_DEFLATE_RATIO = 1032;
/** The largest file a bundle may hold (browsers cap one ArrayBuffer near 2 GiB). */
export const MAX_ENTRY_BYTES = 2 ** 31 - 1;

/**
 * Reads a bundle back. Reads the central directory itself so that every entry's CRC-32 and
 * size are checked (safetensors has no checksum of its own, so this is what catches a
 * damaged download). Directory entries and macOS `__MACOSX/` folders are skipped; when
 * every file sits in one top-level folder (a zipped folder), that folder is stripped.
 */
export function unzipFiles(bytes: Uint8Array): CheckpointFiles {
  const fail = (msg: string): never => {
    throw new CheckpointError('zip', `not a valid zip bundle: ${msg}`);
  };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number) => (o + 4 <= bytes.length ? dv.getUint32(o, true) : fail(`truncated at byte ${o}`));
  const u16 = (o: number) => (o + 2 <= bytes.length ? dv.getUint16(o, true) : fail(`truncated at byte ${o}`));
  // End of central directory: 22 bytes + a comment of up to 65535 bytes, at the end.
  let eocd = -1;
  for (let e = bytes.length - 22; e >= 0 && e >= bytes.length - 22 - 65535; e--) {
    if (dv.getUint32(e, true) === 0x06054b50) {
      eocd = e;
      break;
    }
  }
  if (eocd < 0) fail(`no end-of-central-directory record (file of ${bytes.length} bytes: truncated, or not a zip)`);
  const count = u16(eocd + 10);
  const cdSize = u32(eocd + 12);
  const cdOff = u32(eocd + 16);
  if (count === 0xffff || cdOff === 0xffffffff) fail('ZIP64 archives are not supported');
  if (cdOff + cdSize > eocd) fail('central directory runs past its end record');
  const raw: { name: string; data: Uint8Array }[] = [];
  let compressedTotal = 0;
  let o = cdOff;
  for (let i = 0; i < count; i++) {
    if (u32(o) !== 0x02014b50) fail(`central directory entry ${i} has a bad signature`);
    const method = u16(o + 10);
    const crc = u32(o + 16);
    const csize = u32(o + 20);
    const usize = u32(o + 24);
    const nlen = u16(o + 28);
    const xlen = u16(o + 30);
    const clen = u16(o + 32);
    const local = u32(o + 42);
    if (o + 46 + nlen > bytes.length) fail(`central directory entry ${i} is truncated`);
    let name: string;
    try {
      name = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(o + 46, o + 46 + nlen));
    } catch {
      return fail(`entry ${i}'s name is not UTF-8`);
    }
    o += 46 + nlen + xlen + clen;
    if (name.endsWith('/') || name.startsWith('__MACOSX/')) continue;
    if (u32(local) !== 0x04034b50) fail(`${name}: bad local header signature`);
    const start = local + 30 + u16(local + 26) + u16(local + 28);
    if (start + csize > bytes.length) fail(`${name}: data runs past the end of the file (truncated download?)`);
    // Declared sizes are checked before anything is allocated: a damaged or hostile
    // directory could otherwise ask for gigabytes for a few bytes of data.
    compressedTotal += csize;
    if (compressedTotal > bytes.length) fail(`${name}: entries' data overlap (the directory is damaged)`);
    if (usize > MAX_ENTRY_BYTES) fail(`${name}: declared size ${usize} bytes is over the ${MAX_ENTRY_BYTES}-byte limit per file`);
    if (method === 0 && usize !== csize) fail(`${name}: stored entry declares ${usize} bytes but holds ${csize}`);
    if (method === 8 && usize > csize * MAX_DEFLATE_RATIO + 64) {
      fail(`${name}: declared size ${usize} bytes cannot come from ${csize} compressed bytes (the directory is damaged)`);
    }
    const comp = bytes.subarray(start, start + csize);
    let data: Uint8Array;
    if (method === 0) data = comp.slice();
    else if (method === 8) {
      try {
        data = inflateSync(comp, { out: new Uint8Array(usize) });
      } catch (e) {
        return fail(`${name}: compressed data is corrupt (${(e as Error).message})`);
      }
    } else return fail(`${name}: unsupported compression method ${method} (stored or deflate only)`);
    if (data.length !== usize) fail(`${name}: expected ${usize} bytes, got ${data.length}`);
    if (crc32(data) !== crc) fail(`${name}: CRC-32 mismatch (the file is damaged)`);
    raw.push({ name, data });
  }
  // A zipped folder: strip its one top-level directory.
  const tops = new Set(raw.map((r) => (r.name.includes('/') ? r.name.slice(0, r.name.indexOf('/')) : '')));
  const strip = tops.size === 1 && !tops.has('') ? [...tops][0].length + 1 : 0;
  const out: CheckpointFiles = new Map();
  for (const r of raw) {
    const name = r.name.slice(strip);
    checkEntryName(name);
    if (out.has(name)) fail(`duplicate entry ${name}`);
    out.set(name, r.data);
  }
  return out;
}
