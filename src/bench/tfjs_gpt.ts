// The same GPT as src/model/gpt.ts, written with TensorFlow.js ops (4.22, any backend; the
// training benchmark runs it on the WebGPU backend), for full fine-tuning only: the yardstick
// that our `full` method is compared against.
//
//   x = wte[tokens] + wpe[0..T)
//   for each block l:   x = x + proj(attn(ln1(x)))      causal MHA, scores scaled by 1/√d
//                       x = x + fcproj(gelu_tanh(fc(ln2(x))))
//   logits = ln_f(x) · wteᵀ (tied head)    loss = mean cross-entropy over targets ≠ −1
//
// Parameters are the tensors of baseParamSpecs (same names, shapes and Conv1D [in, out]
// layouts), so the same initParams() values load into both models. The optimiser is the
// one gpt.ts runs: global-norm clipping (scale = min(1, clip/(norm + 1e-6))) then AdamW
// with decoupled weight decay on the specs' `decay` tensors, written out with tf ops
// because TF.js has no AdamW (tf.train.adam has no decoupled decay).
import { createRequire } from 'node:module';
import type * as TfCore from '@tensorflow/tfjs-core';
import { LN_EPS } from '../kernels/layernorm';
import { baseParamSpecs, type ModelConfig, type ParamSpec } from '../model/params';
import type { StepHyper } from '../model/gpt';

type Tf = typeof TfCore;
type Tensor = TfCore.Tensor;
type Tensor2D = TfCore.Tensor2D;
type Variable = TfCore.Variable;

const GELU_C = Math.sqrt(2 / Math.PI);
/** Clipping's guard in the norm's denominator (src/kernels/gradnorm.ref.ts). */
const CLIP_EPS = 1e-6;

/**
 * Registers TF.js's gradient functions (once per process). tfjs-core's Node entry (its CJS
 * bundle) leaves them out — the @tensorflow/tfjs umbrella package, not installed here,
 * registers them — and the ES-module copy of `register_all_gradients` cannot be imported by
 * Node's ESM resolver (extensionless relative imports), so it is loaded through `require`
 * (tsx compiles it). The kernel and gradient registries live on the global object, so the
 * bundle's engine sees what this copy registers.
 */
export function registerTfGradients() {
  createRequire(import.meta.url)('@tensorflow/tfjs-core/dist/register_all_gradients.js');
}

/** Each model's variables get their own name prefix (TF.js variable names are global). */
let instances = 0;

export class TfGpt {
  readonly specs: ParamSpec[];
  private readonly vars = new Map<string, Variable>();
  private readonly moments = new Map<string, { m: Variable; v: Variable }>();
  private readonly prefix: string;
  private masks = new Map<number, Tensor>();
  private step = 0;

  constructor(
    private readonly tf: Tf,
    readonly config: ModelConfig,
    values: Map<string, Float32Array>,
  ) {
    const C = config.nEmbd;
    if (C % config.nHead !== 0) throw new Error(`TfGpt: nEmbd ${C} must be divisible by nHead ${config.nHead}`);
    this.prefix = `tfgpt${instances++}`;
    this.specs = baseParamSpecs(config);
    for (const s of this.specs) {
      const v = values.get(s.name);
      if (!v) throw new Error(`TfGpt: missing parameter ${s.name}`);
      if (v.length !== s.numel) throw new Error(`TfGpt: ${s.name} expected ${s.numel} values [${s.shape}], got ${v.length}`);
      const name = `${this.prefix}/${s.name}`;
      this.vars.set(s.name, tf.variable(tf.tensor(v, s.shape, 'float32'), true, name));
      this.moments.set(s.name, {
        m: tf.variable(tf.zeros(s.shape), false, `${name}/m`),
        v: tf.variable(tf.zeros(s.shape), false, `${name}/v`),
      });
    }
  }

  private p(name: string): Tensor {
    const t = this.vars.get(name);
    if (!t) throw new Error(`TfGpt: no parameter ${name}`);
    return t;
  }

  /** Additive causal mask [T, T]: 0 on and below the diagonal, −1e9 above (made once per T). */
  private mask(T: number): Tensor {
    let m = this.masks.get(T);
    if (!m) {
      const tf = this.tf;
      m = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9));
      tf.keep(m);
      this.masks.set(T, m);
    }
    return m;
  }

  private layerNorm(x: Tensor, w: Tensor, b: Tensor): Tensor {
    const tf = this.tf;
    const { mean, variance } = tf.moments(x, -1, true); // biased variance, as GPT-2
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, LN_EPS))), w), b);
  }

  private gelu(x: Tensor): Tensor {
    const tf = this.tf;
    const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), GELU_C);
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  }

  /** [N, C] → [B·H, T, d] for one of q, k, v. */
  private heads(x: Tensor, B: number, T: number): Tensor {
    const tf = this.tf;
    const H = this.config.nHead;
    const d = this.config.nEmbd / H;
    return tf.reshape(tf.transpose(tf.reshape(x, [B, T, H, d]), [0, 2, 1, 3]), [B * H, T, d]);
  }

  /** Mean cross-entropy of the batch (a scalar tensor). tokens and targets: int32 [B, T]. */
  loss(tokens: Tensor2D, targets: Tensor2D): TfCore.Scalar {
    const tf = this.tf;
    const [B, T] = tokens.shape;
    const { nLayer, nHead: H, nEmbd: C, vocabSize: V, contextLength } = this.config;
    if (T > contextLength) throw new Error(`TfGpt: sequence length ${T} exceeds the model context ${contextLength}`);
    const d = C / H;
    const N = B * T;
    const P = (l: number, n: string) => this.p(`h.${l}.${n}`);
    const mask = this.mask(T);
    let x: Tensor = tf.add(tf.gather(this.p('wte'), tf.reshape(tokens, [N])), tf.tile(tf.slice(this.p('wpe'), [0, 0], [T, C]), [B, 1]));
    for (let l = 0; l < nLayer; l++) {
      const ln1 = this.layerNorm(x, P(l, 'ln_1.weight'), P(l, 'ln_1.bias'));
      const qkv = tf.add(tf.matMul(ln1, P(l, 'attn.c_attn.weight') as Tensor2D), P(l, 'attn.c_attn.bias'));
      const [q, k, v] = tf.split(qkv, 3, 1).map((t) => this.heads(t, B, T));
      const scores = tf.add(tf.mul(tf.matMul(q as TfCore.Tensor3D, k as TfCore.Tensor3D, false, true), 1 / Math.sqrt(d)), mask);
      const o = tf.matMul(tf.softmax(scores) as TfCore.Tensor3D, v as TfCore.Tensor3D); // [B·H, T, d]
      const att = tf.reshape(tf.transpose(tf.reshape(o, [B, H, T, d]), [0, 2, 1, 3]), [N, C]);
      const resid2 = tf.add(x, tf.add(tf.matMul(att as Tensor2D, P(l, 'attn.c_proj.weight') as Tensor2D), P(l, 'attn.c_proj.bias')));
      const ln2 = this.layerNorm(resid2, P(l, 'ln_2.weight'), P(l, 'ln_2.bias'));
      const fc = tf.add(tf.matMul(ln2 as Tensor2D, P(l, 'mlp.c_fc.weight') as Tensor2D), P(l, 'mlp.c_fc.bias'));
      const mlp = tf.add(tf.matMul(this.gelu(fc) as Tensor2D, P(l, 'mlp.c_proj.weight') as Tensor2D), P(l, 'mlp.c_proj.bias'));
      x = tf.add(resid2, mlp);
    }
    const lnf = this.layerNorm(x, this.p('ln_f.weight'), this.p('ln_f.bias'));
    const logits = tf.matMul(lnf as Tensor2D, this.p('wte') as Tensor2D, false, true); // tied head
    // Targets of −1 are not counted: their one-hot rows are all zero.
    const flat = tf.reshape(targets, [N]);
    const counted = tf.sum(tf.cast(tf.greaterEqual(flat, 0), 'float32'));
    const picked = tf.sum(tf.mul(tf.oneHot(flat as TfCore.Tensor1D, V), tf.logSoftmax(logits)));
    return tf.div(tf.neg(picked), tf.maximum(counted, 1)) as TfCore.Scalar;
  }

  /**
   * One training step: loss, gradients of every parameter, global-norm clipping and AdamW.
   * Returns the loss (before the update), still on the device: the caller reads it.
   */
  trainStep(tokens: Tensor2D, targets: Tensor2D, h: StepHyper): TfCore.Scalar {
    const tf = this.tf;
    this.step++;
    const bc1 = 1 - Math.pow(h.beta1, this.step);
    const bc2 = 1 - Math.pow(h.beta2, this.step);
    const names = this.specs.map((s) => s.name);
    const varList = names.map((n) => this.vars.get(n)!);
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => this.loss(tokens, targets), varList);
      const g = names.map((n) => grads[`${this.prefix}/${n}`]);
      // Clip scale on the device (no readback), as gradNormScale does.
      // Summed pairwise: tf.addN over every tensor needs more storage bindings than one
      // WebGPU shader may have, and its pipeline fails validation.
      const norm = tf.sqrt(g.map((t) => tf.sum(tf.square(t))).reduce((a, b) => tf.add(a, b)));
      const clip = h.gradClip > 0 && Number.isFinite(h.gradClip);
      const scale = clip ? tf.minimum(1, tf.div(h.gradClip, tf.add(norm, CLIP_EPS))) : tf.scalar(1);
      this.specs.forEach((s, i) => {
        const p = varList[i];
        const { m, v } = this.moments.get(s.name)!;
        const gi = tf.mul(g[i], scale);
        m.assign(tf.add(tf.mul(m, h.beta1), tf.mul(gi, 1 - h.beta1)));
        v.assign(tf.add(tf.mul(v, h.beta2), tf.mul(tf.square(gi), 1 - h.beta2)));
        let upd = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), h.eps));
        if (s.decay && h.weightDecay > 0) upd = tf.add(upd, tf.mul(p, h.weightDecay));
        p.assign(tf.sub(p, tf.mul(upd, h.lr)));
      });
      return value;
    });
  }

  /**
   * A step with TF.js's own Adam (tf.train.adam: no weight decay, no clipping) in place of
   * the AdamW above: shows how much of TF.js's step time the hand-written update costs.
   */
  trainStepBuiltinAdam(tokens: Tensor2D, targets: Tensor2D, optimizer: TfCore.AdamOptimizer): TfCore.Scalar {
    const varList = this.specs.map((s) => this.vars.get(s.name)!);
    const loss = optimizer.minimize(() => this.loss(tokens, targets), true, varList);
    if (!loss) throw new Error('TfGpt: minimize returned no loss');
    return loss;
  }

  /** Host copies of every parameter (to compare with ours). */
  async readParams(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const s of this.specs) out.set(s.name, (await this.vars.get(s.name)!.data()) as Float32Array);
    return out;
  }

  dispose() {
    for (const v of this.vars.values()) v.dispose();
    for (const { m, v } of this.moments.values()) {
      m.dispose();
      v.dispose();
    }
    for (const m of this.masks.values()) m.dispose();
    this.vars.clear();
    this.moments.clear();
    this.masks.clear();
  }
}
