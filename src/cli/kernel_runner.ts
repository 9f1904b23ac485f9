// What the kernel command and its kernel tables share: the runner and job interfaces and the
// input validation. Its own file so that kernel.ts (the command, gelu) and kernel_attention.ts
// (the attention kernels) both import it without importing each other.
import type { Gpu } from '../gpu/runtime';
import { toFloat64, type SafeTensor, type SafetensorsFile } from '../io/safetensors';

/** Option values as resolved from CLI flags, then the input file's __metadata__, then defaults. */
export interface KernelOptions {
  causal: boolean;
  /** Score scale; null means 1/sqrt(d). */
  scale: number | null;
}

/** One kernel invocation, validated and ready to run on the GPU or as the float64 reference. */
export interface KernelJob {
  /** Human summary of shapes and options, e.g. "B=2 H=3 L=7 d=5 m=4 causal". */
  summary: string;
  /** Options actually used, recorded in the output file's __metadata__. */
  used: Record<string, string>;
  /** Output name → shape, in the order they are reported. */
  outputs: Record<string, number[]>;
  /** GPU results (float32). */
  gpu(gpu: Gpu): Promise<Record<string, Float32Array>>;
  /** float64 reference results; `exact` uses the file's values, else their float32 rounding. */
  reference(exact: boolean): Record<string, Float64Array>;
}

export interface KernelRunner {
  name: string;
  summary: string;
  /** Lines for --help: the tensors this kernel reads and writes. */
  doc: string[];
  prepare(file: SafetensorsFile, opts: KernelOptions): KernelJob;
}

// ---------------------------------------------------------------------------- input helpers

/** Reads and validates float tensors by name; errors name the tensor and the expected shape. */
export class Inputs {
  constructor(
    private readonly file: SafetensorsFile,
    private readonly kernel: string,
  ) {}

  has(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.file.tensors, name);
  }

  /** The shape of a float tensor of any rank. */
  anyShape(name: string): number[] {
    return this.get(name).shape;
  }

  /** The tensor's shape; it must exist, be a float dtype and have `rank` dimensions. */
  shape(name: string, rank: number, dims: string): number[] {
    const t = this.get(name);
    if (t.shape.length !== rank) throw new ShapeError(`${name}: expected ${rank} dimensions [${dims}], got [${t.shape.join(',')}]`);
    return t.shape;
  }

  /** Checks `name` has exactly `want`; `labels` and `from` explain where `want` came from. */
  expect(name: string, want: number[], labels: string, from: string) {
    const t = this.get(name);
    if (t.shape.length !== want.length || t.shape.some((v, i) => v !== want[i])) {
      throw new ShapeError(`${name}: expected shape [${want.join(',')}] (${labels} from ${from}), got [${t.shape.join(',')}]`);
    }
  }

  /** Values as float64 (exactly as stored). */
  f64(name: string): Float64Array {
    return toFloat64(this.get(name));
  }

  private get(name: string): SafeTensor {
    if (!this.has(name)) {
      const names = Object.keys(this.file.tensors);
      throw new ShapeError(`${this.kernel}: the input file has no tensor '${name}' (it has: ${names.length ? names.join(', ') : 'none'})`);
    }
    const t = this.file.tensors[name];
    if (t.dtype !== 'F32' && t.dtype !== 'F64' && t.dtype !== 'F16' && t.dtype !== 'BF16') {
      throw new ShapeError(`${name}: expected a float tensor (F32, F64, F16 or BF16), got ${t.dtype}`);
    }
    return t;
  }
}

/** A malformed or mismatched input file (exit status 1, message names the tensor). */
export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

/** float64 values rounded to float32 precision (what the GPU sees). */
export const round32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));
