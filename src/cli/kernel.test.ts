// The kernel command end to end: a tiny safetensors file in, the command's run function on
// the GPU, the output file read back and compared with the float64 references.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeGpu } from '../gpu/node';
import type { Gpu } from '../gpu/runtime';
import { relErr } from '../kernels/check';
import { geluBackwardRef, geluRef } from '../kernels/gelu.ref';
import { ntkAttentionBackwardRef, ntkAttentionRef } from '../kernels/ntk_attention.ref';
import { prefixAttentionBackwardRef, prefixAttentionRef } from '../kernels/prefix_attention.ref';
import { scaledErr, U32 } from '../kernels/scaled';
import { readSafetensors, writeSafetensors, type SafeTensorInput } from '../io/safetensors';
import type { KParam } from '../train/config';
import { freshSeed, Rng } from '../util/rng';
import { parseArgs, type CliContext } from './args';
import { command } from './kernel';

let gpu: Gpu;
let dir: string;
const seed = freshSeed();
const rng = new Rng(seed);
beforeAll(async () => {
  gpu = await createNodeGpu();
  dir = mkdtempSync(join(tmpdir(), 'prefix-lab-kernel-cli-'));
});
afterAll(() => {
  gpu?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const lines: string[] = [];
const ctx = (): CliContext => ({ out: (s) => lines.push(s), err: (s) => lines.push(s), gpu: async () => gpu });

/** Writes `tensors` to a file, runs `kernel <name> --in … --out … ...extra`, returns the outputs. */
async function runKernel(name: string, tensors: Record<string, SafeTensorInput>, extra: string[] = [], metadata?: Record<string, string>) {
  const inPath = join(dir, `${name}-in.safetensors`);
  const outPath = join(dir, `${name}-out.safetensors`);
  rmSync(outPath, { force: true });
  writeFileSync(inPath, writeSafetensors(tensors, metadata));
  const code = await command.run(parseArgs(command, [name, '--in', inPath, '--out', outPath, ...extra]), ctx());
  expect(code).toBe(0);
  return readSafetensors(new Uint8Array(readFileSync(outPath)));
}

/** Runs the command and returns the message it throws. */
async function failure(name: string, tensors: Record<string, SafeTensorInput>, extra: string[] = []): Promise<string> {
  const inPath = join(dir, `${name}-bad.safetensors`);
  writeFileSync(inPath, writeSafetensors(tensors));
  try {
    await command.run(parseArgs(command, [name, '--in', inPath, ...extra]), ctx());
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the kernel command to fail');
}

const f32 = (shape: number[], std = 1) => ({ shape, data: Float32Array.from(rng.normals(shape.reduce((a, b) => a * b, 1), std)) });
const f64of = (a: Float32Array) => Float64Array.from(a);
const KPARAMS: KParam[] = ['abs', 'exp', 'softplus', 'identity'];

describe(`kernel command (seed ${seed})`, () => {
  it('gelu: forward and backward outputs match the float64 reference', async () => {
    const shape = [3, rng.int(2, 9), rng.int(1, 7)];
    const x = f32(shape, 2);
    const dy = f32(shape);
    const out = await runKernel('gelu', { x, dy });
    expect(out.metadata.kernel).toBe('gelu');
    expect(out.tensors.y.shape).toEqual(shape);
    expect(out.tensors.y.dtype).toBe('F32');
    expect(Object.keys(out.tensors).sort()).toEqual(['dx', 'y']);
    // Element-wise float32 math: a few ulps (see gelu.check.ts), so 1e-5.
    expect(relErr(out.tensors.y.data as Float32Array, geluRef(f64of(x.data)))).toBeLessThan(1e-5);
    expect(relErr(out.tensors.dx.data as Float32Array, geluBackwardRef(f64of(x.data), f64of(dy.data)))).toBeLessThan(1e-5);

    // --reference: the float64 reference, written as F64, equal to it exactly.
    const ref = await runKernel('gelu', { x }, ['--reference']);
    expect(ref.tensors.y.dtype).toBe('F64');
    expect(Array.from(ref.tensors.y.data as Float64Array)).toEqual(Array.from(geluRef(f64of(x.data))));
    expect(ref.tensors.dx).toBeUndefined();

    // --compare prints one error line per output.
    lines.length = 0;
    await runKernel('gelu', { x, dy }, ['--compare']);
    expect(lines.some((l) => /^y\s+\d\.\d\de-\d+/.test(l))).toBe(true);
    expect(lines.some((l) => /^dx\s+\d\.\d\de-\d+/.test(l))).toBe(true);
  });

  it('gelu: mismatched, missing or integer tensors give an error naming the tensor', async () => {
    expect(await failure('gelu', { x: f32([3, 5]), dy: f32([3, 4]) })).toBe('dy: expected shape [3,5] (same shape from x), got [3,4]');
    expect(await failure('gelu', { z: f32([3]) })).toContain("no tensor 'x' (it has: z)");
    expect(await failure('gelu', { x: { shape: [2], data: Int32Array.from([1, 2]) } })).toBe('x: expected a float tensor (F32, F64, F16 or BF16), got I32');
  });

  // Attention: small odd shapes; float32 softmax-weighted sums over ≤ m + L terms, so
  // 3e-5 (the kernel checks' bound) separates rounding from a wrong tensor or layout.
  // m = 0 every time (empty dPk/dPv in the file), plus a fresh m ≥ 1. Every output is
  // compared, each with its own reference tensor: two outputs swapped (dQ for dK) fail.
  it.each([0, rng.int(1, 4)])('prefix-attention: every forward and backward output matches the float64 reference (m=%i)', async (m) => {
    const B = 2, H = 2, L = rng.int(1, 6), d = 5;
    const seq = [B, H, L, d];
    const t = { Q: f32(seq), K: f32(seq), V: f32(seq), Pk: f32([H, m, d]), Pv: f32([H, m, d]), dO: f32(seq) };
    const out = await runKernel('prefix-attention', t);
    const x = { q: f64of(t.Q.data), k: f64of(t.K.data), v: f64of(t.V.data), pk: f64of(t.Pk.data), pv: f64of(t.Pv.data) };
    const dims = { B, H, L, d, m, causal: true };
    const f = prefixAttentionRef(x, dims);
    const g = prefixAttentionBackwardRef(x, f64of(t.dO.data), dims);
    const want: Record<string, Float64Array> = { O: f.o, lse: f.lse, beta: f.beta, dQ: g.dq, dK: g.dk, dV: g.dv, dPk: g.dpk, dPv: g.dpv };
    expect(Object.keys(out.tensors).sort()).toEqual(Object.keys(want).sort());
    for (const [name, ref] of Object.entries(want)) {
      expect(out.tensors[name].shape.reduce((a, b) => a * b, 1), name).toBe(ref.length);
      expect(relErr(out.tensors[name].data as Float32Array, ref), name).toBeLessThan(3e-5);
    }
    expect(out.tensors.dPv.shape).toEqual([H, m, d]);
  });

  // NTK-Attention, each k parametrisation once per run (a fresh one here), κ of both signs
  // (so abs, identity, exp and softplus give different k̃). taylor2's φ(q)ᵀk̃ is signed and can
  // nearly cancel, so errors are judged against the reference's rounding scales (see
  // ntk_attention.ref.ts and ntk_attention.check.ts: 64·2⁻²⁴), not a relative error.
  it.each([['taylor2', KPARAMS[rng.int(0, 3)]], ['elu1', KPARAMS[rng.int(0, 3)]]] as const)(
    'ntk-attention (%s/%s): options from __metadata__, every output matches the float64 reference',
    async (featureMap, kParam) => {
      const B = 1, H = 2, L = rng.int(1, 6), d = 3, r = featureMap === 'taylor2' ? 1 + d + d * d : d;
      const seq = [B, H, L, d];
      const dims = { B, H, L, d, featureMap, kParam, causal: false };
      const kappa = { shape: [H, r], data: Float32Array.from({ length: H * r }, (_, i) => (i % 2 ? -1 : 1) * (0.2 + rng.next())) };
      const t = { Q: f32(seq), K: f32(seq), V: f32(seq), Z: f32([H, r, d], 0.3), kappa, dO: f32(seq) };
      const out = await runKernel('ntk-attention', t, ['--causal', 'false'], { feature_map: featureMap, k_param: kParam });
      expect(out.metadata.feature_map).toBe(featureMap);
      expect(out.metadata.k_param).toBe(kParam);
      const args = [f64of(t.Q.data), f64of(t.K.data), f64of(t.V.data), f64of(t.Z.data), f64of(t.kappa.data)] as const;
      const f = ntkAttentionRef(...args, dims);
      const g = ntkAttentionBackwardRef(...args, f64of(t.dO.data), dims);
      const want: Record<string, [Float64Array, Float64Array]> = {
        O: [f.o, f.oScale], beta: [f.beta, f.betaScale], dQ: [g.dq, g.scale.dq], dK: [g.dk, g.scale.dk], dV: [g.dv, g.scale.dv], dZ: [g.dz, g.scale.dz], dkappa: [g.dkappa, g.scale.dkappa],
      };
      expect(Object.keys(out.tensors).sort()).toEqual(Object.keys(want).sort());
      for (const [name, [ref, scale]] of Object.entries(want)) expect(scaledErr(out.tensors[name].data as Float32Array, ref, scale), name).toBeLessThan(64 * U32);
    },
  );

  it('attention inputs with mismatched shapes are refused, naming the tensor', async () => {
    const seq = [2, 3, 7, 5];
    const msg = await failure('prefix-attention', { Q: f32(seq), K: f32([2, 3, 7, 4]), V: f32(seq), Pk: f32([3, 2, 5]), Pv: f32([3, 2, 5]) });
    expect(msg).toBe('K: expected shape [2,3,7,5] (B,H,L,d from Q), got [2,3,7,4]');
    const msg2 = await failure('ntk-attention', { Q: f32(seq), K: f32(seq), V: f32(seq), Z: f32([3, 4, 5]), kappa: f32([3, 5]) });
    expect(msg2).toMatch(/^Z: expected shape \[3,5,5\]/);
  });
});
