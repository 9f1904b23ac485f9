// The state of incremental decoding for one sequence (B = 1): every layer's cached keys
// and values, and the activation buffers of one decode step (n new positions; every layer
// reuses them in turn, since nothing is kept for a backward).
//
// Memory: 2·nLayer·capacity·C floats for the cache (gpt2 at 1024 positions: 75 MB), plus
// O(n·(V + 4C)) for a step. GptGpu allocates it on the first decodeStep and frees it with
// releaseDecode() (generate() does so when it returns).
import type { Gpu, Tensor } from '../gpu/runtime';

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

export class KvCache {
  /** Per layer: keys and values [H, capacity, d] of positions 0 … length−1. */
  readonly k: Tensor[] = [];
  readonly v: Tensor[] = [];
  /** Positions held (rows 0 … length−1 of every layer are valid). */
  length = 0;
  private acts: DecodeActs | null = null;
  private n = 0;

  constructor(
    private readonly gpu: Gpu,
    readonly nLayer: number,
    readonly H: number,
    readonly d: number,
    readonly capacity: number,
  ) {
    for (let l = 0; l < nLayer; l++) {
      this.k.push(gpu.tensor([H, capacity, d], undefined, `kv.${l}.k`));
      this.v.push(gpu.tensor([H, capacity, d], undefined, `kv.${l}.v`));
    }
  }

  /** The step buffers for n new positions (reallocated only when n changes). */
  stepActs(n: number, loraRank: number): DecodeActs {
    if (this.acts && this.n === n) return this.acts;
    this.releaseActs();
    const { gpu, H, d } = this;
    const C = H * d;
    const a = (shape: number[], label: string) => gpu.tensor(shape, undefined, `decode.${label}`);
    this.acts = {
      x0: a([n, C], 'x0'), wpeRows: a([n, C], 'wpe'),
      ln1: a([n, C], 'ln1'), ln1Mean: a([n], 'ln1.mean'), ln1Rstd: a([n], 'ln1.rstd'),
      qkv: a([n, 3 * C], 'qkv'), q: a([H, n, d], 'q'), o: a([H, n, d], 'o'), lse: a([H, n], 'lse'),
      att: a([n, C], 'att'), resid2: a([n, C], 'resid2'),
      ln2: a([n, C], 'ln2'), ln2Mean: a([n], 'ln2.mean'), ln2Rstd: a([n], 'ln2.rstd'),
      fc: a([n, 4 * C], 'fc'), fcg: a([n, 4 * C], 'fcg'), out: a([n, C], 'out'),
      loraT: loraRank > 0 ? a([n, loraRank], 'lora.t') : null,
      lnf: a([n, C], 'lnf'), lnfMean: a([n], 'lnf.mean'), lnfRstd: a([n], 'lnf.rstd'),
    };
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
    this.gpu.release(...this.k, ...this.v);
    this.k.length = this.v.length = 0;
    this.length = 0;
  }
}
