// The state of incremental decoding for one sequence (B = 1): every layer's cached keys
// and values, NTK-Attention's per-sequence terms (Z and k̃, built from the adapter's
// parameters once when a sequence starts), and the activation buffers of one decode step
// (n new positions; every layer reuses them in turn, since nothing is kept for a backward).
//
// Memory: 2·nLayer·capacity·C floats for the cache (gpt2 at 1024 positions: 75 MB), plus
// O(n·(V + 4C)) for a step. GptGpu allocates it on the first decodeStep and frees it with
// releaseDecode() (generate() does so when it returns). Every tensor's shape comes from
// layerShapes / stepShapes, which model/memory.ts sums for the estimate.
import type { Gpu, Tensor } from '../gpu/runtime';
import type { NtkDecodeTerms } from '../kernels/attention_decode';

export interface DecodeActs {
  /** Input rows: token + position embedding, and the wpe rows of the step's positions. */
  x0: Tensor; wpeRows: Tensor;
  ln1: Tensor; ln1Mean: Tensor; ln1Rstd: Tensor;
  qkv: Tensor; q: Tensor; o: Tensor; lse: Tensor;
  att: Tensor; resid2: Tensor;
  ln2: Tensor; ln2Mean: Tensor; ln2Rstd: Tensor;
  fc: Tensor; fcg: Tensor; out: Tensor;
  loraT: Tensor | null;
  lnf: Tensor; lnfMean: Tensor; lnfRstd: Tensor;
}

export interface KvCacheDims {
  nLayer: number;
  H: number;
  d: number;
  capacity: number;
  /** NTK-Attention: the feature dimension r and whether Z is low rank (then Z = Z_A·Z_B is formed and held). */
  ntk?: { r: number; lowRank: boolean } | null;
}

/** One layer's cache tensors: k, v [H, capacity, d]; NTK's k̃ [H, r] and the formed low-rank Z [H, r, d]. */
export function layerShapes({ H, d, capacity, ntk }: KvCacheDims): { k: number[]; v: number[]; kTilde: number[] | null; z: number[] | null } {
  return {
    k: [H, capacity, d],
    v: [H, capacity, d],
    kTilde: ntk ? [H, ntk.r] : null,
    z: ntk?.lowRank ? [H, ntk.r, d] : null,
  };
}

/** The step buffers' shapes for n new positions (null: not allocated). */
export function stepShapes(H: number, d: number, n: number, loraRank: number): { [K in keyof DecodeActs]: number[] | null } {
  const C = H * d;
  return {
    x0: [n, C], wpeRows: [n, C],
    ln1: [n, C], ln1Mean: [n], ln1Rstd: [n],
    qkv: [n, 3 * C], q: [H, n, d], o: [H, n, d], lse: [H, n],
    att: [n, C], resid2: [n, C],
    ln2: [n, C], ln2Mean: [n], ln2Rstd: [n],
    fc: [n, 4 * C], fcg: [n, 4 * C], out: [n, C],
    loraT: loraRank > 0 ? [n, loraRank] : null,
    lnf: [n, C], lnfMean: [n], lnfRstd: [n],
  };
}

export class KvCache {
  /** Per layer: keys and values [H, capacity, d] of positions 0 … length−1. */
  readonly k: Tensor[] = [];
  readonly v: Tensor[] = [];
  /** NTK-Attention: per layer, the buffers the sequence's terms are built into (k̃, and Z when low rank). */
  readonly ntkInto: { z: Tensor | null; kTilde: Tensor }[] = [];
  /** NTK-Attention: per layer, Z and k̃ as built for this sequence (set by GptGpu at position 0). */
  ntkTerms: NtkDecodeTerms[] = [];
  /** Positions held (rows 0 … length−1 of every layer are valid). */
  length = 0;
  private acts: DecodeActs | null = null;
  private n = 0;
  readonly capacity: number;

  constructor(private readonly gpu: Gpu, readonly dims: KvCacheDims) {
    this.capacity = dims.capacity;
    const s = layerShapes(dims);
    for (let l = 0; l < dims.nLayer; l++) {
      this.k.push(gpu.tensor(s.k, undefined, `kv.${l}.k`));
      this.v.push(gpu.tensor(s.v, undefined, `kv.${l}.v`));
      if (s.kTilde) this.ntkInto.push({ kTilde: gpu.tensor(s.kTilde, undefined, `kv.${l}.ntk.k~`), z: s.z ? gpu.tensor(s.z, undefined, `kv.${l}.ntk.Z`) : null });
    }
  }

  /** The step buffers for n new positions (reallocated only when n changes). */
  stepActs(n: number, loraRank: number): DecodeActs {
    if (this.acts && this.n === n) return this.acts;
    this.releaseActs();
    const shapes = Object.entries(stepShapes(this.dims.H, this.dims.d, n, loraRank));
    this.acts = Object.fromEntries(shapes.map(([name, shape]) => [name, shape ? this.gpu.tensor(shape, undefined, `decode.${name}`) : null])) as unknown as DecodeActs;
    this.n = n;
    return this.acts;
  }

  private releaseActs() {
    if (this.acts) this.gpu.release(...Object.values(this.acts));
    this.acts = null;
    this.n = 0;
  }

  destroy() {
    this.releaseActs();
    this.gpu.release(...this.k, ...this.v, ...this.ntkInto.flatMap((t) => [t.z, t.kTilde]));
    this.k.length = this.v.length = this.ntkInto.length = 0;
    this.ntkTerms = [];
    this.length = 0;
  }
}
