// A base model's fingerprint: SHA-256 over its config and every base tensor's bytes, in
// a fixed order. Adapters record it so that loading one onto another base is refused.
// Hashed incrementally (@noble/hashes), so a checkpoint of any size is fingerprinted tensor
// by tensor as it streams in, with the same bytes (and digest) as hashing it all at once:
//   UTF-8 JSON.stringify({config, names, sizes}) ‖ each tensor's float32 LE bytes, names sorted.
import { sha256 } from '@noble/hashes/sha2';

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return hex(sha256(bytes));
}

/** Default string order (UTF-16 code units), as the fingerprint has always sorted names. */
export function fingerprintOrder(names: Iterable<string>): string[] {
  return [...names].sort();
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Incremental fingerprint: give it the names and sizes up front, then every tensor in
 * fingerprintOrder (enforced: a tensor out of order or of the wrong length throws, since
 * that would silently give another digest), then digest().
 */
export class FingerprintHasher {
  private readonly h = sha256.create();
  private next = 0;
  private readonly names: string[];
  private readonly sizes: number[];

  constructor(config: object, tensors: Map<string, number>) {
    this.names = fingerprintOrder(tensors.keys());
    this.sizes = this.names.map((n) => tensors.get(n)!);
    this.h.update(new TextEncoder().encode(JSON.stringify({ config, names: this.names, sizes: this.sizes })));
  }

  /** The name update() expects next (null when all are in). */
  expected(): string | null {
    return this.next < this.names.length ? this.names[this.next] : null;
  }

  update(name: string, t: Float32Array) {
    const want = this.expected();
    if (name !== want) throw new Error(`fingerprint: got tensor ${name}, expected ${want ?? 'no more tensors'}`);
    if (t.length !== this.sizes[this.next]) throw new Error(`fingerprint: tensor ${name} has ${t.length} values, expected ${this.sizes[this.next]}`);
    let bytes = new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
    if (!HOST_LITTLE_ENDIAN) {
      bytes = bytes.slice();
      for (let i = 0; i < bytes.length; i += 4) bytes.subarray(i, i + 4).reverse();
    }
    this.h.update(bytes);
    this.next++;
  }

  /** First 16 hex digits of the digest. */
  digest(): string {
    if (this.expected() !== null) throw new Error(`fingerprint: tensor ${this.expected()} was never given`);
    return hex(this.h.digest()).slice(0, 16);
  }
}

/** Fingerprint of named float32 tensors plus a config object (names sorted, so order-free). */
export async function fingerprint(config: object, tensors: Map<string, Float32Array>): Promise<string> {
  const h = new FingerprintHasher(config, new Map([...tensors].map(([k, v]) => [k, v.length])));
  for (const n of fingerprintOrder(tensors.keys())) h.update(n, tensors.get(n)!);
  return h.digest();
}
