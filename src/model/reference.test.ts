// The float64 reference GPT (./reference.ts) and the whole-model gradient check.
// (a) The reference's gradients of every tensor against central finite differences of
//     its own float64 loss, per adaptation method, on a micro model.
// (b) The GPU model (./gpt.ts): its loss, logits and the gradient of EVERY trainable
//     tensor (all elements) against the reference, as ‖gpu − ref‖ / ‖ref‖ per tensor.
// Parameters are random (not the default init) with non-zero adapters (LoRA B, NTK Z and
// κ, a random prefix) so that every gradient path carries signal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeGpu } from '../gpu/node';
import type { Gpu } from '../gpu/runtime';
import { relErr } from '../kernels/check';
import { BatchBuffers } from '../train/trainer';
import { Rng, freshSeed } from '../util/rng';
import { GptGpu } from './gpt';
import type { AdapterSpec, ModelConfig } from './params';
import { type RefParams, referenceForward, referenceForwardBackward, referenceSpecs } from './reference';

// Micro model: odd vocabulary, d = 3, T < context so wpe rows ≥ T must get exactly 0.
const cfg: ModelConfig = { vocabSize: 11, contextLength: 7, nLayer: 2, nHead: 2, nEmbd: 6 };
const B = 2;
const T = 5;

const METHODS: [string, AdapterSpec][] = [
  ['none', { method: 'none' }],
  ['full', { method: 'full' }],
  ['prefix m=0', { method: 'prefix', prefixLength: 0 }],
  ['prefix m=1', { method: 'prefix', prefixLength: 1 }],
  ['prefix m=3', { method: 'prefix', prefixLength: 3 }],
  ['ntk elu1 full-rank exp', { method: 'ntk', featureMap: 'elu1', kParam: 'exp', rank: 0 }],
  ['ntk elu1 full-rank abs', { method: 'ntk', featureMap: 'elu1', kParam: 'abs', rank: 0 }],
  ['ntk taylor2 rank-2 softplus', { method: 'ntk', featureMap: 'taylor2', kParam: 'softplus', rank: 2 }],
  ['ntk taylor2 rank-2 identity', { method: 'ntk', featureMap: 'taylor2', kParam: 'identity', rank: 2 }],
  ['lora r=2 alpha=3', { method: 'lora', rank: 2, alpha: 3 }],
];

/** κ giving the wanted k̃ under a k parameterisation (abs: a random sign, to test sign(κ)). */
function kappaFor(adapter: AdapterSpec, kt: number, rng: Rng): number {
  if (adapter.method !== 'ntk') throw new Error('not ntk');
  switch (adapter.kParam) {
    case 'exp':
      return Math.log(kt);
    case 'softplus':
      return Math.log(Math.expm1(kt));
    case 'abs':
      return rng.next() < 0.5 ? -kt : kt;
    case 'identity':
      return kt;
  }
}

/**
 * Random parameters, stored as float32 (so the GPU and the reference see the same
 * numbers). Scales are larger than GPT-2's init so that every branch moves the loss.
 * NTK: k̃ per feature in [0.05, 0.3] (taylor2's constant feature 1) keeps the denominator
 * φ(q)ᵀk̃ positive for the signed taylor2 features at these q scales.
 */
function randomParams(adapter: AdapterSpec, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const C = cfg.nEmbd;
  const out = new Map<string, Float32Array>();
  for (const s of referenceSpecs(cfg, adapter)) {
    const a = new Float32Array(s.numel);
    const normal = (std: number, mean = 0) => {
      for (let i = 0; i < a.length; i++) a[i] = mean + std * rng.normal();
    };
    if (s.name === 'wte') normal(0.5);
    else if (s.name === 'wpe') normal(0.3);
    else if (/ln_\w+\.weight$/.test(s.name)) normal(0.2, 1);
    else if (/\.bias$/.test(s.name)) normal(0.1);
    else if (/\.weight$/.test(s.name)) normal(0.4);
    else if (/prefix\./.test(s.name)) normal(1);
    else if (/ntk\.Z/.test(s.name)) normal(0.4);
    else if (/ntk\.kappa/.test(s.name)) {
      const r = s.shape[1];
      for (let i = 0; i < a.length; i++) {
        const taylorConst = adapter.method === 'ntk' && adapter.featureMap === 'taylor2' && i % r === 0;
        a[i] = kappaFor(adapter, taylorConst ? 1 : rng.uniform(0.05, 0.3), rng);
      }
    } else if (/lora\.A/.test(s.name)) normal(0.4);
    else if (/lora\.B/.test(s.name)) {
      normal(0.3);
      const r = s.shape[1];
      a.fill(0, C * r, 2 * C * r); // key rows stay 0: they are frozen in gpt.ts
    } else throw new Error(`randomParams: no rule for ${s.name}`);
    out.set(s.name, a);
  }
  return out;
}

/** Tokens in [0, V) and targets with some −1 (not counted), at least one counted. */
function randomBatch(seed: number) {
  const rng = new Rng(seed);
  const tokens = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  for (let i = 0; i < B * T; i++) {
    tokens[i] = rng.int(0, cfg.vocabSize - 1);
    targets[i] = rng.next() < 0.25 ? -1 : rng.int(0, cfg.vocabSize - 1);
  }
  targets[0] = rng.int(0, cfg.vocabSize - 1);
  return { tokens, targets };
}

describe('float64 reference GPT: gradients vs central finite differences', () => {
  for (const [name, adapter] of METHODS) {
    if (name === 'full') continue; // same model as 'none'; the reference always returns every gradient
    it(`${name}: every tensor`, () => {
      const seed = freshSeed();
      const params32 = randomParams(adapter, seed);
      const params: RefParams = new Map([...params32].map(([k, v]) => [k, Float64Array.from(v)]));
      const { tokens, targets } = randomBatch(seed + 1);
      const { loss, grads } = referenceForwardBackward(cfg, adapter, params, tokens, targets, B, T);
      expect(Number.isFinite(loss)).toBe(true);
      expect([...grads.keys()]).toEqual(referenceSpecs(cfg, adapter).map((s) => s.name));
      const rng = new Rng(seed + 2);
      // h = 1e-6, not 1e-5: ELU+1's second derivative jumps at 0, and a later layer's q
      // coordinate within h of 0 shifts the central difference by O(h) (seen once at 1e-5:
      // 6e-6 relative on an ntk elu1 Z entry); a smaller h makes that both rarer and smaller,
      // while float64 rounding (~1e-16·|loss|/h ≈ 1e-9) stays under the 1e-8 floor below.
      const h = 1e-6;
      const bad: string[] = [];
      let worst = 0;
      for (const s of referenceSpecs(cfg, adapter)) {
        const v = params.get(s.name) as Float64Array;
        const g = grads.get(s.name)!;
        // Up to 12 coordinates per tensor: the largest-gradient one plus random ones.
        let top = 0;
        for (let i = 1; i < g.length; i++) if (Math.abs(g[i]) > Math.abs(g[top])) top = i;
        const idx = new Set([top]);
        while (idx.size < Math.min(12, g.length)) idx.add(rng.int(0, g.length - 1));
        for (const i of idx) {
          const old = v[i];
          v[i] = old + h;
          const lp = referenceForward(cfg, adapter, params, tokens, targets, B, T).loss;
          v[i] = old - h;
          const lm = referenceForward(cfg, adapter, params, tokens, targets, B, T).loss;
          v[i] = old;
          // LoRA B's key rows are frozen: their gradient is defined as 0 (the GPU's too).
          const frozen = adapter.method === 'lora' && s.name.endsWith('lora.B') && i >= cfg.nEmbd * adapter.rank && i < 2 * cfg.nEmbd * adapter.rank;
          const fd = frozen ? 0 : (lp - lm) / (2 * h);
          if (frozen) expect(g[i]).toBe(0);
          // float64: rounding ~1e-16/h ≈ 1e-11, truncation ~h² ≈ 1e-10 (scaled by f''').
          const err = Math.abs(fd - g[i]);
          worst = Math.max(worst, err / (1e-6 + Math.abs(fd)));
          if (!(err <= 1e-8 + 1e-6 * Math.abs(fd))) bad.push(`${s.name}[${i}]: ref ${g[i]} fd ${fd} (seed ${seed})`);
        }
      }
      console.log(`reference FD ${name}: worst |fd−ref|/(1e-6+|fd|) = ${worst.toExponential(2)}`);
      expect(bad).toEqual([]);
    });
  }

  it('LoRA B key rows change the forward but get a zero gradient (frozen, as gpt.ts)', () => {
    const adapter: AdapterSpec = { method: 'lora', rank: 2, alpha: 3 };
    const p = randomParams(adapter, 7);
    const { tokens, targets } = randomBatch(8);
    const g = referenceForwardBackward(cfg, adapter, p, tokens, targets, B, T).grads.get('h.0.lora.B')!;
    const C = cfg.nEmbd;
    expect(g.subarray(C * 2, 2 * C * 2).every((x) => x === 0)).toBe(true);
    expect(g.subarray(0, C * 2).some((x) => x !== 0) && g.subarray(2 * C * 2).some((x) => x !== 0)).toBe(true);
  });

  it('neutral adapters give the base model: prefix m=0, LoRA B=0, NTK Z=0 with k̃=0', () => {
    const base = randomParams({ method: 'none' }, 3);
    const { tokens, targets } = randomBatch(4);
    const ref = referenceForward(cfg, { method: 'none' }, base, tokens, targets, B, T);
    const withAdapter = (a: AdapterSpec, zero: RegExp) => {
      const p = new Map([...randomParams(a, 5)].map(([k, v]) => [k, zero.test(k) ? new Float32Array(v.length) : v]));
      for (const [k, v] of base) p.set(k, v);
      return referenceForward(cfg, a, p, tokens, targets, B, T);
    };
    expect(withAdapter({ method: 'prefix', prefixLength: 0 }, /^$/).logits).toEqual(ref.logits);
    expect(withAdapter({ method: 'lora', rank: 2, alpha: 3 }, /lora\.B/).logits).toEqual(ref.logits);
    const ntk = withAdapter({ method: 'ntk', featureMap: 'elu1', kParam: 'identity', rank: 0 }, /ntk\./);
    expect(relErr(ntk.logits, ref.logits)).toBeLessThan(1e-14);
  });

  it('prefix attention is not a no-op: a prefix changes the loss, and its gradient reaches layer 0', () => {
    const a: AdapterSpec = { method: 'prefix', prefixLength: 2 };
    const p = randomParams(a, 11);
    const { tokens, targets } = randomBatch(12);
    const r = referenceForwardBackward(cfg, a, p, tokens, targets, B, T);
    const base = referenceForward(cfg, { method: 'none' }, p, tokens, targets, B, T);
    expect(Math.abs(r.loss - base.loss)).toBeGreaterThan(1e-3);
    expect(r.grads.get('h.0.prefix.key')!.some((x) => Math.abs(x) > 1e-6)).toBe(true);
  });

  it('refuses bad input with clear messages', () => {
    const a: AdapterSpec = { method: 'none' };
    const p = randomParams(a, 1);
    const { tokens, targets } = randomBatch(2);
    expect(() => referenceForward(cfg, a, p, tokens, targets, B, 8)).toThrow(/expected 16 tokens|exceeds the model context 7/);
    expect(() => referenceForward(cfg, a, p, tokens.subarray(0, 9), targets, B, T)).toThrow(/expected 10 tokens/);
    const badTok = Int32Array.from(tokens);
    badTok[3] = cfg.vocabSize;
    expect(() => referenceForward(cfg, a, p, badTok, targets, B, T)).toThrow(/token 11 at 3 is outside \[0, 11\)/);
    const badTgt = Int32Array.from(targets);
    badTgt[2] = -2;
    expect(() => referenceForward(cfg, a, p, tokens, badTgt, B, T)).toThrow(/target -2 at 2/);
    const missing = new Map(p);
    missing.delete('h.1.mlp.c_fc.bias');
    expect(() => referenceForward(cfg, a, missing, tokens, targets, B, T)).toThrow(/missing parameter h\.1\.mlp\.c_fc\.bias/);
    const short = new Map(p);
    short.set('wpe', new Float32Array(3));
    expect(() => referenceForward(cfg, a, short, tokens, targets, B, T)).toThrow(/wpe expected 42 values \[7,6\], got 3/);
  });
});

// Bound for float32 GPU vs float64: each kernel rounds to float32 (unit roundoff 6e-8)
// and sums short dot products (K ≤ 4C = 24, N = 10 rows), so one op's relative error is
// ~1e-7; the loss and gradients chain ~20 such ops through two blocks, softmaxes and
// LayerNorms whose condition numbers are O(1-10) at these scales, giving ~1e-6-1e-5 per
// tensor. 1e-4 leaves margin for that and still fails any wrong term (a missing path or
// wrong sign is O(1e-2-1), a swapped index O(1)).
const GPU_BOUND = 1e-4;

let gpu: Gpu;
describe('GPU GPT vs the float64 reference: loss, logits and every trainable gradient', () => {
  beforeAll(async () => {
    gpu = await createNodeGpu();
  });
  afterAll(() => gpu?.destroy());

  const report: string[] = [];
  afterAll(() => console.log(`GPU vs float64 reference, max ‖gpu−ref‖/‖ref‖ per method:\n${report.join('\n')}`));

  for (const [name, adapter] of METHODS) {
    it(name, async () => {
      const seed = freshSeed();
      const params = randomParams(adapter, seed);
      const { tokens, targets } = randomBatch(seed + 1);
      const ref = referenceForwardBackward(cfg, adapter, params, tokens, targets, B, T);

      const model = new GptGpu(gpu, cfg, adapter);
      model.load(params);
      const buf = new BatchBuffers(gpu, B, T);
      buf.upload(tokens, targets);
      model.forward(buf.tokens, buf.targets, B, T);
      model.backward(); // allocates the gradient tensors
      // Poison every gradient, then run again: backward must write every element.
      for (const g of model.grads.values()) gpu.fill(g, NaN);
      model.forward(buf.tokens, buf.targets, B, T, { logits: 'all' });
      const loss = (await gpu.read(model.stats, 1))[0];
      const logits = await gpu.read(model.logitsTensor());
      model.backward();

      const errs: [string, number][] = [
        ['loss', Math.abs(loss - ref.loss) / Math.abs(ref.loss)],
        ['logits', relErr(logits, ref.logits)],
      ];
      expect([...model.grads.keys()].sort()).toEqual(model.trainable.map((s) => s.name).sort());
      for (const s of model.trainable) errs.push([s.name, relErr(await gpu.read(model.grads.get(s.name)!), ref.grads.get(s.name)!)]);
      buf.release();
      model.destroy();

      const worst = errs.reduce((a, b) => (b[1] > a[1] ? b : a));
      report.push(`  ${name.padEnd(28)} ${worst[1].toExponential(2)} (${worst[0]}; ${errs.length - 2} gradient tensors)`);
      const bad = errs.filter(([, e]) => !(e < GPU_BOUND)).map(([n, e]) => `${n}: ${e} (seed ${seed})`);
      expect(bad).toEqual([]);
    });
  }

});
