// Node-only device acquisition (the `webgpu` package: Dawn) and shader file access.
// Everything else is the shared runtime.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireDevice, type AcquireOptions } from './device';
import { GpuError } from './errors';
import { Gpu, type GpuOptions } from './runtime';
import type { ShaderSource } from './shaders';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository's top-level shaders/ folder. */
export const SHADER_DIR = resolve(here, '../../shaders');

export const nodeShaderSource: ShaderSource = (name) => {
  const file = join(SHADER_DIR, `${name}.wgsl`);
  if (!existsSync(file)) throw new GpuError('shader-compile', `shader not found: shaders/${name}.wgsl`);
  return readFileSync(file, 'utf8');
};

const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Chooses a Vulkan driver for Dawn when the user has not: PREFIX_LAB_DRIVER=lavapipe|swiftshader
 * forces one; otherwise lavapipe when installed (8-10x faster on CPU), else SwiftShader
 * from Debian's chromium package. A real GPU's ICD is used when VK_ICD_FILENAMES is set.
 */
export function chooseVulkanDriver(): string | undefined {
  if (process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES) return process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
  const want = process.env.PREFIX_LAB_DRIVER;
  const pick =
    want === 'swiftshader' ? SWIFTSHADER_ICD : want === 'lavapipe' ? LAVAPIPE_ICD : existsSync(LAVAPIPE_ICD) ? LAVAPIPE_ICD : existsSync(SWIFTSHADER_ICD) ? SWIFTSHADER_ICD : undefined;
  if (pick && existsSync(pick)) process.env.VK_ICD_FILENAMES = pick;
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
  return pick;
}

let gpuFactory: GPU | null = null;

/** navigator.gpu's equivalent in Node (Dawn); installs WebGPU globals (GPUBufferUsage, …). */
export async function nodeGPU(): Promise<GPU> {
  if (gpuFactory) return gpuFactory;
  chooseVulkanDriver();
  let mod: typeof import('webgpu');
  try {
    mod = await import('webgpu');
  } catch (e) {
    throw new GpuError('no-webgpu', `the 'webgpu' package (Dawn for Node) could not be loaded: ${(e as Error).message}. Run npm install.`);
  }
  Object.assign(globalThis, mod.globals);
  gpuFactory = mod.create([]) as unknown as GPU;
  return gpuFactory;
}

export async function createNodeGpu(opts: AcquireOptions & GpuOptions = {}): Promise<Gpu> {
  const gpu = await nodeGPU();
  const acq = await acquireDevice(gpu, opts);
  return new Gpu(acq, nodeShaderSource, opts);
}
