// Node-only byte sources: positioned reads of files on disk (fs.promises), so the CLI loads
// a checkpoint of any size tensor by tensor, as the browser does through File.slice.
// The only file in src/io that imports Node modules; browser code must not import it.
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ByteSource } from './byte_source';

/** A file on disk. Each read opens, reads at the position and closes, so no handle outlives a call. */
export async function nodeFileSource(path: string, name: string = basename(path)): Promise<ByteSource> {
  const size = (await stat(path)).size;
  return {
    name,
    size,
    async read(offset, length) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
        throw new RangeError(`${name}: invalid read of ${length} bytes at offset ${offset}`);
      }
      const fh = await open(path, 'r');
      try {
        // Our own buffer (not Node's pooled one), so typed-array views of it are aligned.
        const buf = new Uint8Array(Math.min(length, Math.max(0, size - offset)));
        let got = 0;
        while (got < buf.length) {
          const { bytesRead } = await fh.read(buf, got, buf.length - got, offset + got);
          if (bytesRead === 0) break; // the file shrank: the caller sees a short read
          got += bytesRead;
        }
        return got === buf.length ? buf : buf.subarray(0, got);
      } finally {
        await fh.close();
      }
    },
  };
}

/** The regular files directly inside a folder, by name (subfolders are not entered). */
export async function nodeFolderSources(dir: string): Promise<Map<string, ByteSource>> {
  const out = new Map<string, ByteSource>();
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isFile()) out.set(e.name, await nodeFileSource(join(dir, e.name), e.name));
  }
  return out;
}
