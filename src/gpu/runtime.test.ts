import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireDevice } from './device';
import { GpuError } from './errors';
import { nodeGPU } from './node';
import { params } from './params';
import { Gpu } from './runtime';
import { expandShader, preprocess } from './shaders';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', `${name}.wgsl`), 'utf8');
async function fixtureGpu() {
  return new Gpu(await acquireDevice(await nodeGPU()), fixture);
}

describe('preprocessor', () => {
  const src = ['a', '#if X', 'x', '#elif Y == 2', 'y2', '#else', 'other', '#endif', 'v=${V}'].join('\n');
  it('selects branches and keeps line numbers', () => {
    expect(preprocess(src, { X: 1, V: 3 }).split('\n')).toEqual(['a', '', 'x', '', '', '', '', '', 'v=3']);
    expect(preprocess(src, { Y: 2, V: 'q' }).split('\n')).toEqual(['a', '', '', '', 'y2', '', '', '', 'v=q']);
    expect(preprocess(src, { X: 0, Y: 3, V: 0 }).split('\n')).toEqual(['a', '', '', '', '', '', 'other', '', 'v=0']);
  });
  it('nests, and an inactive parent disables every child branch', () => {
    const nested = ['#if A', '#if B', 'ab', '#else', 'a!b', '#endif', '#else', '#if B', 'b', '#endif', '#endif'].join('\n');
    expect(preprocess(nested, { A: 1, B: 0 }).trim()).toBe('a!b');
    expect(preprocess(nested, { A: 0, B: 1 }).trim()).toBe('b');
    expect(preprocess(nested, {}).trim()).toBe('');
  });
  it('includes other shaders with the same defines, each once, remembering where lines came from', () => {
    const files: Record<string, string> = {
      main: ['#include "lib"', 'main ${V}', '#include "lib"', '#if X', '#include "other"', '#endif'].join('\n'),
      lib: ['#include "main"', 'lib ${V}', '#if X', 'lib x', '#endif'].join('\n'),
      other: 'other',
    };
    const src = (n: string) => {
      if (!(n in files)) throw new Error(`no shaders/${n}.wgsl`);
      return files[n];
    };
    const on = expandShader('main', src, { V: 7, X: 1 });
    expect(on.code.split('\n')).toEqual(['', 'lib 7', '', 'lib x', '', 'main 7', '', '', 'other', '']);
    expect(on.origin.map((o) => `${o.file}:${o.line}`)).toEqual(['lib:1', 'lib:2', 'lib:3', 'lib:4', 'lib:5', 'main:2', 'main:3', 'main:4', 'other:1', 'main:6']);
    // Inside an inactive branch an include reads nothing (a missing file is no error there).
    files.other = '';
    delete files.other;
    expect(expandShader('main', src, { V: 0 }).code.split('\n')).toEqual(['', 'lib 0', '', '', '', 'main 0', '', '', '', '']);
    expect(() => expandShader('main', src, { V: 0, X: 1 })).toThrow(/main\.wgsl:5: #include "other": no shaders\/other\.wgsl/);
    expect(() => preprocess('#include lib', {}, 'foo')).toThrow(/foo\.wgsl:1: bad #include/);
    expect(() => preprocess('#include "lib"', {}, 'foo')).toThrow(/foo\.wgsl:1: #include "lib" needs a shader source/);
  });
  it('rejects malformed input with the file and line', () => {
    expect(() => preprocess('#if A\nx', {}, 'foo')).toThrow(/foo\.wgsl: unterminated/);
    expect(() => preprocess('#endif', {}, 'foo')).toThrow(/foo\.wgsl:1: #endif without #if/);
    expect(() => preprocess('${NOPE}', {}, 'foo')).toThrow(/foo\.wgsl:1: \$\{NOPE\} is not defined/);
  });
});

describe('device acquisition', () => {
  it('turns a missing WebGPU into a typed error', async () => {
    await expect(acquireDevice(undefined)).rejects.toMatchObject({ kind: 'no-webgpu' });
  });
  it('turns requestAdapter() → null into a typed error, not a crash on null', async () => {
    const fake = { requestAdapter: async () => null } as unknown as GPU;
    await expect(acquireDevice(fake)).rejects.toMatchObject({ kind: 'no-adapter' });
  });
  it('reports the adapter and its limits', async () => {
    const gpu = await fixtureGpu();
    expect(gpu.report.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    expect(typeof gpu.report.isFallbackAdapter).toBe('boolean');
    gpu.destroy();
  });
});

describe('runtime', () => {
  it('runs a kernel with override constants and preprocessor defines (cached per key)', async () => {
    const gpu = await fixtureGpu();
    const n = 100;
    const x = gpu.tensor([n], Float32Array.from({ length: n }, (_, i) => i - 50));
    const y = gpu.tensor([n]);
    gpu.fill(y);
    const k3 = gpu.kernel({ shader: 'double', constants: { SCALE: 3 }, bindings: ['uniform', 'read', 'rw'] });
    expect(gpu.kernel({ shader: 'double', constants: { SCALE: 3 }, bindings: ['uniform', 'read', 'rw'] })).toBe(k3);
    gpu.dispatch(k3, [x, y], [2], params().u32(n));
    const got = await gpu.read(y);
    expect(Array.from(got)).toEqual(Array.from({ length: n }, (_, i) => 3 * (i - 50)));
    const kneg = gpu.kernel({ shader: 'double', defines: { NEGATE: 1 }, bindings: ['uniform', 'read', 'rw'] });
    gpu.dispatch(kneg, [x, y], [2], params().u32(n));
    expect((await gpu.read(y))[0]).toBe(100);
    gpu.destroy();
  });
  it('batches several dispatches with distinct params into one submission', async () => {
    const gpu = await fixtureGpu();
    const x = gpu.tensor([4], new Float32Array([1, 2, 3, 4]));
    const y = gpu.tensor([4]);
    const z = gpu.tensor([4]);
    const k = gpu.kernel({ shader: 'double', bindings: ['uniform', 'read', 'rw'] });
    gpu.dispatch(k, [x, y], [1], params().u32(4)); // y = 2x
    gpu.dispatch(k, [y, z], [1], params().u32(2)); // z[0..2] = 2y, rest untouched
    gpu.fill(z, -1); // write flushes first, so the dispatches above ran before it
    gpu.dispatch(k, [y, z], [1], params().u32(3));
    expect(Array.from(await gpu.read(z))).toEqual([4, 8, 12, -1]);
    gpu.destroy();
  });
  /** Builds a kernel from a fixture and returns the error the next sync rejects with. */
  async function compileError(shader: string): Promise<unknown> {
    const gpu = await fixtureGpu();
    gpu.kernel({ shader, bindings: ['rw'] });
    const err = await gpu.sync().then(
      () => null,
      (e: unknown) => e,
    );
    gpu.destroy();
    return err;
  }
  it('fails loudly on a WGSL compile error, naming the shader file and line', async () => {
    const err = await compileError('broken');
    expect(err).toBeInstanceOf(GpuError);
    expect((err as GpuError).kind).toBe('shader-compile');
    expect((err as GpuError).message).toMatch(/broken\.wgsl:4:/);
  });
  it('names the included file and its line when the error is in an included shader', async () => {
    const err = await compileError('uses_broken_helper');
    expect((err as GpuError).kind).toBe('shader-compile');
    expect((err as GpuError).message).toMatch(/broken_helper\.wgsl:4:/);
  });
  it('rejects mismatched bindings with a message naming the kernel', async () => {
    const gpu = await fixtureGpu();
    const k = gpu.kernel({ shader: 'double', bindings: ['uniform', 'read', 'rw'] });
    const x = gpu.tensor([4]);
    expect(() => gpu.dispatch(k, [x], [1], params().u32(4))).toThrow(/double: missing tensor for binding 2/);
    gpu.destroy();
  });
  it('surfaces a lost device to the caller instead of hanging', async () => {
    let notified: GpuError | null = null;
    const gpu = new Gpu(await acquireDevice(await nodeGPU()), fixture, { onLost: (e) => (notified = e) });
    const x = gpu.tensor([4], new Float32Array(4));
    gpu.device.destroy();
    const err = await gpu.lost;
    expect(err.kind).toBe('device-lost');
    expect(notified).toBe(err);
    await expect(gpu.read(x)).rejects.toMatchObject({ kind: 'device-lost' });
    expect(() => gpu.tensor([1])).toThrow(/device was lost/);
  });
  it('tracks live and peak tensor bytes and reuses pooled buffers', async () => {
    const gpu = await fixtureGpu();
    const a = gpu.tensor([1000]);
    const buf = a.buffer;
    expect(gpu.memory().liveBytes).toBe(4000);
    gpu.release(a);
    expect(gpu.memory().liveBytes).toBe(0);
    expect(gpu.memory().peakBytes).toBe(4000);
    const b = gpu.tensor([1000]);
    expect(b.buffer).toBe(buf);
    gpu.destroy();
  });
});
