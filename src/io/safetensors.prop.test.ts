// Property tests of the safetensors reader: whatever bytes it is given (damaged, truncated,
// hostile), it either returns a file or throws SafetensorsError; never a TypeError,
// RangeError, hang or huge allocation. Valid files come from writeSafetensors.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_HEADER_SIZE, openSafetensors, readSafetensors, SafetensorsError, writeSafetensors, type SafeTensorInput } from './safetensors';

const enc = new TextEncoder();

/** Runs fn; passes if it returns or throws SafetensorsError, rethrows anything else. */
function onlySafetensorsError(fn: () => unknown): SafetensorsError | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof SafetensorsError) return e;
    throw e;
  }
}

/** A file: 8-byte little-endian header length, then the header text, then `data` bytes. */
function fileOf(header: string, data = new Uint8Array(0), claimedLength?: bigint): Uint8Array {
  const h = enc.encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, claimedLength ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const name = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s !== '__metadata__');
const tensor: fc.Arbitrary<SafeTensorInput> = fc
  .tuple(fc.constantFrom('F32', 'F16', 'I64', 'U8'), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }))
  .map(([dtype, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = dtype === 'F32' ? new Float32Array(n).fill(1.5) : dtype === 'I64' ? new BigInt64Array(n).fill(-3n) : dtype === 'F16' ? new Uint16Array(n).fill(0x3c00) : new Uint8Array(n).fill(7);
    return { dtype: dtype as SafeTensorInput['dtype'], shape, data };
  });
const validFile = fc
  .tuple(fc.dictionary(name, tensor, { maxKeys: 4 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }))
  .map(([t, meta]) => writeSafetensors(t, meta));

describe('readSafetensors on damaged and hostile bytes', () => {
  it('valid files round trip (the generator makes files the reader accepts)', () => {
    fc.assert(
      fc.property(validFile, (bytes) => {
        expect(() => readSafetensors(bytes)).not.toThrow();
      }),
      { numRuns: 100 },
    );
  });

  it('any truncation of a valid file gives SafetensorsError (or, at full length, the file)', () => {
    fc.assert(
      fc.property(validFile, fc.nat(), (bytes, cut) => {
        const n = cut % (bytes.length + 1);
        const err = onlySafetensorsError(() => readSafetensors(bytes.subarray(0, n)));
        // Every byte of a safetensors file is accounted for, so dropping any must be noticed.
        if (n < bytes.length) expect(err).not.toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it('random byte flips give a file or SafetensorsError, nothing else', () => {
    fc.assert(
      fc.property(validFile, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }), (bytes, flips) => {
        const b = bytes.slice();
        for (const [at, x] of flips) b[at % b.length] ^= x;
        onlySafetensorsError(() => readSafetensors(b));
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary bytes give SafetensorsError or a file', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => void onlySafetensorsError(() => readSafetensors(b))), { numRuns: 300 });
  });

  it('a header length over the limit or past the end is refused from the first 8 bytes', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (claimed) => {
        const bytes = fileOf('{}', new Uint8Array(0), claimed);
        const err = onlySafetensorsError(() => readSafetensors(bytes));
        if (claimed === 2n) expect(err).toBeNull();
        else if (claimed > BigInt(MAX_HEADER_SIZE)) expect(err?.kind).toBe('header-too-large');
        else expect(err).not.toBeNull();
      }),
      { numRuns: 200 },
    );
  });

  it('the streaming reader asks for no more than 8 bytes when the header length is over the limit', async () => {
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: BigInt(MAX_HEADER_SIZE) + 1n, max: 2n ** 64n - 1n }), async (claimed) => {
        const head = fileOf('', new Uint8Array(0), claimed);
        let requested = 0;
        // A file that claims to be huge: any read past 8 bytes would be the header's allocation.
        const src = { name: 'big', size: 2 ** 52, read: async (off: number, len: number) => ((requested += len), head.slice(off, off + len)) };
        await expect(openSafetensors(src)).rejects.toMatchObject({ kind: 'header-too-large' });
        expect(requested).toBeLessThanOrEqual(8);
      }),
      { numRuns: 50 },
    );
  });

  it('tensor entries with arbitrary (negative, huge, fractional, non-numeric) shapes and offsets give SafetensorsError', () => {
    const num = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-1, 2 ** 53, 2 ** 64, 1e308, -0, 0.5), fc.string({ maxLength: 3 }), fc.constant(null));
    const entry = fc.record({
      dtype: fc.oneof(fc.constantFrom('F32', 'U8', 'F64', 'BOOL', 'f32', ''), fc.string({ maxLength: 4 })),
      shape: fc.oneof(fc.array(num, { maxLength: 4 }), num),
      data_offsets: fc.oneof(fc.array(num, { maxLength: 3 }), num),
    }, { requiredKeys: [] });
    fc.assert(
      fc.property(fc.dictionary(name, entry, { maxKeys: 3 }), fc.nat({ max: 64 }), (entries, dataLen) => {
        onlySafetensorsError(() => readSafetensors(fileOf(JSON.stringify(entries), new Uint8Array(dataLen))));
      }),
      { numRuns: 400 },
    );
  });

  it('arbitrary JSON headers, including deeply nested ones, give SafetensorsError or a file', () => {
    fc.assert(
      fc.property(fc.json({ depthSize: 'medium' }), (j) => void onlySafetensorsError(() => readSafetensors(fileOf(j)))),
      { numRuns: 300 },
    );
    // Far deeper than any stack-based parser survives unguarded.
    for (const depth of [129, 10_000, 200_000]) {
      for (const [open, close] of [['[', ']'], ['{"a":', '}']]) {
        const err = onlySafetensorsError(() => readSafetensors(fileOf(`{"__metadata__":${open.repeat(depth)}1${close.repeat(depth)}}`)));
        expect(err, `depth ${depth}`).toBeInstanceOf(SafetensorsError);
      }
    }
  });

  it('duplicate names are refused (a JSON parser would silently keep the last)', () => {
    fc.assert(
      fc.property(name, fc.nat({ max: 3 }), (n, extra) => {
        const e = JSON.stringify({ dtype: 'U8', shape: [0], data_offsets: [0, 0] });
        const others = Array.from({ length: extra }, (_, i) => `${JSON.stringify(`${n}#${i}`)}:${e}`);
        const header = `{${[`${JSON.stringify(n)}:${e}`, ...others, `${JSON.stringify(n)}:${e}`].join(',')}}`;
        const err = onlySafetensorsError(() => readSafetensors(fileOf(header)));
        expect(err?.kind).toBe('duplicate-key');
      }),
      { numRuns: 100 },
    );
  });

  it('header bytes that are not UTF-8 give SafetensorsError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), (junk) => {
        const b = new Uint8Array(8 + 2 + junk.length);
        new DataView(b.buffer).setBigUint64(0, BigInt(2 + junk.length), true);
        b.set([0x7b, 0x22], 8); // '{"'
        b.set(junk, 10);
        onlySafetensorsError(() => readSafetensors(b));
      }),
      { numRuns: 200 },
    );
  });
});
