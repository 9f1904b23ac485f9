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
import { readSafetensors, writeSafetensors, type SafeTensorInput } from '../io/safetensors';
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

describe(`kernel command (seed ${seed})`, () => {
  it('gelu: forward and backward outputs match the float64 reference', async () => {
    const shape = [3, rng.int(2, 9), rng.int(1, 7)];
    const x = f32(shape, 2);
    const dy = f32(shape);
    const out = await runKernel('gelu', { x, dy });
    expect(out.metadata.kernel).toBe('gelu');
    expect(out.tensors.y.shape).toEqual(shape);
    expect(out.tensors.y.dtype).toBe('F32');
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
});
