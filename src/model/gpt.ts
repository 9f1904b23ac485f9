// The GPT on the GPU: GPT-2's architecture, forward and backward written out layer by
// layer from the kernels (llm.c style), with the four adaptation methods wired in.
// Tensor names, shapes and layouts: docs/FORMAT.md. Float64 twin: ./reference.ts.
//
//   x = wte[tokens] + wpe[0..T)
//   for each block l:   x = x + proj(attn(ln1(x)))      attn: causal, + prefix / NTK / LoRA
//                       x = x + fcproj(gelu(fc(ln2(x))))
//   logits = ln_f(x) · wteᵀ        loss = mean cross-entropy over counted targets
//   (the head is fused with the loss, kernels/lm_head.ts: training never holds the [B·T, V]
//   logits; they are computed only for the rows a caller asks for, see ForwardOptions)
// Generation: decodeStep runs only new positions against a per-layer KV cache (./kv_cache.ts,
// kernels/attention_decode.ts), sharing the block code with forward.
import type { Gpu, Tensor } from '../gpu/runtime';
import { GpuError } from '../gpu/errors';
import { adamw } from '../kernels/adamw';
import { embeddingBackward, embeddingForward } from '../kernels/embedding';
import { geluBackward, geluForward } from '../kernels/gelu';
import { gradNormScale } from '../kernels/gradnorm';
import { layerNormBackward, layerNormForward } from '../kernels/layernorm';
import { lmHeadBackward, lmHeadForward, lmHeadLogits } from '../kernels/lm_head';
import { matmul } from '../kernels/matmul';
import { permuteQkvBackward, permuteQkvForward, unpermuteBackward, unpermuteForward } from '../kernels/permute';
import { ntkAttentionBackward, ntkAttentionForward } from '../kernels/ntk_attention';
import { prefixAttentionBackward, prefixAttentionForward } from '../kernels/prefix_attention';
import { addInPlace } from '../kernels/residual';
import { attentionDecode, attentionDecodeAppend, attentionDecodeNtk, ntkDecodeTerms } from '../kernels/attention_decode';
import { KvCache } from './kv_cache';
import { type AdapterSpec, type ModelConfig, type ParamSpec, adapterParamSpecs, baseParamSpecs, featureDimOf } from './params';

interface LayerActs {
  ln1: Tensor; ln1Mean: Tensor; ln1Rstd: Tensor;
  qkv: Tensor; q: Tensor; k: Tensor; v: Tensor;
  o: Tensor; lse: Tensor; ntkStats: Tensor | null; beta: Tensor;
  att: Tensor; resid2: Tensor;
  ln2: Tensor; ln2Mean: Tensor; ln2Rstd: Tensor;
  fc: Tensor; fcg: Tensor; out: Tensor;
  loraT: Tensor | null;
}

export interface StepHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  gradClip: number;
}

/**
 * Which rows' logits a forward pass computes (each row costs V·C multiply-adds and V
 * floats): 'none', 'all' B·T rows, or the contiguous rows [start, start + count) of the
 * flattened [B·T] positions (generation needs one).
 */
export type LogitsRequest = 'none' | 'all' | { start: number; count: number };

export interface ForwardOptions {
  /** Default: 'none' when targets are given (training, loss-only evaluation), else 'all'. */
  logits?: LogitsRequest;
}

export class GptGpu {
  readonly params = new Map<string, Tensor>();
  readonly grads = new Map<string, Tensor>();
  private moments = new Map<string, { m: Tensor; v: Tensor }>();
  readonly specs: ParamSpec[];
  readonly trainable: ParamSpec[];
  private acts: LayerActs[] = [];
  private B = 0;
  private T = 0;
  private x0!: Tensor; private lnf!: Tensor; private lnfMean!: Tensor; private lnfRstd!: Tensor;
  private losses!: Tensor; private lse!: Tensor; readonly stats: Tensor; readonly normOut: Tensor;
  /** Logits of the rows the last forward asked for ([count, V]), or null. */
  private logits: Tensor | null = null;
  private ones!: Tensor;
  private tokens: Tensor | null = null;
  private targets: Tensor | null = null;
  private step = 0;
  /** Zeros for LoRA's frozen key block of B's gradient ([C, r]), made once. */
  private loraZeros: Tensor | null = null;
  /** Incremental decoding's keys/values and step buffers (decodeStep), or null. */
  private kv: KvCache | null = null;

  constructor(
    private readonly gpu: Gpu,
    readonly config: ModelConfig,
    readonly adapter: AdapterSpec,
  ) {
    this.specs = [...baseParamSpecs(config), ...adapterParamSpecs(config, adapter)];
    this.trainable = this.specs.filter((s) => (adapter.method === 'full' ? !s.adapter : s.adapter));
    for (const s of this.specs) this.params.set(s.name, gpu.tensor(s.shape, undefined, s.name));
    this.stats = gpu.tensor([2], undefined, 'loss-stats');
    this.normOut = gpu.tensor([2], undefined, 'grad-norm');
  }

  get C() { return this.config.nEmbd; }
  get H() { return this.config.nHead; }
  get d() { return this.config.nEmbd / this.config.nHead; }
  get m() { return this.adapter.method === 'prefix' ? this.adapter.prefixLength : 0; }

  /** Uploads every parameter from host arrays (e.g. an init or a checkpoint). */
  load(values: Map<string, Float32Array>) {
    for (const s of this.specs) {
      const v = values.get(s.name);
      if (!v) throw new GpuError('shape', `missing parameter ${s.name}`);
      if (v.length !== s.numel) throw new GpuError('shape', `${s.name}: expected ${s.numel} values [${s.shape}], got ${v.length}`);
      this.gpu.write(this.params.get(s.name)!, v);
    }
  }

  async readParams(names = this.specs.map((s) => s.name)): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const n of names) out.set(n, await this.gpu.read(this.params.get(n)!));
    return out;
  }

  trainableCount(): number {
    return this.trainable.reduce((a, s) => a + s.numel, 0);
  }

  private p(name: string) {
    const t = this.params.get(name);
    if (!t) throw new GpuError('shape', `no parameter ${name}`);
    return t;
  }
  private g(name: string): Tensor | null {
    return this.grads.get(name) ?? null;
  }

  /** (Re)allocates activations for batch B and sequence length T. */
  private ensureActs(B: number, T: number) {
    if (B === this.B && T === this.T) return;
    if (T > this.config.contextLength) throw new GpuError('shape', `sequence length ${T} exceeds the model context ${this.config.contextLength}`);
    this.freeActs();
    const { gpu, C, H, d } = this;
    const N = B * T;
    const a = (shape: number[], label: string) => gpu.tensor(shape, undefined, label);
    this.x0 = a([N, C], 'x0');
    for (let l = 0; l < this.config.nLayer; l++) {
      const ntk = this.adapter.method === 'ntk';
      const lora = this.adapter.method === 'lora';
      this.acts.push({
        ln1: a([N, C], 'ln1'), ln1Mean: a([N], 'ln1.mean'), ln1Rstd: a([N], 'ln1.rstd'),
        qkv: a([N, 3 * C], 'qkv'), q: a([B, H, T, d], 'q'), k: a([B, H, T, d], 'k'), v: a([B, H, T, d], 'v'),
        o: a([B, H, T, d], 'o'), lse: a([B, H, T], 'lse'), ntkStats: ntk ? a([B, H, T, 2], 'ntk.stats') : null, beta: a([B, H, T], 'beta'),
        att: a([N, C], 'att'), resid2: a([N, C], 'resid2'),
        ln2: a([N, C], 'ln2'), ln2Mean: a([N], 'ln2.mean'), ln2Rstd: a([N], 'ln2.rstd'),
        fc: a([N, 4 * C], 'fc'), fcg: a([N, 4 * C], 'fcg'), out: a([N, C], 'block.out'),
        loraT: lora ? a([N, this.adapter.method === 'lora' ? this.adapter.rank : 1], 'lora.t') : null,
      });
    }
    this.lnf = a([N, C], 'lnf'); this.lnfMean = a([N], 'lnf.mean'); this.lnfRstd = a([N], 'lnf.rstd');
    this.losses = a([N], 'losses'); this.lse = a([N], 'lse');
    this.ones = gpu.tensor([N], new Float32Array(N).fill(1), 'ones');
    this.B = B;
    this.T = T;
  }

  private freeActs() {
    for (const a of this.acts) this.gpu.release(...(Object.values(a) as (Tensor | null)[]));
    this.acts = [];
    if (this.B) this.gpu.release(this.x0, this.lnf, this.lnfMean, this.lnfRstd, this.losses, this.lse, this.ones);
    this.B = this.T = 0;
  }

  /**
   * Records the forward pass; stats[0] holds the mean loss when targets are given, and
   * logitsTensor() the logits of the rows `opts.logits` asks for.
   */
  forward(tokens: Tensor, targets: Tensor | null, B: number, T: number, opts: ForwardOptions = {}) {
    this.ensureActs(B, T);
    this.tokens = tokens;
    this.targets = targets;
    const { gpu, C, H, d, m } = this;
    const N = B * T;
    const cfg = this.config;
    embeddingForward(gpu, tokens, this.p('wte'), this.p('wpe'), this.x0, { B, T, C });
    let x = this.x0;
    for (let l = 0; l < cfg.nLayer; l++) {
      const a = this.acts[l];
      const P = (n: string) => this.p(`h.${l}.${n}`);
      this.attentionInput(l, x, a, N);
      permuteQkvForward(gpu, a.qkv, a.q, a.k, a.v, { B, T, H, d });
      if (this.adapter.method === 'ntk') {
        ntkAttentionForward(gpu, this.ntkTensors(l, a), this.ntkOpts(B, T));
      } else {
        const pk = m > 0 ? P('prefix.key') : a.q; // m = 0: never read
        const pv = m > 0 ? P('prefix.value') : a.v;
        prefixAttentionForward(gpu, { q: a.q, k: a.k, v: a.v, pk, pv, o: a.o, lse: a.lse, beta: a.beta }, { B, H, L: T, d, m, causal: true });
      }
      x = this.blockOutput(l, x, a, B, T);
    }
    layerNormForward(gpu, x, this.p('ln_f.weight'), this.p('ln_f.bias'), this.lnf, this.lnfMean, this.lnfRstd, { N, C });
    const V = cfg.vocabSize;
    if (targets) {
      lmHeadForward(gpu, { x: this.lnf, wte: this.p('wte'), targets, losses: this.losses, lse: this.lse, stats: this.stats }, { N, C, V });
    }
    const want = opts.logits ?? (targets ? 'none' : 'all');
    const rows = want === 'none' ? null : want === 'all' ? { start: 0, count: N } : want;
    if (rows && !(Number.isInteger(rows.start) && Number.isInteger(rows.count) && rows.start >= 0 && rows.count >= 1 && rows.start + rows.count <= N)) {
      throw new GpuError('shape', `logits rows [${rows.start}, ${rows.start + rows.count}) are not within the ${N} positions of this batch`);
    }
    this.headLogits(this.lnf, rows);
  }

  /** ln_1, then qkv = ln1·W_qkv + b (+ LoRA's s·(ln1·Aᵀ)·Bᵀ) for N rows: forward and decodeStep. */
  private attentionInput(l: number, x: Tensor, a: Pick<LayerActs, 'ln1' | 'ln1Mean' | 'ln1Rstd' | 'qkv' | 'loraT'>, N: number) {
    const { gpu, C } = this;
    const P = (n: string) => this.p(`h.${l}.${n}`);
    layerNormForward(gpu, x, P('ln_1.weight'), P('ln_1.bias'), a.ln1, a.ln1Mean, a.ln1Rstd, { N, C });
    matmul(gpu, a.ln1, P('attn.c_attn.weight'), a.qkv, { M: N, K: C, N: 3 * C, bias: P('attn.c_attn.bias') });
    if (this.adapter.method === 'lora') {
      const r = this.adapter.rank;
      matmul(gpu, a.ln1, P('lora.A'), a.loraT!, { M: N, K: C, N: r, transB: true });
      matmul(gpu, a.loraT!, P('lora.B'), a.qkv, { M: N, K: r, N: 3 * C, transB: true, accumulate: true, alpha: this.adapter.alpha / r });
    }
  }

  /** The block after attention (o [B, H, T, d]): projection, residual, MLP, residual. Returns the block's output. */
  private blockOutput(l: number, x: Tensor, a: Pick<LayerActs, 'o' | 'att' | 'resid2' | 'ln2' | 'ln2Mean' | 'ln2Rstd' | 'fc' | 'fcg' | 'out'>, B: number, T: number): Tensor {
    const { gpu, C, H, d } = this;
    const N = B * T;
    const P = (n: string) => this.p(`h.${l}.${n}`);
    unpermuteForward(gpu, a.o, a.att, { B, T, H, d });
    matmul(gpu, a.att, P('attn.c_proj.weight'), a.resid2, { M: N, K: C, N: C, bias: P('attn.c_proj.bias') });
    addInto(gpu, a.resid2, x); // resid2 = x + proj
    layerNormForward(gpu, a.resid2, P('ln_2.weight'), P('ln_2.bias'), a.ln2, a.ln2Mean, a.ln2Rstd, { N, C });
    matmul(gpu, a.ln2, P('mlp.c_fc.weight'), a.fc, { M: N, K: C, N: 4 * C, bias: P('mlp.c_fc.bias') });
    geluForward(gpu, a.fc, a.fcg);
    matmul(gpu, a.fcg, P('mlp.c_proj.weight'), a.out, { M: N, K: 4 * C, N: C, bias: P('mlp.c_proj.bias') });
    addInto(gpu, a.out, a.resid2); // out = resid2 + mlp
    return a.out;
  }

  /** The logits of `rows` of lnf into this.logits. The buffer exists only while some pass asks for logits (and is reused at one size). */
  private headLogits(lnf: Tensor, rows: { start: number; count: number } | null) {
    const V = this.config.vocabSize;
    if (!rows || this.logits?.numel !== rows.count * V) {
      this.gpu.release(this.logits);
      this.logits = rows ? this.gpu.tensor([rows.count, V], undefined, 'logits') : null;
    }
    if (rows) lmHeadLogits(this.gpu, lnf, this.p('wte'), this.logits!, { rows: rows.count, rowOffset: rows.start, C: this.C, V });
  }

  /**
   * Incremental decoding of one sequence with a KV cache: runs only the n = tokens.numel
   * new positions pos … pos+n−1 (tokens [n] u32) through every layer, attending to the
   * keys/values cached for positions 0 … pos−1 and appending theirs, and computes the
   * logits of the last new position (logitsTensor(), [1, V]). pos = 0 starts a sequence
   * (the prompt in one step); then pos must be at most the positions cached (a smaller pos
   * rewinds). Equals forward() over tokens 0 … pos+n−1 up to float32 rounding. The cache
   * holds what the parameters gave when it was written (NTK-Attention's Z and k̃ too, built
   * at position 0): after changing them, start again at 0. `capacity` (at most contextLength) sizes the cache when a sequence starts; it
   * is kept until releaseDecode() or destroy().
   */
  decodeStep(tokens: Tensor, pos: number, capacity = this.config.contextLength) {
    const { gpu, C, H, d, m } = this;
    const cfg = this.config;
    const n = tokens.numel;
    const held = this.kv?.length ?? 0;
    if (!(Number.isInteger(pos) && pos >= 0 && pos <= held)) throw new GpuError('shape', `decodeStep at position ${pos}: only positions 0 … ${held - 1} are cached (start a sequence at 0)`);
    if (pos + n > cfg.contextLength) throw new GpuError('shape', `decodeStep: positions ${pos} … ${pos + n - 1} exceed the model context ${cfg.contextLength}; crop the sequence and start again at 0`);
    const ntk = this.adapter.method === 'ntk' ? this.adapter : null;
    if (pos === 0) {
      const cap = Math.min(cfg.contextLength, Math.max(capacity, n));
      if (this.kv?.capacity !== cap) {
        this.kv?.destroy();
        this.kv = new KvCache(gpu, { nLayer: cfg.nLayer, H, d, capacity: cap, ntk: ntk && { r: featureDimOf(ntk.featureMap, d), lowRank: ntk.rank > 0 } });
      }
      // NTK-Attention's Z and k̃ depend only on the parameters: built once per sequence (here,
      // where a sequence starts, so parameters changed since the last one are picked up).
      if (ntk) {
        const dims = { H, d, featureMap: ntk.featureMap, kParam: ntk.kParam, rank: ntk.rank || undefined };
        this.kv.ntkTerms = this.kv.ntkInto.map((into, l) => ntkDecodeTerms(gpu, this.ntkAdapter(l), into, dims));
      }
    }
    const kv = this.kv!;
    if (pos + n > kv.capacity) throw new GpuError('shape', `decodeStep: positions ${pos} … ${pos + n - 1} exceed the cache's capacity ${kv.capacity} (set when the sequence started)`);
    const a = kv.stepActs(n, this.adapter.method === 'lora' ? this.adapter.rank : 0);
    gpu.copy(this.p('wpe'), a.wpeRows, n * C, pos * C, 0); // wpe[pos … pos+n−1]
    embeddingForward(gpu, tokens, this.p('wte'), a.wpeRows, a.x0, { B: 1, T: n, C });
    let x = a.x0;
    for (let l = 0; l < cfg.nLayer; l++) {
      const P = (name: string) => this.p(`h.${l}.${name}`);
      // One set of step buffers for every layer: each layer reads x before writing a.out.
      this.attentionInput(l, x, a, n);
      const cache = { kCache: kv.k[l], vCache: kv.v[l] };
      attentionDecodeAppend(gpu, a.qkv, a.q, cache.kCache, cache.vCache, { H, n, d, Tmax: kv.capacity, pos });
      const dims = { H, n, t: pos, Tmax: kv.capacity, d };
      if (ntk) {
        attentionDecodeNtk(gpu, { q: a.q, ...cache, ...kv.ntkTerms[l], o: a.o }, { ...dims, featureMap: ntk.featureMap });
      } else {
        const pk = m > 0 ? P('prefix.key') : a.q; // m = 0: never read
        const pv = m > 0 ? P('prefix.value') : a.q;
        attentionDecode(gpu, { q: a.q, ...cache, pk, pv, o: a.o, lse: a.lse }, { ...dims, m });
      }
      x = this.blockOutput(l, x, a, 1, n);
    }
    layerNormForward(gpu, x, this.p('ln_f.weight'), this.p('ln_f.bias'), a.lnf, a.lnfMean, a.lnfRstd, { N: n, C });
    this.headLogits(a.lnf, { start: n - 1, count: 1 });
    kv.length = pos + n;
  }

  /** Positions the decode cache holds (0 without one). */
  get decodeLength(): number {
    return this.kv?.length ?? 0;
  }

  /** Frees the decode cache and step buffers (the next decodeStep must start at 0). */
  releaseDecode() {
    this.kv?.destroy();
    this.kv = null;
  }

  private ntkTensors(l: number, a: LayerActs) {
    return { q: a.q, k: a.k, v: a.v, o: a.o, stats: a.ntkStats!, beta: a.beta, ...this.ntkAdapter(l) };
  }
  /** Layer l's NTK-Attention parameters: Z (or Z_A, Z_B) and κ. */
  private ntkAdapter(l: number) {
    const P = (n: string) => this.p(`h.${l}.${n}`);
    const lowRank = this.adapter.method === 'ntk' && this.adapter.rank > 0;
    return { ...(lowRank ? { za: P('ntk.Z_A'), zb: P('ntk.Z_B') } : { z: P('ntk.Z') }), kappa: P('ntk.kappa') };
  }
  private ntkOpts(B: number, T: number) {
    if (this.adapter.method !== 'ntk') throw new Error('not an NTK model');
    return { B, H: this.H, L: T, d: this.d, rank: this.adapter.rank || undefined, featureMap: this.adapter.featureMap, kParam: this.adapter.kParam, causal: true };
  }

  /** The logits [count, V] of the rows the last forward pass asked for (ForwardOptions.logits). */
  logitsTensor(): Tensor {
    if (!this.logits) throw new GpuError('shape', "the last forward() computed no logits: pass { logits: 'all' } or a row range");
    return this.logits;
  }
  /** Per-(layer, B, H, T) prefix mass tensors of the last forward pass. */
  prefixMassTensors() {
    return this.acts.map((a) => a.beta);
  }

  private ensureGrads() {
    if (this.grads.size) return;
    for (const s of this.trainable) {
      this.grads.set(s.name, this.gpu.tensor(s.shape, undefined, `d.${s.name}`));
      const m = this.gpu.tensor(s.shape, new Float32Array(s.numel), `m.${s.name}`);
      const v = this.gpu.tensor(s.shape, new Float32Array(s.numel), `v.${s.name}`);
      this.moments.set(s.name, { m, v });
    }
  }

  /**
   * Records the backward pass of the last forward (which must have had targets). Every
   * trainable gradient is written (not accumulated), so no zeroing is needed.
   */
  backward() {
    if (!this.targets || !this.tokens) throw new Error('backward() needs a forward() with targets first');
    this.ensureGrads();
    const { gpu, C, H, d, m, B, T } = this;
    const N = B * T;
    const cfg = this.config;
    const V = cfg.vocabSize;
    const full = this.adapter.method === 'full';
    const dresid = gpu.tensor([N, C], undefined, 'dresid');
    const dlnf = gpu.tensor([N, C], undefined, 'dlnf');
    const xL = this.acts.length ? this.acts[this.acts.length - 1].out : this.x0;
    // Tied head, fused with the loss: dlnf, and dwte written here (the embedding's share is
    // added below by embeddingBackward).
    lmHeadBackward(
      gpu,
      { x: this.lnf, wte: this.p('wte'), targets: this.targets, lse: this.lse, stats: this.stats, dx: dlnf, dwte: full ? this.g('wte')! : null },
      { N, C, V },
    );
    layerNormBackward(gpu, dlnf, xL, this.p('ln_f.weight'), this.lnfMean, this.lnfRstd, dresid, this.g('ln_f.weight'), this.g('ln_f.bias'), { N, C, accumulate: false });

    const dbig = gpu.tensor([N, 4 * C], undefined, 'dfc');
    const dbig2 = gpu.tensor([N, 4 * C], undefined, 'dfcg');
    const dln = gpu.tensor([N, C], undefined, 'dln');
    const datt = gpu.tensor([N, C], undefined, 'datt');
    const dqkv = gpu.tensor([N, 3 * C], undefined, 'dqkv');
    const dO = gpu.tensor([B, H, T, d], undefined, 'do');
    const dq = gpu.tensor([B, H, T, d], undefined, 'dq');
    const dk = gpu.tensor([B, H, T, d], undefined, 'dk');
    const dv = gpu.tensor([B, H, T, d], undefined, 'dv');
    const loraR = this.adapter.method === 'lora' ? this.adapter.rank : 1;
    const dt = this.adapter.method === 'lora' ? gpu.tensor([N, loraR], undefined, 'dlora.t') : null;

    for (let l = cfg.nLayer - 1; l >= 0; l--) {
      const a = this.acts[l];
      const x = l === 0 ? this.x0 : this.acts[l - 1].out;
      const P = (n: string) => this.p(`h.${l}.${n}`);
      const G = (n: string) => this.g(`h.${l}.${n}`);
      // MLP branch: out = resid2 + fcg·W_proj + b.
      matmul(gpu, dresid, P('mlp.c_proj.weight'), dbig2, { M: N, K: C, N: 4 * C, transB: true });
      if (full) {
        matmul(gpu, a.fcg, dresid, G('mlp.c_proj.weight')!, { M: 4 * C, K: N, N: C, transA: true });
        columnSum(gpu, this.ones, dresid, G('mlp.c_proj.bias')!, N, C);
      }
      geluBackward(gpu, a.fc, dbig2, dbig);
      matmul(gpu, dbig, P('mlp.c_fc.weight'), dln, { M: N, K: 4 * C, N: C, transB: true });
      if (full) {
        matmul(gpu, a.ln2, dbig, G('mlp.c_fc.weight')!, { M: C, K: N, N: 4 * C, transA: true });
        columnSum(gpu, this.ones, dbig, G('mlp.c_fc.bias')!, N, 4 * C);
      }
      layerNormBackward(gpu, dln, a.resid2, P('ln_2.weight'), a.ln2Mean, a.ln2Rstd, dresid, G('ln_2.weight'), G('ln_2.bias'), { N, C, accumulate: true });
      // Attention branch: resid2 = x + att·W_proj + b.
      matmul(gpu, dresid, P('attn.c_proj.weight'), datt, { M: N, K: C, N: C, transB: true });
      if (full) {
        matmul(gpu, a.att, dresid, G('attn.c_proj.weight')!, { M: C, K: N, N: C, transA: true });
        columnSum(gpu, this.ones, dresid, G('attn.c_proj.bias')!, N, C);
      }
      unpermuteBackward(gpu, datt, dO, { B, T, H, d });
      if (this.adapter.method === 'ntk') {
        const lowRank = this.adapter.rank > 0;
        ntkAttentionBackward(
          gpu,
          {
            ...this.ntkTensors(l, a), dO, dq, dk, dv,
            ...(lowRank ? { dza: G('ntk.Z_A')!, dzb: G('ntk.Z_B')! } : { dz: G('ntk.Z')! }),
            dkappa: G('ntk.kappa')!,
          },
          this.ntkOpts(B, T),
        );
      } else {
        const pk = m > 0 ? P('prefix.key') : a.q;
        const pv = m > 0 ? P('prefix.value') : a.v;
        const dpk = m > 0 ? G('prefix.key') : null; // null: no prefix pass
        const dpv = m > 0 ? G('prefix.value') : null;
        prefixAttentionBackward(
          gpu,
          { q: a.q, k: a.k, v: a.v, pk, pv, o: a.o, lse: a.lse, dO, dq, dk, dv, dpk, dpv },
          { B, H, L: T, d, m, causal: true },
        );
      }
      permuteQkvBackward(gpu, dq, dk, dv, dqkv, { B, T, H, d });
      matmul(gpu, dqkv, P('attn.c_attn.weight'), dln, { M: N, K: 3 * C, N: C, transB: true });
      if (full) {
        matmul(gpu, a.ln1, dqkv, G('attn.c_attn.weight')!, { M: C, K: N, N: 3 * C, transA: true });
        columnSum(gpu, this.ones, dqkv, G('attn.c_attn.bias')!, N, 3 * C);
      }
      if (this.adapter.method === 'lora') {
        const r = loraR;
        const s = this.adapter.alpha / r;
        // qkv += s·(ln1·Aᵀ)·Bᵀ with B's key rows held at zero (LoRA on query and value only).
        matmul(gpu, dqkv, a.loraT!, G('lora.B')!, { M: 3 * C, K: N, N: r, transA: true, alpha: s });
        this.loraZeros ??= gpu.tensor([C, r], new Float32Array(C * r), 'lora.zeros');
        gpu.copy(this.loraZeros, G('lora.B')!, C * r, 0, C * r); // rows C..2C of [3C, r]
        matmul(gpu, dqkv, P('lora.B'), dt!, { M: N, K: 3 * C, N: r, alpha: s });
        matmul(gpu, dt!, a.ln1, G('lora.A')!, { M: r, K: N, N: C, transA: true });
        matmul(gpu, dt!, P('lora.A'), dln, { M: N, K: r, N: C, accumulate: true });
      }
      layerNormBackward(gpu, dln, x, P('ln_1.weight'), a.ln1Mean, a.ln1Rstd, dresid, G('ln_1.weight'), G('ln_1.bias'), { N, C, accumulate: true });
    }
    if (full) {
      embeddingBackward(gpu, this.tokens, dresid, this.g('wte')!, this.g('wpe')!, { B, T, C, V, accumulateWte: true });
    }
    gpu.release(dresid, dlnf, dbig, dbig2, dln, datt, dqkv, dO, dq, dk, dv, dt);
  }

  /** Global-norm clipping and one AdamW step over every trainable tensor (no readback). */
  optimizerStep(h: StepHyper) {
    this.step++;
    const names = this.trainable.map((s) => s.name);
    gradNormScale(this.gpu, names.map((n) => this.grads.get(n)!), h.gradClip, this.normOut);
    for (const s of this.trainable) {
      const { m, v } = this.moments.get(s.name)!;
      adamw(this.gpu, this.p(s.name), this.grads.get(s.name)!, m, v, h, this.step, { decay: s.decay && h.weightDecay > 0, gradScale: this.normOut });
    }
  }

  destroy() {
    this.freeActs();
    this.releaseDecode();
    for (const t of [...this.params.values(), ...this.grads.values()]) this.gpu.release(t);
    for (const { m, v } of this.moments.values()) this.gpu.release(m, v);
    this.gpu.release(this.stats, this.normOut, this.loraZeros, this.logits);
  }
}

// -- small helpers expressed with existing kernels ---------------------------------------


/** y += x (residual stream). */
function addInto(gpu: Gpu, y: Tensor, x: Tensor) {
  addInPlace(gpu, y, x);
}

/** out[c] = Σ_n dy[n, c]: a bias gradient, as onesᵀ·dY (deterministic, no atomics). */
function columnSum(gpu: Gpu, ones: Tensor, dy: Tensor, out: Tensor, N: number, C: number) {
  matmul(gpu, ones, dy, out, { M: 1, K: N, N: C });
}
