// The float64 twin of ./gpt.ts: the same GPT, forward and backward, written layer by layer
// in the same order from the kernels' float64 references (src/kernels/*.ref.ts). It is
// the definition the GPU model is checked against, so it favours plain over fast.
//
//   x = wte[tokens] + wpe[0..T)
//   for each block l:   x = x + proj(attn(ln1(x)))      attn: causal, + prefix / NTK / LoRA
//                       x = x + fcproj(gelu(fc(ln2(x))))
//   logits = ln_f(x) · wteᵀ        loss = mean cross-entropy over counted targets (−1 ignored)
//
// Adapters, as gpt.ts wires them:
//   prefix  every query also attends to h.l.prefix.key/value [H, m, d]; positions unchanged
//   ntk     NTK-Attention with Z = h.l.ntk.Z [H, r, d] or Z_A·Z_B per head, k̃ from κ
//   lora    qkv += (alpha/r)·(ln1·Aᵀ)·Bᵀ, A [r, C], B [3C, r]; B's key rows C..2C frozen
//           (their gradient is defined as 0, as the GPU writes it)
// The backward returns the gradient of the loss for every parameter, base and adapter,
// whatever the method trains; a caller picks the trainable ones.
import { crossEntropyRef } from '../kernels/crossentropy.ref';
import { embeddingBackwardRef, embeddingRef } from '../kernels/embedding.ref';
import { geluBackwardRef, geluRef } from '../kernels/gelu.ref';
import { layerNormBackwardRef, layerNormRef } from '../kernels/layernorm.ref';
import { matmulRef } from '../kernels/matmul.ref';
import { ntkAttentionBackwardRef, ntkAttentionRef } from '../kernels/ntk_attention.ref';
import { permuteQkvBackwardRef, permuteQkvRef, unpermuteBackwardRef, unpermuteRef } from '../kernels/permute.ref';
import { prefixAttentionBackwardRef, prefixAttentionRef } from '../kernels/prefix_attention.ref';
import { addRef } from '../kernels/residual.ref';
import { type AdapterSpec, type ModelConfig, type ParamSpec, adapterParamSpecs, baseParamSpecs, featureDimOf, validateConfig } from './params';

export type RefArray = Float64Array | Float32Array;
export type RefParams = Map<string, RefArray>;

export interface ReferenceForward {
  /** Mean cross-entropy over counted targets (NaN without targets). */
  loss: number;
  /** [B·T, V] */
  logits: Float64Array;
}

/** Every parameter of the model (base, then adapter), in gpt.ts's order. */
export function referenceSpecs(config: ModelConfig, adapter: AdapterSpec): ParamSpec[] {
  return [...baseParamSpecs(config), ...adapterParamSpecs(config, adapter)];
}

// Activations of one block kept for the backward pass.
interface BlockActs {
  x: Float64Array; // block input [N, C]
  ln1: Float64Array;
  loraT: Float64Array | null; // ln1·Aᵀ [N, r]
  q: Float64Array; k: Float64Array; v: Float64Array; // [B, H, T, d]
  z: Float64Array | null; // NTK's Z [H, r, d] (Z_A·Z_B when low rank)
  att: Float64Array; // heads merged [N, C]
  resid2: Float64Array; // x + attention branch
  ln2: Float64Array;
  fc: Float64Array; // [N, 4C] before GELU
  fcg: Float64Array; // after GELU
}

interface ForwardState extends ReferenceForward {
  acts: BlockActs[];
  xL: Float64Array; // last block's output
  lnf: Float64Array;
  dlogits: Float64Array | null;
}

function checkInputs(config: ModelConfig, adapter: AdapterSpec, params: RefParams, tokens: ArrayLike<number>, targets: ArrayLike<number> | null, B: number, T: number) {
  const bad = validateConfig(config);
  if (bad) throw new Error(`reference: ${bad}`);
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) throw new Error(`reference: B and T must be positive integers (got B=${B}, T=${T})`);
  if (T > config.contextLength) throw new Error(`reference: sequence length ${T} exceeds the model context ${config.contextLength}`);
  if (tokens.length !== B * T) throw new Error(`reference: expected ${B * T} tokens (B=${B}, T=${T}), got ${tokens.length}`);
  if (targets && targets.length !== B * T) throw new Error(`reference: expected ${B * T} targets (B=${B}, T=${T}), got ${targets.length}`);
  const V = config.vocabSize;
  for (let i = 0; i < tokens.length; i++) {
    if (!Number.isInteger(tokens[i]) || tokens[i] < 0 || tokens[i] >= V) throw new Error(`reference: token ${tokens[i]} at ${i} is outside [0, ${V})`);
  }
  if (targets) {
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i];
      if (t !== -1 && !(Number.isInteger(t) && t >= 0 && t < V)) throw new Error(`reference: target ${t} at ${i} is neither −1 (ignored) nor in [0, ${V})`);
    }
  }
  if (adapter.method === 'lora' && !(Number.isInteger(adapter.rank) && adapter.rank >= 1)) throw new Error(`reference: LoRA rank must be a positive integer (got ${adapter.rank})`);
  for (const s of referenceSpecs(config, adapter)) {
    const v = params.get(s.name);
    if (!v) throw new Error(`reference: missing parameter ${s.name}`);
    if (v.length !== s.numel) throw new Error(`reference: ${s.name} expected ${s.numel} values [${s.shape}], got ${v.length}`);
  }
}

/** The per-head feature dimension r and low rank s (0 = full) of an NTK adapter. */
function ntkDims(config: ModelConfig, adapter: AdapterSpec) {
  if (adapter.method !== 'ntk') throw new Error('not an NTK adapter');
  const d = config.nEmbd / config.nHead;
  return { r: featureDimOf(adapter.featureMap, d), s: adapter.rank };
}

function forwardPass(config: ModelConfig, adapter: AdapterSpec, params: RefParams, tokens: ArrayLike<number>, targets: ArrayLike<number> | null, B: number, T: number): ForwardState {
  checkInputs(config, adapter, params, tokens, targets, B, T);
  const C = config.nEmbd;
  const H = config.nHead;
  const d = C / H;
  const V = config.vocabSize;
  const N = B * T;
  const m = adapter.method === 'prefix' ? adapter.prefixLength : 0;
  const p = (name: string) => params.get(name)!;
  const empty = new Float64Array(0);

  let x = embeddingRef(tokens, p('wte'), p('wpe'), B, T, C);
  const acts: BlockActs[] = [];
  for (let l = 0; l < config.nLayer; l++) {
    const P = (n: string) => p(`h.${l}.${n}`);
    // Attention branch.
    const ln1 = layerNormRef(x, P('ln_1.weight'), P('ln_1.bias'), N, C).y;
    let qkv = matmulRef(ln1, P('attn.c_attn.weight'), { M: N, K: C, N: 3 * C, bias: P('attn.c_attn.bias') });
    let loraT: Float64Array | null = null;
    if (adapter.method === 'lora') {
      const r = adapter.rank;
      loraT = matmulRef(ln1, P('lora.A'), { M: N, K: C, N: r, transB: true });
      qkv = matmulRef(loraT, P('lora.B'), { M: N, K: r, N: 3 * C, transB: true, accumulate: true, alpha: adapter.alpha / r, c: qkv });
    }
    const { q, k, v } = permuteQkvRef(qkv, { B, T, H, d });
    let o: Float64Array;
    let z: Float64Array | null = null;
    if (adapter.method === 'ntk') {
      const { r, s } = ntkDims(config, adapter);
      z = s > 0 ? matmulRef(P('ntk.Z_A'), P('ntk.Z_B'), { M: r, K: s, N: d, batch: H }) : Float64Array.from(P('ntk.Z'));
      o = ntkAttentionRef(q, k, v, z, P('ntk.kappa'), { B, H, L: T, d, featureMap: adapter.featureMap, kParam: adapter.kParam, causal: true }).o;
    } else {
      const pk = m > 0 ? P('prefix.key') : empty;
      const pv = m > 0 ? P('prefix.value') : empty;
      o = prefixAttentionRef({ q, k, v, pk, pv }, { B, H, L: T, d, m, causal: true }).o;
    }
    const att = unpermuteRef(o, { B, T, H, d });
    const proj = matmulRef(att, P('attn.c_proj.weight'), { M: N, K: C, N: C, bias: P('attn.c_proj.bias') });
    const resid2 = addRef(x, proj);
    // MLP branch.
    const ln2 = layerNormRef(resid2, P('ln_2.weight'), P('ln_2.bias'), N, C).y;
    const fc = matmulRef(ln2, P('mlp.c_fc.weight'), { M: N, K: C, N: 4 * C, bias: P('mlp.c_fc.bias') });
    const fcg = geluRef(fc);
    const mlp = matmulRef(fcg, P('mlp.c_proj.weight'), { M: N, K: 4 * C, N: C, bias: P('mlp.c_proj.bias') });
    acts.push({ x, ln1, loraT, q, k, v, z, att, resid2, ln2, fc, fcg });
    x = addRef(resid2, mlp);
  }
  const lnf = layerNormRef(x, p('ln_f.weight'), p('ln_f.bias'), N, C).y;
  const logits = matmulRef(lnf, p('wte'), { M: N, K: C, N: V, transB: true }); // tied head
  if (!targets) return { loss: NaN, logits, acts, xL: x, lnf, dlogits: null };
  const ce = crossEntropyRef(logits, targets, N, V, -1);
  return { loss: ce.mean, logits, acts, xL: x, lnf, dlogits: ce.dlogits };
}

/** Loss and logits of the model on tokens [B, T] (targets [B, T], −1 = not counted; or null). */
export function referenceForward(
  config: ModelConfig, adapter: AdapterSpec, params: RefParams, tokens: ArrayLike<number>, targets: ArrayLike<number> | null, B: number, T: number,
): ReferenceForward {
  const { loss, logits } = forwardPass(config, adapter, params, tokens, targets, B, T);
  return { loss, logits };
}

/** out[c] = Σ_n dy[n, c]: a bias gradient. */
function columnSum(dy: Float64Array, N: number, C: number): Float64Array {
  const out = new Float64Array(C);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) out[c] += dy[n * C + c];
  return out;
}

/** ∂loss/∂θ for every parameter θ (base and adapter), with the forward's loss and logits. */
export function referenceForwardBackward(
  config: ModelConfig, adapter: AdapterSpec, params: RefParams, tokens: ArrayLike<number>, targets: ArrayLike<number>, B: number, T: number,
): ReferenceForward & { grads: Map<string, Float64Array> } {
  const f = forwardPass(config, adapter, params, tokens, targets, B, T);
  const C = config.nEmbd;
  const H = config.nHead;
  const d = C / H;
  const V = config.vocabSize;
  const N = B * T;
  const m = adapter.method === 'prefix' ? adapter.prefixLength : 0;
  const p = (name: string) => params.get(name)!;
  const grads = new Map<string, Float64Array>();
  const set = (name: string, g: Float64Array) => grads.set(name, g);

  // Tied head: logits = lnf·wteᵀ.
  const dlogits = f.dlogits!;
  const dwteHead = matmulRef(dlogits, f.lnf, { M: V, K: N, N: C, transA: true });
  const dlnf = matmulRef(dlogits, p('wte'), { M: N, K: V, N: C });
  const lnfB = layerNormBackwardRef(dlnf, f.xL, p('ln_f.weight'), N, C);
  set('ln_f.weight', lnfB.dw);
  set('ln_f.bias', lnfB.db);
  let dresid = lnfB.dx; // ∂loss/∂(residual stream) at the current depth

  for (let l = config.nLayer - 1; l >= 0; l--) {
    const a = f.acts[l];
    const P = (n: string) => p(`h.${l}.${n}`);
    const G = (n: string, g: Float64Array) => set(`h.${l}.${n}`, g);
    // MLP branch: out = resid2 + gelu(ln2·W_fc + b_fc)·W_proj + b_proj.
    const dfcg = matmulRef(dresid, P('mlp.c_proj.weight'), { M: N, K: C, N: 4 * C, transB: true });
    G('mlp.c_proj.weight', matmulRef(a.fcg, dresid, { M: 4 * C, K: N, N: C, transA: true }));
    G('mlp.c_proj.bias', columnSum(dresid, N, C));
    const dfc = geluBackwardRef(a.fc, dfcg);
    const dln2 = matmulRef(dfc, P('mlp.c_fc.weight'), { M: N, K: 4 * C, N: C, transB: true });
    G('mlp.c_fc.weight', matmulRef(a.ln2, dfc, { M: C, K: N, N: 4 * C, transA: true }));
    G('mlp.c_fc.bias', columnSum(dfc, N, 4 * C));
    const ln2B = layerNormBackwardRef(dln2, a.resid2, P('ln_2.weight'), N, C);
    G('ln_2.weight', ln2B.dw);
    G('ln_2.bias', ln2B.db);
    dresid = addRef(dresid, ln2B.dx); // the residual passes dresid straight through

    // Attention branch: resid2 = x + attn(ln1)·W_proj + b_proj.
    const datt = matmulRef(dresid, P('attn.c_proj.weight'), { M: N, K: C, N: C, transB: true });
    G('attn.c_proj.weight', matmulRef(a.att, dresid, { M: C, K: N, N: C, transA: true }));
    G('attn.c_proj.bias', columnSum(dresid, N, C));
    const dO = unpermuteBackwardRef(datt, { B, T, H, d });
    let dq: Float64Array, dk: Float64Array, dv: Float64Array;
    if (adapter.method === 'ntk') {
      const { r, s } = ntkDims(config, adapter);
      const g = ntkAttentionBackwardRef(a.q, a.k, a.v, a.z!, P('ntk.kappa'), dO, { B, H, L: T, d, featureMap: adapter.featureMap, kParam: adapter.kParam, causal: true });
      ({ dq, dk, dv } = g);
      if (s > 0) {
        // Z = Z_A·Z_B per head: dZ_A = dZ·Z_Bᵀ, dZ_B = Z_Aᵀ·dZ.
        G('ntk.Z_A', matmulRef(g.dz, P('ntk.Z_B'), { M: r, K: d, N: s, transB: true, batch: H }));
        G('ntk.Z_B', matmulRef(P('ntk.Z_A'), g.dz, { M: s, K: r, N: d, transA: true, batch: H }));
      } else {
        G('ntk.Z', g.dz);
      }
      G('ntk.kappa', g.dkappa);
    } else {
      const pk = m > 0 ? P('prefix.key') : new Float64Array(0);
      const pv = m > 0 ? P('prefix.value') : new Float64Array(0);
      const g = prefixAttentionBackwardRef({ q: a.q, k: a.k, v: a.v, pk, pv }, dO, { B, H, L: T, d, m, causal: true });
      ({ dq, dk, dv } = g);
      if (m > 0) {
        G('prefix.key', g.dpk);
        G('prefix.value', g.dpv);
      }
    }
    const dqkv = permuteQkvBackwardRef(dq, dk, dv, { B, T, H, d });
    let dln1 = matmulRef(dqkv, P('attn.c_attn.weight'), { M: N, K: 3 * C, N: C, transB: true });
    G('attn.c_attn.weight', matmulRef(a.ln1, dqkv, { M: C, K: N, N: 3 * C, transA: true }));
    G('attn.c_attn.bias', columnSum(dqkv, N, 3 * C));
    if (adapter.method === 'lora') {
      // qkv += s·t·Bᵀ with t = ln1·Aᵀ.
      const r = adapter.rank;
      const s = adapter.alpha / r;
      const dB = matmulRef(dqkv, a.loraT!, { M: 3 * C, K: N, N: r, transA: true, alpha: s });
      dB.fill(0, C * r, 2 * C * r); // key rows frozen (LoRA on query and value only)
      G('lora.B', dB);
      const dt = matmulRef(dqkv, P('lora.B'), { M: N, K: 3 * C, N: r, alpha: s });
      G('lora.A', matmulRef(dt, a.ln1, { M: r, K: N, N: C, transA: true }));
      dln1 = matmulRef(dt, P('lora.A'), { M: N, K: r, N: C, accumulate: true, c: dln1 });
    }
    const ln1B = layerNormBackwardRef(dln1, a.x, P('ln_1.weight'), N, C);
    G('ln_1.weight', ln1B.dw);
    G('ln_1.bias', ln1B.db);
    dresid = addRef(dresid, ln1B.dx);
  }
  // Embedding: wte gets the head's gradient plus the token rows'; wpe rows ≥ T get 0.
  const emb = embeddingBackwardRef(tokens, dresid, B, T, C, V, config.contextLength);
  set('wte', addRef(dwteHead, emb.dwte));
  set('wpe', emb.dwpe);

  // Same order as the specs (base, then adapter), every parameter present.
  const ordered = new Map<string, Float64Array>();
  for (const s of referenceSpecs(config, adapter)) {
    const g = grads.get(s.name);
    if (!g || g.length !== s.numel) throw new Error(`reference: internal error, gradient of ${s.name} missing or mis-sized`);
    ordered.set(s.name, g);
  }
  return { loss: f.loss, logits: f.logits, grads: ordered };
}

/** ∂loss/∂θ for every parameter θ (base and adapter). */
export function referenceBackward(
  config: ModelConfig, adapter: AdapterSpec, params: RefParams, tokens: ArrayLike<number>, targets: ArrayLike<number>, B: number, T: number,
): Map<string, Float64Array> {
  return referenceForwardBackward(config, adapter, params, tokens, targets, B, T).grads;
}
