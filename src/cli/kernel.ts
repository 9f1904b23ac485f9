// `npm run cli -- kernel <name> --in inputs.safetensors --out outputs.safetensors`:
// runs one of our GPU kernels on tensors from a file and writes its outputs, so that anyone
// can check our kernels against their own (PyTorch) code. See docs/PARITY.md.
import { readFile, writeFile } from 'node:fs/promises';
import { describeAdapter } from '../gpu/device';
import type { Gpu, Tensor } from '../gpu/runtime';
import { relErr } from '../kernels/check';
import { geluBackward, geluForward } from '../kernels/gelu';
import { geluBackwardRef, geluRef } from '../kernels/gelu.ref';
import { readSafetensors, writeSafetensors, type SafeTensorInput } from '../io/safetensors';
import { ArgError, defineCommand, type CliContext } from './args';
import { ntkAttention, prefixAttention } from './kernel_attention';
import { Inputs, round32, ShapeError, type KernelOptions, type KernelRunner } from './kernel_runner';

// ============================================================================ kernel table

async function readAll(gpu: Gpu, ts: Record<string, Tensor>): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(ts)) out[k] = await gpu.read(t);
  return out;
}

// ---------------------------------------------------------------------------- gelu

const gelu: KernelRunner = {
  name: 'gelu',
  summary: 'element-wise GELU (tanh form): a smoke test of the pipeline',
  doc: ['inputs: x (any shape), optional dy (same shape)', 'outputs: y = gelu(x); dx = dy·gelu\'(x) when dy is given'],
  prepare(file) {
    const inp = new Inputs(file, 'gelu');
    const shape = inp.anyShape('x');
    const backward = inp.has('dy');
    if (backward) inp.expect('dy', shape, 'same shape', 'x');
    const x = inp.f64('x');
    const dy = backward ? inp.f64('dy') : null;
    const outputs: Record<string, number[]> = { y: shape };
    if (backward) outputs.dx = shape;
    return {
      summary: `x [${shape.join(',')}]${backward ? ', backward' : ''}`,
      used: {},
      outputs,
      async gpu(g) {
        const n = x.length;
        const tx = g.tensor([n], Float32Array.from(x), 'x');
        const ty = g.tensor([n], undefined, 'y');
        const ts: Record<string, Tensor> = { y: ty };
        geluForward(g, tx, ty);
        let tdy: Tensor | null = null;
        if (dy) {
          tdy = g.tensor([n], Float32Array.from(dy), 'dy');
          ts.dx = g.tensor([n], undefined, 'dx');
          geluBackward(g, tx, tdy, ts.dx);
        }
        const res = await readAll(g, ts);
        g.release(tx, tdy, ...Object.values(ts));
        return res;
      },
      reference(exact) {
        const xx = exact ? x : round32(x);
        const res: Record<string, Float64Array> = { y: geluRef(xx) };
        if (dy) res.dx = geluBackwardRef(xx, exact ? dy : round32(dy));
        return res;
      },
    };
  },
};

/** Every kernel the command can run. */
export const KERNELS: KernelRunner[] = [gelu, prefixAttention, ntkAttention];

// ============================================================================ the command

const BOOL_WORDS: Record<string, boolean> = { true: true, false: false, '1': true, '0': false };

function metaBool(meta: Record<string, string>, key: string): boolean | undefined {
  const v = meta[key];
  if (v === undefined) return undefined;
  const b = BOOL_WORDS[v.toLowerCase()];
  if (b === undefined) throw new ShapeError(`__metadata__ ${key}: expected "true" or "false", got ${JSON.stringify(v)}`);
  return b;
}

function metaNumber(meta: Record<string, string>, key: string): number | undefined {
  const v = meta[key];
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw new ShapeError(`__metadata__ ${key}: expected a number, got ${JSON.stringify(v)}`);
  return x;
}

export interface ErrorReport {
  name: string;
  /** ‖gpu − ref‖ / ‖ref‖ */
  rel: number;
  /** max |gpu − ref| */
  maxAbs: number;
}

/** Compares GPU outputs with the float64 reference, output by output. */
export function compareOutputs(gpu: Record<string, Float32Array>, ref: Record<string, Float64Array>): ErrorReport[] {
  return Object.keys(ref).map((name) => {
    const a = gpu[name];
    const b = ref[name];
    let maxAbs = 0;
    for (let i = 0; i < b.length; i++) maxAbs = Math.max(maxAbs, Number.isFinite(a[i]) ? Math.abs(a[i] - b[i]) : Infinity);
    return { name, rel: relErr(a, b), maxAbs };
  });
}

export const command = defineCommand({
  name: 'kernel',
  summary: 'run one kernel on tensors from a safetensors file (parity checks against PyTorch)',
  description: [
    'Reads the input tensors from --in, runs the kernel on the GPU (or its float64 reference',
    'with --reference) and writes the outputs to --out. Backward outputs are computed when',
    'the file holds the output gradient (dO, or dy for gelu). Options not given as flags are',
    'read from the file\'s __metadata__ (keys: causal, scale, ...), then defaults.',
    'Tensor layouts are row-major: see docs/PARITY.md.',
    '',
    'Kernels:',
    ...KERNELS.flatMap((k) => [`  ${k.name}: ${k.summary}`, ...k.doc.map((l) => `    ${l}`)]),
  ].join('\n'),
  positionals: [{ name: 'name', help: 'the kernel to run', required: true, values: KERNELS.map((k) => k.name) }],
  options: {
    in: { type: 'string', help: 'input safetensors file', required: true, placeholder: 'file' },
    out: { type: 'string', help: 'output safetensors file (omit to only print a summary)', placeholder: 'file' },
    causal: { type: 'boolean', help: 'causal mask (attention kernels; else __metadata__ causal, else true)' },
    scale: { type: 'number', help: 'score scale (else __metadata__ scale, else 1/sqrt(d))', min: 0 },
    reference: { type: 'boolean', help: 'run the float64 reference instead of the GPU; writes F64 outputs', default: false },
    compare: { type: 'boolean', help: 'also run the float64 reference and report relative errors', default: false },
  },
  async run({ options: o, positionals }, ctx: CliContext) {
    const runner = KERNELS.find((k) => k.name === positionals[0]);
    if (!runner) throw new ArgError(`unknown kernel '${positionals[0]}'`);
    if (o.reference && o.compare) throw new ArgError('--reference and --compare exclude each other (--compare runs both)');

    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(o.in));
    } catch (e) {
      throw new Error(`cannot read --in ${o.in}: ${(e as Error).message}`);
    }
    const file = readSafetensors(bytes);
    const meta = file.metadata;
    const opts: KernelOptions = {
      causal: o.causal ?? metaBool(meta, 'causal') ?? true,
      scale: o.scale ?? metaNumber(meta, 'scale') ?? null,
    };
    const job = runner.prepare(file, opts);
    ctx.err(`${runner.name}: ${job.summary}`);

    let results: Record<string, Float32Array | Float64Array>;
    let source: string;
    if (o.reference) {
      results = job.reference(true);
      source = 'float64 reference';
    } else {
      const gpu = await ctx.gpu();
      const t0 = performance.now();
      results = await job.gpu(gpu);
      source = `gpu: ${describeAdapter(gpu.report)}`;
      ctx.err(`ran on ${describeAdapter(gpu.report)} in ${(performance.now() - t0).toFixed(0)} ms (including upload, compile and readback)`);
      if (o.compare) {
        const errs = compareOutputs(results as Record<string, Float32Array>, job.reference(false));
        ctx.out('output      rel err     max abs err   (GPU float32 vs float64 reference on the same float32 inputs)');
        for (const e of errs) ctx.out(`${e.name.padEnd(10)}  ${e.rel.toExponential(2).padEnd(10)}  ${e.maxAbs.toExponential(2)}`);
      }
    }

    const tensors: Record<string, SafeTensorInput> = {};
    for (const [name, shape] of Object.entries(job.outputs)) {
      const data = results[name];
      tensors[name] = { dtype: data instanceof Float64Array ? 'F64' : 'F32', shape, data };
    }
    for (const [name, shape] of Object.entries(job.outputs)) ctx.out(`${name} [${shape.join(',')}]${summarize(results[name])}`);
    if (o.out) {
      const metadata = { kernel: runner.name, source, ...job.used };
      await writeFile(o.out, writeSafetensors(tensors, metadata));
      ctx.err(`wrote ${Object.keys(tensors).join(', ')} to ${o.out}`);
    }
    return 0;
  },
});

function summarize(a: ArrayLike<number>): string {
  let lo = Infinity;
  let hi = -Infinity;
  let nonFinite = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) nonFinite++;
    else {
      lo = Math.min(lo, a[i]);
      hi = Math.max(hi, a[i]);
    }
  }
  if (a.length === 0) return ' (empty)';
  return ` min ${lo.toPrecision(4)} max ${hi.toPrecision(4)}${nonFinite ? ` NON-FINITE: ${nonFinite}` : ''}`;
}
