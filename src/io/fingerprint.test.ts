// The incremental fingerprint (@noble/hashes, tensor by tensor) must give the digest the
// one-shot WebCrypto definition always gave, or every existing adapter would stop loading.
import { describe, expect, it } from 'vitest';
import { fingerprint, FingerprintHasher } from './fingerprint';

/** The definition as first written: WebCrypto over the whole concatenation at once. */
async function oneShot(config: object, tensors: Map<string, Float32Array>): Promise<string> {
  const names = [...tensors.keys()].sort();
  const head = new TextEncoder().encode(JSON.stringify({ config, names, sizes: names.map((n) => tensors.get(n)!.length) }));
  const all = new Uint8Array(head.length + names.reduce((a, n) => a + tensors.get(n)!.byteLength, 0));
  all.set(head);
  let off = head.length;
  for (const n of names) {
    const t = tensors.get(n)!;
    all.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), off);
    off += t.byteLength;
  }
  const d = await crypto.subtle.digest('SHA-256', all);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('').slice(0, 16);
}

describe('fingerprint', () => {
  it('incremental equals the one-shot definition (names in any insertion order, views at offsets, empty tensors)', async () => {
    const backing = new Float32Array(70_001).map((_, i) => Math.sin(i) * 1e3);
    const tensors = new Map<string, Float32Array>([
      ['wte', backing.subarray(1, 60_001)],
      ['h.10.ln_1.bias', Float32Array.of(-0, 0, NaN)],
      ['h.2.attn.c_attn.weight', backing.subarray(60_001)],
      ['empty', new Float32Array(0)],
      ['Zeta', Float32Array.of(1)],
    ]);
    const config = { vocabSize: 5, contextLength: 3, nLayer: 1, nHead: 1, nEmbd: 2 };
    const want = await oneShot(config, tensors);
    expect(await fingerprint(config, tensors)).toBe(want);
    expect(await fingerprint(config, new Map([...tensors].reverse()))).toBe(want);
    const h = new FingerprintHasher(config, new Map([...tensors].map(([k, v]) => [k, v.length])));
    for (const n of [...tensors.keys()].sort()) h.update(n, tensors.get(n)!.slice());
    expect(h.digest()).toBe(want);
    // Any changed bit changes it.
    const changed = new Map(tensors).set('Zeta', Float32Array.of(1 + 2 ** -23));
    expect(await fingerprint(config, changed)).not.toBe(want);
  });

  it('refuses tensors out of order, of the wrong length, or missing (each would silently give another digest)', () => {
    const h = new FingerprintHasher({}, new Map([['a', 1], ['b', 2]]));
    expect(() => h.update('b', new Float32Array(2))).toThrow(/expected a/);
    expect(() => h.update('a', new Float32Array(2))).toThrow(/2 values, expected 1/);
    h.update('a', new Float32Array(1));
    expect(() => h.digest()).toThrow(/tensor b was never given/);
  });
});
