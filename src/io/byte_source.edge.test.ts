// Byte sources (found by mutation testing, docs/TESTING.md): the range checks, reads past
// the end (short, never an error), copies that never alias the caller's bytes, and the
// same behaviour from memory, a Blob and a file on disk.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rejected } from '../util/thrown';
import { type ByteSource, bytesFolder, bytesSource, fileSource, readAll } from './byte_source';
import { nodeFileSource, nodeFolderSources } from './node_source';

const bytes = Uint8Array.from({ length: 10 }, (_, i) => i * 3);

async function behaves(src: ByteSource, name: string) {
  expect(src.name).toBe(name);
  expect(src.size).toBe(10);
  expect(Array.from(await src.read(2, 3))).toEqual([6, 9, 12]);
  expect(Array.from(await src.read(0, 10))).toEqual(Array.from(bytes));
  // Past the end: what there is.
  expect(Array.from(await src.read(8, 5))).toEqual([24, 27]);
  expect((await src.read(10, 4)).length).toBe(0);
  expect((await src.read(12, 4)).length).toBe(0);
  expect((await src.read(3, 0)).length).toBe(0);
  for (const [o, n] of [
    [-1, 2],
    [0, -1],
    [0.5, 1],
    [0, 1.5],
    [NaN, 1],
    [0, Infinity],
    [2 ** 53, 1],
  ]) {
    const e = await rejected(RangeError, src.read(o, n));
    expect(e.message).toBe(`${name}: invalid read of ${n} bytes at offset ${o}`);
  }
  expect(Array.from(await readAll(src))).toEqual(Array.from(bytes));
}

describe('byte sources', () => {
  it('bytesSource: reads, short reads past the end, refused ranges; copies', async () => {
    const src = bytesSource('m.bin', bytes);
    await behaves(src, 'm.bin');
    const r = await src.read(0, 4);
    r[0] = 99;
    expect(bytes[0]).toBe(0);
    expect((await src.read(0, 4)).buffer).not.toBe(bytes.buffer);
  });
  it('fileSource: the same through Blob slices, named after the file unless told', async () => {
    const file = Object.assign(new Blob([bytes]), { name: 'f.bin' });
    await behaves(fileSource(file), 'f.bin');
    await behaves(fileSource(file, 'other.bin'), 'other.bin');
  });
  it('bytesFolder: one source per file, by name', async () => {
    const folder = bytesFolder(new Map([['a', bytes], ['b', Uint8Array.of(1)]]));
    expect([...folder.keys()]).toEqual(['a', 'b']);
    expect(folder.get('b')!.name).toBe('b');
    expect(folder.get('b')!.size).toBe(1);
    await behaves(folder.get('a')!, 'a');
  });
  it('files on disk: the same, a file that shrinks reads short, subfolders are skipped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'byte-source-'));
    try {
      await writeFile(join(dir, 'w.bin'), bytes);
      await writeFile(join(dir, 'x.txt'), 'hi');
      await mkdtemp(join(dir, 'sub-'));
      const folder = await nodeFolderSources(dir);
      expect([...folder.keys()].sort()).toEqual(['w.bin', 'x.txt']);
      await behaves(folder.get('w.bin')!, 'w.bin');
      await behaves(await nodeFileSource(join(dir, 'w.bin'), 'named'), 'named');
      const src = await nodeFileSource(join(dir, 'w.bin'));
      expect(src.name).toBe('w.bin');
      const whole = await src.read(0, 10);
      expect(whole.byteOffset).toBe(0);
      expect(whole.buffer.byteLength).toBe(10);
      await writeFile(join(dir, 'w.bin'), bytes.subarray(0, 6));
      expect(Array.from(await src.read(4, 4))).toEqual([12, 15]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
