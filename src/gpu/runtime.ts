// The GPU runtime every kernel wrapper uses: shader modules and pipelines (cached),
// float32 tensors (pooled buffers), batched dispatches (one command encoder per step),
// readback of only what is asked for, GPU timing, and errors that name the shader.
import type { AcquiredDevice, AdapterReport } from './device';
import { GpuError } from './errors';
import { expandShader, type Defines, type ShaderSource } from './shaders';
import type { Params } from './params';

/** How a kernel binds each buffer: `uniform` params, read-only or read-write storage. */
export type BindingKind = 'uniform' | 'read' | 'rw';

export interface KernelSpec {
  /** File name in shaders/ without `.wgsl`. */
  shader: string;
  entry?: string;
  /** Preprocessor defines (see shaders.ts); part of the cache key. */
  defines?: Defines;
  /** WGSL `override` constants; part of the cache key. */
  constants?: Record<string, number>;
  /** Binding i of group 0 has kind bindings[i]. */
  bindings: BindingKind[];
}

export interface Kernel {
  readonly key: string;
  readonly spec: KernelSpec;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

let nextTensorId = 1;

/**
 * A float32 (or u32/i32 viewed as raw 32-bit words) array in a GPU storage buffer. A view
 * (`Gpu.view`) is a range of another tensor's buffer: it binds as that range only (so a
 * slice of a tensor larger than maxStorageBufferBindingSize can be bound), reads and
 * writes start at its offset, and `release` ignores it (the buffer is its parent's).
 */
export class Tensor {
  readonly id = nextTensorId++;
  constructor(
    readonly buffer: GPUBuffer,
    readonly numel: number,
    readonly shape: number[],
    readonly label: string,
    /** Where a view starts in `buffer`; 0 for a tensor that owns its buffer. */
    readonly byteOffset = 0,
    readonly isView = false,
  ) {}
  get bytes(): number {
    return this.numel * 4;
  }
}

// STORAGE | COPY_SRC | COPY_DST, spelled as numbers so this module can load before Node's
// WebGPU globals are installed.
const STORAGE_USAGE = 0x80 | 0x04 | 0x08;

const UNIFORM_SLOT = 256; // minUniformBufferOffsetAlignment is at most 256 everywhere.
const MAX_WORKGROUPS = 65535;

export interface GpuOptions {
  /** Called once when the device is lost (after which every call throws). */
  onLost?: (err: GpuError) => void;
}

export class Gpu {
  readonly device: GPUDevice;
  readonly report: AdapterReport;
  readonly hasTimestamps: boolean;
  readonly hasSubgroups: boolean;
  /** Set once the device is lost; every later call throws it. */
  lostError: GpuError | null = null;
  readonly lost: Promise<GpuError>;

  private shaderSource: ShaderSource;
  private modules = new Map<string, GPUShaderModule>();
  private kernels = new Map<string, Kernel>();
  private layouts = new Map<string, GPUBindGroupLayout>();
  private pool = new Map<number, GPUBuffer[]>();
  private live = new Set<GPUBuffer>();
  private liveBytes = 0;
  private peakBytes = 0;

  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private uniformData = new Uint8Array(UNIFORM_SLOT * 256);
  private uniformBuffer: GPUBuffer;
  private uniformUsed = 0;
  private pendingErrors: Promise<GpuError | null>[] = [];
  private dispatchesInStep = 0;

  // Profiling (timestamp-query): one query pair per compute pass while a profile is open.
  private querySet: GPUQuerySet | null = null;
  private queryResolve: GPUBuffer | null = null;
  private queryCount = 0;
  private profiling = false;
  private readonly maxQueries = 4096;

  constructor(acq: AcquiredDevice, shaderSource: ShaderSource, opts: GpuOptions = {}) {
    this.device = acq.device;
    this.report = acq.report;
    this.hasTimestamps = acq.hasTimestamps;
    this.hasSubgroups = acq.hasSubgroups;
    this.shaderSource = shaderSource;
    this.uniformBuffer = this.makeUniformBuffer(this.uniformData.byteLength);
    this.lost = this.device.lost.then((info) => {
      const err = new GpuError(
        'device-lost',
        `The GPU device was lost (${info.reason}${info.message ? `: ${info.message}` : ''}). Results recorded so far are kept; start again to continue.`,
      );
      this.lostError = err;
      opts.onLost?.(err);
      return err;
    });
  }

  private checkAlive() {
    if (this.lostError) throw this.lostError;
  }

  private makeUniformBuffer(size: number): GPUBuffer {
    return this.device.createBuffer({ size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'params-arena' });
  }

  // ---------------------------------------------------------------- shaders & pipelines

  private module(shader: string, defines: Defines): GPUShaderModule {
    const key = `${shader}|${JSON.stringify(defines)}`;
    let mod = this.modules.get(key);
    if (!mod) {
      const { code, origin } = expandShader(shader, this.shaderSource, defines);
      this.device.pushErrorScope('validation');
      mod = this.device.createShaderModule({ code, label: shader });
      const m = mod;
      this.pendingErrors.push(
        Promise.all([this.device.popErrorScope(), m.getCompilationInfo()]).then(([err, info]) => {
          const msgs = info.messages
            .filter((x) => x.type === 'error')
            .map((x) => {
              const at = origin[x.lineNum - 1] ?? { file: shader, line: x.lineNum };
              return `${at.file}.wgsl:${at.line}:${x.linePos}: ${x.message}`;
            });
          if (msgs.length || err) {
            return new GpuError('shader-compile', `WGSL compile error in shaders/${shader}.wgsl\n${msgs.join('\n') || err?.message}`);
          }
          return null;
        }),
      );
      this.modules.set(key, mod);
    }
    return mod;
  }

  private bindGroupLayout(bindings: BindingKind[]): GPUBindGroupLayout {
    const key = bindings.join(',');
    let l = this.layouts.get(key);
    if (!l) {
      l = this.device.createBindGroupLayout({
        label: key,
        entries: bindings.map((b, i) => ({
          binding: i,
          visibility: GPUShaderStage.COMPUTE,
          buffer: b === 'uniform' ? { type: 'uniform', hasDynamicOffset: true } : { type: b === 'read' ? 'read-only-storage' : 'storage' },
        })),
      });
      this.layouts.set(key, l);
    }
    return l;
  }

  /** Returns the compiled kernel for a spec; cached, so call it freely per dispatch. */
  kernel(spec: KernelSpec): Kernel {
    this.checkAlive();
    const entry = spec.entry ?? 'main';
    const key = `${spec.shader}:${entry}|${JSON.stringify(spec.defines ?? {})}|${JSON.stringify(spec.constants ?? {})}|${spec.bindings.join(',')}`;
    let k = this.kernels.get(key);
    if (!k) {
      const layout = this.bindGroupLayout(spec.bindings);
      const module = this.module(spec.shader, spec.defines ?? {});
      this.device.pushErrorScope('validation');
      const pipeline = this.device.createComputePipeline({
        label: `${spec.shader}:${entry}`,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: entry, constants: spec.constants },
      });
      this.pendingErrors.push(
        this.device.popErrorScope().then((e) =>
          e ? new GpuError('validation', `pipeline shaders/${spec.shader}.wgsl entry '${entry}': ${e.message}`) : null,
        ),
      );
      k = { key, spec, pipeline, layout };
      this.kernels.set(key, k);
    }
    return k;
  }

  // ---------------------------------------------------------------- tensors

  /** A tensor of `shape` (contents undefined unless `data` is given). Pooled by byte size. */
  tensor(shape: number[], data?: ArrayLike<number> | Float32Array | Uint32Array | Int32Array, label = 'tensor'): Tensor {
    this.checkAlive();
    const numel = shape.reduce((a, b) => a * b, 1);
    const bytes = Math.max(16, Math.ceil((numel * 4) / 16) * 16);
    let buf = this.pool.get(bytes)?.pop();
    if (!buf) {
      buf = this.device.createBuffer({ size: bytes, usage: STORAGE_USAGE, label });
    }
    this.live.add(buf);
    this.liveBytes += bytes;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    const t = new Tensor(buf, numel, shape.slice(), label);
    if (data) this.write(t, data);
    return t;
  }

  /**
   * A view of `numel` elements of `t` starting at element `offsetElems` (shape defaults to
   * [numel]). Kernels see it as a tensor of its own (binding offset and size set), so one
   * dispatch binds only the range it needs. The start in bytes must be a multiple of the
   * device's minStorageBufferOffsetAlignment (usually 256) and the range inside `t`.
   */
  view(t: Tensor, offsetElems: number, numel: number, shape: number[] = [numel], label = `${t.label}[${offsetElems}..]`): Tensor {
    this.checkAlive();
    const align = this.device.limits.minStorageBufferOffsetAlignment;
    const byteOffset = t.byteOffset + offsetElems * 4;
    if (!Number.isInteger(offsetElems) || !Number.isInteger(numel) || offsetElems < 0 || numel < 1 || offsetElems + numel > t.numel) {
      throw new GpuError('shape', `view of ${t.label}: elements [${offsetElems}, ${offsetElems + numel}) outside its ${t.numel}`);
    }
    if (byteOffset % align !== 0) throw new GpuError('shape', `view of ${t.label}: byte offset ${byteOffset} is not a multiple of minStorageBufferOffsetAlignment ${align}`);
    if (shape.reduce((a, b) => a * b, 1) !== numel) throw new GpuError('shape', `view of ${t.label}: shape [${shape}] does not hold ${numel} elements`);
    return new Tensor(t.buffer, numel, shape.slice(), label, byteOffset, true);
  }

  /** Returns a tensor's buffer to the pool (its contents become undefined). Views are ignored. */
  release(...ts: (Tensor | null | undefined)[]) {
    for (const t of ts) {
      if (!t || t.isView || !this.live.has(t.buffer)) continue;
      this.live.delete(t.buffer);
      this.liveBytes -= t.buffer.size;
      const list = this.pool.get(t.buffer.size) ?? [];
      list.push(t.buffer);
      this.pool.set(t.buffer.size, list);
    }
  }

  /** Bytes held by live tensors now, and the peak since the last reset. */
  memory() {
    return { liveBytes: this.liveBytes, peakBytes: this.peakBytes };
  }
  resetPeak() {
    this.peakBytes = this.liveBytes;
  }
  /** Frees pooled (unused) buffers. */
  trimPool() {
    for (const list of this.pool.values()) for (const b of list) b.destroy();
    this.pool.clear();
  }

  write(t: Tensor, data: ArrayLike<number> | Float32Array | Uint32Array | Int32Array, offsetElems = 0) {
    this.checkAlive();
    let arr: Float32Array | Uint32Array | Int32Array;
    if (data instanceof Float32Array || data instanceof Uint32Array || data instanceof Int32Array) arr = data;
    else arr = Float32Array.from(data as ArrayLike<number>);
    if (arr.length + offsetElems > t.numel) throw new GpuError('shape', `write to ${t.label}: ${arr.length} values into ${t.numel - offsetElems}`);
    // Writes are queue-ordered: flush recorded work first so it sees the old contents.
    this.flush();
    this.device.queue.writeBuffer(t.buffer, t.byteOffset + offsetElems * 4, arr.buffer, arr.byteOffset, arr.byteLength);
  }

  /** Fill with a float value (NaN by default: tests poison outputs so unwritten elements fail). */
  fill(t: Tensor, value = Number.NaN) {
    this.write(t, new Float32Array(t.numel).fill(value));
  }

  // ---------------------------------------------------------------- recording

  private ensurePass(): GPUComputePassEncoder {
    if (!this.encoder) {
      this.encoder = this.device.createCommandEncoder();
      this.device.pushErrorScope('validation');
    }
    if (!this.pass) {
      const desc: GPUComputePassDescriptor = {};
      if (this.profiling && this.querySet && this.queryCount + 2 <= this.maxQueries) {
        desc.timestampWrites = {
          querySet: this.querySet,
          beginningOfPassWriteIndex: this.queryCount,
          endOfPassWriteIndex: this.queryCount + 1,
        };
        this.queryCount += 2;
      }
      this.pass = this.encoder.beginComputePass(desc);
    }
    return this.pass;
  }

  private uniformSlot(bytes: Uint8Array): number {
    if (bytes.byteLength > UNIFORM_SLOT) throw new Error('kernel params larger than 256 bytes');
    if (this.uniformUsed + UNIFORM_SLOT > this.uniformData.byteLength) {
      // Arena full within one step: submit what we have and reuse the arena (queue-ordered).
      this.flush();
    }
    const off = this.uniformUsed;
    this.uniformData.set(bytes, off);
    this.uniformUsed += UNIFORM_SLOT;
    return off;
  }

  /**
   * Records one dispatch. `buffers[i]` binds to binding i (uniform bindings consume
   * `params`, storage ones consume tensors in order; a view binds its range). Workgroup counts over 65535 in x are
   * an error: kernels fold large counts into y themselves.
   */
  dispatch(k: Kernel, buffers: Tensor[], workgroups: [number, number?, number?], p?: Params) {
    this.checkAlive();
    const [x, y = 1, z = 1] = workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    if (x > MAX_WORKGROUPS || y > MAX_WORKGROUPS || z > MAX_WORKGROUPS) {
      throw new GpuError('validation', `${k.spec.shader}: dispatch (${x},${y},${z}) exceeds ${MAX_WORKGROUPS} workgroups per dimension`);
    }
    const entries: GPUBindGroupEntry[] = [];
    const dynOffsets: number[] = [];
    let ti = 0;
    k.spec.bindings.forEach((b, i) => {
      if (b === 'uniform') {
        if (!p) throw new GpuError('validation', `${k.spec.shader}: uniform binding ${i} needs params`);
        dynOffsets.push(this.uniformSlot(p.bytes()));
        entries.push({ binding: i, resource: { buffer: this.uniformBuffer, offset: 0, size: UNIFORM_SLOT } });
      } else {
        const t = buffers[ti++];
        if (!t) throw new GpuError('validation', `${k.spec.shader}: missing tensor for binding ${i}`);
        // Said here, by name, rather than as a device validation error later: a kernel that
        // may meet a tensor this large must bind it in ranges (views), as lm_head does.
        if (t.bytes > this.device.limits.maxStorageBufferBindingSize) {
          throw new GpuError('validation', `${k.spec.shader}: tensor ${t.label} (${t.bytes} bytes) is larger than this device's maxStorageBufferBindingSize (${this.device.limits.maxStorageBufferBindingSize} bytes) and this kernel binds it whole`);
        }
        // A view binds its range only; an owned tensor its whole buffer (as always).
        entries.push({ binding: i, resource: t.isView ? { buffer: t.buffer, offset: t.byteOffset, size: t.bytes } : { buffer: t.buffer } });
      }
    });
    if (ti !== buffers.length) throw new GpuError('validation', `${k.spec.shader}: ${buffers.length} tensors for ${ti} storage bindings`);
    const bg = this.device.createBindGroup({ layout: k.layout, entries });
    const pass = this.ensurePass();
    pass.setPipeline(k.pipeline);
    pass.setBindGroup(0, bg, dynOffsets);
    pass.dispatchWorkgroups(x, y, z);
    this.dispatchesInStep++;
  }

  /** Records a buffer copy (ends the current compute pass). */
  copy(src: Tensor, dst: Tensor, numel = Math.min(src.numel, dst.numel), srcOffset = 0, dstOffset = 0) {
    this.checkAlive();
    this.ensurePass();
    this.pass!.end();
    this.pass = null;
    this.encoder!.copyBufferToBuffer(src.buffer, src.byteOffset + srcOffset * 4, dst.buffer, dst.byteOffset + dstOffset * 4, Math.ceil((numel * 4) / 4) * 4);
  }

  /** Submits everything recorded since the last flush. Cheap when nothing is recorded. */
  flush() {
    if (!this.encoder) return;
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    if (this.uniformUsed > 0) {
      if (this.uniformBuffer.size < this.uniformData.byteLength) {
        this.uniformBuffer.destroy();
        this.uniformBuffer = this.makeUniformBuffer(this.uniformData.byteLength);
      }
      this.device.queue.writeBuffer(this.uniformBuffer, 0, this.uniformData.buffer, 0, this.uniformUsed);
    }
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.uniformUsed = 0;
    this.dispatchesInStep = 0;
    this.pendingErrors.push(
      this.device.popErrorScope().then((e) => (e ? new GpuError('validation', `GPU validation error: ${e.message}`) : null)),
    );
  }

  /** Flushes, waits for the GPU, and throws the first compile/validation error seen. */
  async sync(): Promise<void> {
    this.checkAlive();
    this.flush();
    await Promise.race([this.device.queue.onSubmittedWorkDone(), this.lost.then((e) => Promise.reject(e))]);
    await this.throwPending();
  }

  private async throwPending() {
    const errs = this.pendingErrors;
    this.pendingErrors = [];
    const found = (await Promise.all(errs)).filter((e): e is GpuError => e !== null);
    if (found.length) throw found[0];
  }

  /** Reads a tensor back as float32 (or the raw words as Uint32/Int32 via `as`). */
  async read(t: Tensor, numel = t.numel, offsetElems = 0): Promise<Float32Array> {
    const buf = await this.readBytes(t, numel, offsetElems);
    return new Float32Array(buf);
  }
  async readU32(t: Tensor, numel = t.numel, offsetElems = 0): Promise<Uint32Array> {
    return new Uint32Array(await this.readBytes(t, numel, offsetElems));
  }

  private async readBytes(t: Tensor, numel: number, offsetElems: number): Promise<ArrayBuffer> {
    this.checkAlive();
    const size = Math.ceil((numel * 4) / 4) * 4;
    const staging = this.device.createBuffer({ size: Math.max(4, size), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    if (!this.encoder) {
      this.encoder = this.device.createCommandEncoder();
      this.device.pushErrorScope('validation');
    }
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    this.encoder.copyBufferToBuffer(t.buffer, t.byteOffset + offsetElems * 4, staging, 0, size);
    this.flush();
    try {
      await Promise.race([staging.mapAsync(GPUMapMode.READ), this.lost.then((e) => Promise.reject(e))]);
      await this.throwPending();
      return staging.getMappedRange().slice(0);
    } finally {
      staging.destroy();
    }
  }

  // ---------------------------------------------------------------- timing

  /** Starts summing GPU time over every compute pass until `endProfile`. */
  beginProfile() {
    if (!this.hasTimestamps) return;
    this.flush();
    if (!this.querySet) {
      this.querySet = this.device.createQuerySet({ type: 'timestamp', count: this.maxQueries });
      this.queryResolve = this.device.createBuffer({ size: this.maxQueries * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    }
    this.profiling = true;
    this.queryCount = 0;
  }

  /** GPU nanoseconds spent in compute passes since `beginProfile` (null without timestamp-query). */
  async endProfile(): Promise<number | null> {
    if (!this.hasTimestamps || !this.profiling) return null;
    this.flush();
    this.profiling = false;
    if (this.queryCount === 0) return 0;
    const enc = this.device.createCommandEncoder();
    const bytes = this.queryCount * 8;
    const staging = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    enc.resolveQuerySet(this.querySet!, 0, this.queryCount, this.queryResolve!, 0);
    enc.copyBufferToBuffer(this.queryResolve!, 0, staging, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const ts = new BigUint64Array(staging.getMappedRange().slice(0));
    staging.destroy();
    let ns = 0;
    for (let i = 0; i + 1 < this.queryCount; i += 2) {
      const d = Number(ts[i + 1] - ts[i]);
      if (d > 0) ns += d;
    }
    return ns;
  }

  destroy() {
    this.trimPool();
    for (const b of this.live) b.destroy();
    this.live.clear();
    this.device.destroy();
  }
}

/** Ceil division, for workgroup counts. */
export const cdiv = (a: number, b: number) => Math.ceil(a / b);
