// Fused prefix attention (one pass, online softmax) against the unfused baseline
// (materialised [B, H, L, m + L] scores, softmax, P·V), forward; and the fused forward +
// backward. Per prefix length m: time per call and the peak bytes of live tensors
// (gpu.memory().peakBytes after gpu.resetPeak(), with every input, output, gradient and
// temporary allocated inside the window), and that peak less the prefix-shaped tensors
// (Pk, Pv and their gradients), which must stay flat in m for the fused path.
import type { Gpu, Tensor } from '../gpu/runtime';
import { attentionUnfusedForward, unfusedScoreBytes } from '../kernels/attention_unfused';
import { prefixAttentionBackward, prefixAttentionFlops, prefixAttentionForward, type PrefixAttentionDims } from '../kernels/prefix_attention';
import { Rng } from '../util/rng';
import { table, timeGpu, type Bench } from './bench';

/** The unfused path is skipped where its score matrix would exceed this. */
const UNFUSED_MAX_BYTES = 256 * 2 ** 20;

interface Row {
  m: number;
  fusedFwdMs: number;
  unfusedFwdMs: number | null;
  /** unfused / fused forward time. */
  speedup: number | null;
  fusedFwdBwdMs: number | null;
  fusedGflops: number;
  fusedFwdPeak: number;
  unfusedFwdPeak: number | null;
  fusedFwdBwdPeak: number | null;
  /** Peaks less the prefix-shaped tensors. */
  fusedFwdBeyond: number;
  unfusedFwdBeyond: number | null;
  fusedFwdBwdBeyond: number | null;
  /** max |fused − unfused| / max |unfused| over O. */
  agree: number | null;
  timing: string;
}

type Mode = 'fused' | 'unfused' | 'fused+backward';

/** Allocates everything a mode needs after resetting the peak, times it, reports the peak. */
async function measure(gpu: Gpu, dims: PrefixAttentionDims, mode: Mode, seed: number, reps: number) {
  // Every mode draws the same inputs for one m (same seed), so their outputs can be compared.
  const rng = new Rng(seed);
  const { B, H, L, d, m } = dims;
  const n = B * H * L * d;
  const live: Tensor[] = [];
  const mk = (shape: number[], data?: Float32Array) => {
    const t = gpu.tensor(shape, data);
    live.push(t);
    return t;
  };
  const data = (len: number, std = 1) => Float32Array.from(rng.normals(len, std));
  gpu.trimPool();
  gpu.resetPeak();
  const base = gpu.memory().liveBytes;
  const seq = [B, H, L, d];
  const pre = [H, m, d];
  const t = {
    q: mk(seq, data(n)),
    k: mk(seq, data(n)),
    v: mk(seq, data(n)),
    pk: mk(pre, data(H * m * d)),
    pv: mk(pre, data(H * m * d)),
    o: mk(seq),
    lse: mk([B, H, L]),
  };
  let prefixBytes = t.pk.buffer.size + t.pv.buffer.size;
  let record: () => void;
  if (mode === 'unfused') {
    record = () => attentionUnfusedForward(gpu, t, dims);
  } else if (mode === 'fused') {
    record = () => prefixAttentionForward(gpu, t, dims);
  } else {
    const g = { dO: mk(seq, data(n)), dq: mk(seq), dk: mk(seq), dv: mk(seq), dpk: mk(pre), dpv: mk(pre) };
    prefixBytes += g.dpk.buffer.size + g.dpv.buffer.size;
    record = () => {
      prefixAttentionForward(gpu, t, dims);
      prefixAttentionBackward(gpu, { ...t, ...g }, dims);
    };
  }
  const time = await timeGpu(gpu, record, reps, 1);
  const peak = gpu.memory().peakBytes - base;
  const o = await gpu.read(t.o);
  gpu.release(...live);
  gpu.trimPool();
  return { ms: time.ms, source: time.source, peak, beyond: peak - prefixBytes, o };
}

const mib = (b: number) => (b / 2 ** 20).toFixed(2);

export const bench: Bench = {
  name: 'prefix_attention',
  async run(gpu, opts) {
    const base = opts.quick ? { B: 1, H: 2, L: 64, d: 32 } : { B: 1, H: 4, L: 128, d: 32 };
    const ms = opts.quick ? [0, 64, 1024] : [0, 64, 1024, 16384];
    const rows: Row[] = [];
    for (const m of ms) {
      const dims: PrefixAttentionDims = { ...base, m, causal: true };
      const reps = m >= 16384 ? 2 : opts.quick ? 3 : 5;
      const fused = await measure(gpu, dims, 'fused', 2406 + m, reps);
      const unfused = unfusedScoreBytes(dims) <= UNFUSED_MAX_BYTES ? await measure(gpu, dims, 'unfused', 2406 + m, reps) : null;
      const both = await measure(gpu, dims, 'fused+backward', 2406 + m, Math.max(1, reps - 2));
      let agree: number | null = null;
      if (unfused) {
        let diff = 0;
        let scale = 0;
        for (let i = 0; i < fused.o.length; i++) {
          diff = Math.max(diff, Math.abs(fused.o[i] - unfused.o[i]));
          scale = Math.max(scale, Math.abs(unfused.o[i]));
        }
        agree = diff / scale;
      }
      rows.push({
        m,
        fusedFwdMs: fused.ms,
        unfusedFwdMs: unfused?.ms ?? null,
        speedup: unfused ? unfused.ms / fused.ms : null,
        fusedFwdBwdMs: both.ms,
        fusedGflops: prefixAttentionFlops(dims) / fused.ms / 1e6,
        fusedFwdPeak: fused.peak,
        unfusedFwdPeak: unfused?.peak ?? null,
        fusedFwdBwdPeak: both.peak,
        fusedFwdBeyond: fused.beyond,
        unfusedFwdBeyond: unfused?.beyond ?? null,
        fusedFwdBwdBeyond: both.beyond,
        agree,
        timing: fused.source,
      });
      console.log(`  m=${m}: fused ${fused.ms.toFixed(2)} ms, unfused ${unfused ? unfused.ms.toFixed(2) : '-'} ms, fused fwd+bwd ${both.ms.toFixed(2)} ms`);
    }
    const dash = (v: number | null, f: (x: number) => string) => (v === null ? '—' : f(v));
    const markdown = [
      `B=${base.B}, H=${base.H}, L=${base.L}, d=${base.d}, causal, float32. Time per call from ${rows[0]?.timing === 'gpu-timestamps' ? 'GPU timestamps' : 'wall clock around gpu.sync()'};`,
      'GFLOP/s counts 4·d FLOPs per visible (query, key) pair of the forward. **Peak**: gpu.memory().peakBytes over the call with all its',
      'tensors allocated after gpu.resetPeak() (inputs, outputs, gradients, temporaries such as the unfused score matrix); **beyond prefix**: the',
      'same less Pk, Pv (and dPk, dPv), which the fused path keeps flat in m. "agree": max |fused − unfused| / max |unfused| over O.',
      `The unfused path is skipped where its score matrix exceeds ${UNFUSED_MAX_BYTES / 2 ** 20} MiB.`,
      '',
      table(
        ['m', 'fused fwd ms', 'unfused fwd ms', 'unfused / fused', 'fused fwd+bwd ms', 'fused fwd GFLOP/s', 'peak MiB fused / unfused / fused fwd+bwd', 'beyond prefix MiB fused / unfused / fused fwd+bwd', 'agree'],
        rows.map((r) => [
          r.m,
          r.fusedFwdMs,
          dash(r.unfusedFwdMs, (x) => x.toPrecision(3)),
          dash(r.speedup, (x) => `${x.toFixed(2)}x`),
          dash(r.fusedFwdBwdMs, (x) => x.toPrecision(3)),
          r.fusedGflops,
          `${mib(r.fusedFwdPeak)} / ${dash(r.unfusedFwdPeak, mib)} / ${dash(r.fusedFwdBwdPeak, mib)}`,
          `${mib(r.fusedFwdBeyond)} / ${dash(r.unfusedFwdBeyond, mib)} / ${dash(r.fusedFwdBwdBeyond, mib)}`,
          dash(r.agree, (x) => x.toExponential(1)),
        ]),
      ),
    ].join('\n');
    return { title: 'Prefix attention: fused vs unfused', markdown, data: { dims: base, rows } };
  },
};
