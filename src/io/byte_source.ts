// Random-access byte sources: what the streaming readers (openSafetensors, openBase) read
// through, so a multi-gigabyte checkpoint is never held in memory whole. Browser-safe (no
// Node APIs); Node files come from ./node_source.ts.

/** A file read by positioned reads. `read` returns exactly `length` bytes unless the file ends first. */
export interface ByteSource {
  /** The file's name (as in its folder: "model.safetensors"). */
  name: string;
  /** Its size in bytes. */
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

function checkRange(name: string, size: number, offset: number, length: number) {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new RangeError(`${name}: invalid read of ${length} bytes at offset ${offset}`);
  }
  // Reads past the end return what there is; the readers turn a short read into an error.
  return Math.min(length, Math.max(0, size - offset));
}

/** A browser File (or any Blob with a name): each read slices the Blob, so only those bytes are loaded. */
export function fileSource(file: Blob & { name: string }, name: string = file.name): ByteSource {
  return {
    name,
    size: file.size,
    async read(offset, length) {
      const n = checkRange(name, file.size, offset, length);
      return new Uint8Array(await file.slice(offset, offset + n).arrayBuffer());
    },
  };
}

/** Bytes already in memory (tests, small files, a bundle's entries). */
export function bytesSource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    size: bytes.length,
    async read(offset, length) {
      const n = checkRange(name, bytes.length, offset, length);
      // A copy, as a file read would give: loaded tensors never alias the caller's bytes.
      return bytes.slice(offset, offset + n);
    },
  };
}

/** A whole file map (CheckpointFiles) as sources. */
export function bytesFolder(files: Map<string, Uint8Array>): Map<string, ByteSource> {
  return new Map([...files].map(([k, v]) => [k, bytesSource(k, v)]));
}

/** The whole of a (small) source: JSON and text files. */
export async function readAll(src: ByteSource): Promise<Uint8Array> {
  return src.read(0, src.size);
}
