// Typed errors for everything that can go wrong between the app and the GPU.
// Callers (UI, CLI, tests) switch on `kind` to show a plain message.

export type GpuErrorKind =
  | 'no-webgpu' // navigator.gpu / the webgpu package is missing
  | 'no-adapter' // requestAdapter() resolved to null
  | 'device-request' // requestDevice() rejected (limits/features not available)
  | 'device-lost' // device.lost resolved while we were using it
  | 'shader-compile' // WGSL did not compile
  | 'validation' // a pipeline, bind group or dispatch was invalid
  | 'out-of-memory'
  | 'shape'; // a kernel wrapper was called with inconsistent shapes

export class GpuError extends Error {
  readonly kind: GpuErrorKind;
  constructor(kind: GpuErrorKind, message: string) {
    super(message);
    this.name = 'GpuError';
    this.kind = kind;
  }
}

/** Throw a shape error with a message naming the kernel and what was expected. */
export function shapeCheck(ok: boolean, kernel: string, what: string): asserts ok {
  if (!ok) throw new GpuError('shape', `${kernel}: ${what}`);
}
