// Browser-only device acquisition and shader access: Vite bundles every shaders/*.wgsl as text.
import { acquireDevice, type AcquireOptions } from './device';
import { GpuError } from './errors';
import { Gpu, type GpuOptions } from './runtime';
import type { ShaderSource } from './shaders';

const files = import.meta.glob('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
const byName = new Map(Object.entries(files).map(([path, code]) => [path.replace(/^.*\/(.*)\.wgsl$/, '$1'), code]));

export const browserShaderSource: ShaderSource = (name) => {
  const code = byName.get(name);
  if (code === undefined) throw new GpuError('shader-compile', `shader not found: shaders/${name}.wgsl`);
  return code;
};

export async function createBrowserGpu(opts: AcquireOptions & GpuOptions = {}): Promise<Gpu> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  const acq = await acquireDevice(gpu, opts);
  return new Gpu(acq, browserShaderSource, opts);
}
