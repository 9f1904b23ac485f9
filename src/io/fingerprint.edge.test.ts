// The hex digest and the hasher's messages (found by mutation testing, docs/TESTING.md).
import { describe, expect, it } from 'vitest';
import { FingerprintHasher, sha256Hex } from './fingerprint';

describe('fingerprint details', () => {
  it('sha256Hex pads every byte to two digits (FIPS 180-2 test vectors)', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await sha256Hex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
  it('a tensor after the last one is refused as "no more tensors"', () => {
    const h = new FingerprintHasher({}, new Map([['a', 1]]));
    h.update('a', new Float32Array(1));
    expect(() => h.update('b', new Float32Array(1))).toThrow('fingerprint: got tensor b, expected no more tensors');
    expect(h.expected()).toBeNull();
    expect(h.digest()).toMatch(/^[0-9a-f]{16}$/);
  });
});
