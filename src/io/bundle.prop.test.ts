// Property tests of unzipFiles: a damaged, truncated or hostile zip gives CheckpointError
// (kind 'zip'), never a TypeError, RangeError, hang or huge allocation; a valid bundle from
// zipFiles comes back byte for byte.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointError, unzipFiles, zipFiles, type CheckpointFiles } from './bundle';

function onlyCheckpointError(fn: () => unknown): CheckpointError | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof CheckpointError) return e;
    throw e;
  }
}

const part = fc.stringMatching(/^[a-z0-9_.-]{1,6}$/).filter((p) => p !== '.' && p !== '..');
const files: fc.Arbitrary<CheckpointFiles> = fc
  .uniqueArray(fc.tuple(fc.array(part, { minLength: 1, maxLength: 2 }).map((p) => p.join('/')), fc.uint8Array({ maxLength: 40 })), { minLength: 1, maxLength: 4, selector: ([n]) => n })
  // One name may not be another's folder ("a" and "a/b"): zip cannot hold both.
  .filter((es) => es.every(([a]) => es.every(([b]) => a === b || !b.startsWith(`${a}/`))))
  .map((es) => new Map(es.map(([n, b]) => [n.endsWith('.json') ? n : `${n}.json`, b])));

/** Offsets of the central directory entries (signature PK\1\2). */
function centralEntries(zip: Uint8Array): number[] {
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 4 <= zip.length; i++) if (dv.getUint32(i, true) === 0x02014b50) out.push(i);
  return out;
}

describe('unzipFiles on damaged and hostile bytes', () => {
  it('round trips zipFiles', () => {
    fc.assert(
      fc.property(files, (f) => {
        const back = unzipFiles(zipFiles(f));
        // A single top-level folder is stripped (a zipped folder); compare without it.
        const strip = (m: CheckpointFiles) => {
          const tops = new Set([...m.keys()].map((k) => (k.includes('/') ? k.slice(0, k.indexOf('/')) : '')));
          const cut = tops.size === 1 && !tops.has('') ? [...tops][0].length + 1 : 0;
          return new Map([...m].map(([k, v]) => [k.slice(cut), Array.from(v)]));
        };
        expect(new Map([...back].map(([k, v]) => [k, Array.from(v)]))).toEqual(strip(f));
      }),
      { numRuns: 100 },
    );
  });

  it('any truncation gives CheckpointError', () => {
    fc.assert(
      fc.property(files, fc.nat(), (f, cut) => {
        const z = zipFiles(f);
        const err = onlyCheckpointError(() => unzipFiles(z.subarray(0, cut % z.length)));
        expect(err?.kind).toBe('zip');
      }),
      { numRuns: 200 },
    );
  });

  it('byte flips give the files or CheckpointError', () => {
    fc.assert(
      fc.property(files, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), (f, flips) => {
        const z = zipFiles(f).slice();
        for (const [at, x] of flips) z[at % z.length] ^= x;
        onlyCheckpointError(() => unzipFiles(z));
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary bytes give CheckpointError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (b) => void expect(onlyCheckpointError(() => unzipFiles(b))?.kind).toBe('zip')), { numRuns: 200 });
  });

  it('huge or inconsistent sizes and offsets in the central directory give CheckpointError', () => {
    // Field offsets within a central directory entry: compressed size 20, uncompressed 24,
    // name length 28, extra 30, comment 32, local header offset 42; method 10.
    const field = fc.constantFrom([10, 2], [20, 4], [24, 4], [28, 2], [30, 2], [32, 2], [42, 4]);
    const value = fc.oneof(fc.constantFrom(0, 1, 0xffff, 0xffffffff, 0x7fffffff, 0xfffffff0, 8), fc.nat());
    fc.assert(
      fc.property(files, field, value, fc.nat(), (f, [off, size], v, which) => {
        const z = zipFiles(f).slice();
        const entries = centralEntries(z);
        const at = entries[which % entries.length] + off;
        const dv = new DataView(z.buffer);
        if (size === 2) dv.setUint16(at, v & 0xffff, true);
        else dv.setUint32(at, v >>> 0, true);
        onlyCheckpointError(() => unzipFiles(z));
      }),
      { numRuns: 300 },
    );
  });

  // Found by the property above (it passed only because Node allocates lazily): an entry
  // that declared an uncompressed size of 0xfffffff0 made unzipFiles allocate a 4 GiB
  // output buffer before inflating 140 bytes (a browser tab may die on that allocation).
  // Declared sizes are now bounded by the compressed size (deflate's 1032:1) and a fixed
  // maximum before anything is allocated.
  it('a declared uncompressed size far beyond the data is refused without allocating it', () => {
    const z = zipFiles(new Map([['a.json', new TextEncoder().encode('{"x":1}'.repeat(20))]])).slice();
    const dv = new DataView(z.buffer);
    for (const at of centralEntries(z)) dv.setUint32(at + 24, 0xfffffff0, true);
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 0);
    try {
      expect(onlyCheckpointError(() => unzipFiles(z))?.kind).toBe('zip');
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    } finally {
      clearInterval(timer);
    }
    expect(peak - before).toBeLessThan(64 * 2 ** 20);
    expect(onlyCheckpointError(() => unzipFiles(z))?.message).toMatch(/declared size 4294967280 bytes/);
  });

  it('entries whose data overlap (one stream claimed twice, more than the file holds) are refused', () => {
    const big = new Uint8Array(1000).map((_, i) => (i * 7) & 0xff);
    const z = zipFiles(new Map([['a.safetensors', big], ['b.safetensors', new Uint8Array(1)]])).slice();
    const dv = new DataView(z.buffer);
    const [first, second] = centralEntries(z);
    // b's directory entry points at a's local header and claims a's sizes and CRC: each
    // entry alone is consistent, together they claim more data than the file has.
    for (const field of [16, 20, 24, 42]) dv.setUint32(second + field, dv.getUint32(first + field, true), true);
    expect(onlyCheckpointError(() => unzipFiles(z))?.message).toMatch(/b\.safetensors: entries' data overlap/);
  });

  it('highly compressible files (near deflate\'s 1032:1) still round trip', () => {
    const zeros = new Uint8Array(1 << 16);
    expect(unzipFiles(zipFiles(new Map([['z.json', zeros]]))).get('z.json')).toEqual(zeros);
  });
});
