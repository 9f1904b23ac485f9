// Adapter and device acquisition, shared by browser and Node: the caller passes in the
// `GPU` object (navigator.gpu, or the one the `webgpu` package creates).
import { GpuError } from './errors';

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  features: string[];
  limits: Record<string, number>;
}

export interface AcquiredDevice {
  device: GPUDevice;
  adapter: GPUAdapter;
  report: AdapterReport;
  hasTimestamps: boolean;
  hasSubgroups: boolean;
}

/** Limits the kernels rely on; we ask for the adapter's maximum where it is larger. */
const WANTED_LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
] as const;

export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Ask for timestamp-query when the adapter has it (benchmarks). Default true. */
  timestamps?: boolean;
}

export async function acquireDevice(gpu: GPU | undefined | null, opts: AcquireOptions = {}): Promise<AcquiredDevice> {
  if (!gpu) {
    throw new GpuError(
      'no-webgpu',
      'WebGPU is not available here (navigator.gpu is missing). Use a recent Chrome/Edge (113+) or Firefox/Safari with WebGPU enabled; on Linux start Chrome with --enable-unsafe-webgpu --enable-features=Vulkan.',
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new GpuError(
      'no-adapter',
      'WebGPU is present but no GPU adapter was found (requestAdapter() returned null). On Linux, install a Vulkan driver (e.g. mesa-vulkan-drivers) or start Chrome with --enable-unsafe-webgpu --enable-features=Vulkan; in Node, set VK_ICD_FILENAMES to a Vulkan ICD.',
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[k];
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  const hasTimestamps = (opts.timestamps ?? true) && adapter.features.has('timestamp-query');
  const hasSubgroups = adapter.features.has('subgroups');
  const requiredFeatures: GPUFeatureName[] = [];
  if (hasTimestamps) requiredFeatures.push('timestamp-query');
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch (e) {
    throw new GpuError('device-request', `requestDevice failed: ${(e as Error).message}`);
  }
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  const limits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) limits[k] = (device.limits as unknown as Record<string, number>)[k];
  const report: AdapterReport = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    // isFallbackAdapter moved from the adapter to its info in newer spec versions.
    isFallbackAdapter: Boolean(
      (info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
        (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
        /swiftshader|llvmpipe|lavapipe/i.test(`${info.architecture} ${info.description} ${info.device}`),
    ),
    features: [...adapter.features].sort(),
    limits,
  };
  return { device, adapter, report, hasTimestamps, hasSubgroups };
}

export function describeAdapter(r: AdapterReport): string {
  const name = [r.vendor, r.architecture, r.device || r.description].filter(Boolean).join(' / ') || 'unknown adapter';
  return `${name}${r.isFallbackAdapter ? ' (software fallback)' : ''}`;
}
