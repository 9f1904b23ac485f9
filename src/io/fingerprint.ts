// A base model's fingerprint: SHA-256 over its config and every base tensor's bytes, in
// a fixed order. Adapters record it so that loading one onto another base is refused.
// Uses WebCrypto (globalThis.crypto.subtle), present in browsers (secure contexts) and Node.

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as unknown as ArrayBuffer);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Fingerprint of named float32 tensors plus a config object (names sorted, so order-free). */
export async function fingerprint(config: object, tensors: Map<string, Float32Array>): Promise<string> {
  const enc = new TextEncoder();
  const names = [...tensors.keys()].sort();
  const head = enc.encode(JSON.stringify({ config, names, sizes: names.map((n) => tensors.get(n)!.length) }));
  let total = head.length;
  for (const n of names) total += tensors.get(n)!.byteLength;
  const all = new Uint8Array(total);
  all.set(head, 0);
  let off = head.length;
  for (const n of names) {
    const t = tensors.get(n)!;
    all.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), off);
    off += t.byteLength;
  }
  return (await sha256Hex(all)).slice(0, 16);
}
