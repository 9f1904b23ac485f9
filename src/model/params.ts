// The model's configuration and every parameter tensor: name (GPT-2's, as Hugging Face
// spells them, minus the `.weight` on embeddings), shape, initialisation and whether
// AdamW decays it. The GPU model, the float64 reference and the checkpoint formats all
// build on this one list. Layouts: docs/FORMAT.md.
import type { FeatureMapName, KParam } from '../train/config';

export interface ModelConfig {
  vocabSize: number;
  /** Maximum sequence length (rows of wpe). */
  contextLength: number;
  nLayer: number;
  nHead: number;
  /** Width C; head dimension d = C / nHead. */
  nEmbd: number;
}

export type AdapterSpec =
  | { method: 'none' }
  | { method: 'full' }
  | { method: 'prefix'; prefixLength: number }
  | { method: 'ntk'; featureMap: FeatureMapName; kParam: KParam; /** 0 = full-rank Z */ rank: number }
  | { method: 'lora'; rank: number; alpha: number };

export type Init =
  | { kind: 'normal'; std: number }
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'constant'; value: number };

export interface ParamSpec {
  name: string;
  shape: number[];
  numel: number;
  init: Init;
  /** AdamW weight decay applies (matrices; not biases, LayerNorm or embeddings' positions). */
  decay: boolean;
  /** Belongs to the adapter (trained unless method = full). */
  adapter: boolean;
}

const spec = (name: string, shape: number[], init: Init, decay: boolean, adapter = false): ParamSpec => ({
  name,
  shape,
  numel: shape.reduce((a, b) => a * b, 1),
  init,
  decay,
  adapter,
});

export function validateConfig(c: ModelConfig): string | null {
  for (const k of ['vocabSize', 'contextLength', 'nLayer', 'nHead', 'nEmbd'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) return `${k} must be a positive integer (got ${c[k]})`;
  }
  if (c.nEmbd % c.nHead !== 0) return `nEmbd ${c.nEmbd} must be divisible by nHead ${c.nHead}`;
  return null;
}

export function headDim(c: ModelConfig): number {
  return c.nEmbd / c.nHead;
}

/** r, the feature dimension of φ: elu1 r = d; taylor2 r = 1 + d + d². */
export function featureDimOf(map: FeatureMapName, d: number): number {
  return map === 'elu1' ? d : 1 + d + d * d;
}

/** GPT-2's parameters with GPT-2's initialisation (residual projections scaled by 1/√(2n)). */
export function baseParamSpecs(c: ModelConfig): ParamSpec[] {
  const C = c.nEmbd;
  const std = 0.02;
  const projStd = 0.02 / Math.sqrt(2 * c.nLayer);
  const out: ParamSpec[] = [spec('wte', [c.vocabSize, C], { kind: 'normal', std }, true), spec('wpe', [c.contextLength, C], { kind: 'normal', std: 0.01 }, false)];
  for (let l = 0; l < c.nLayer; l++) {
    const h = `h.${l}.`;
    out.push(
      spec(`${h}ln_1.weight`, [C], { kind: 'ones' }, false),
      spec(`${h}ln_1.bias`, [C], { kind: 'zeros' }, false),
      spec(`${h}attn.c_attn.weight`, [C, 3 * C], { kind: 'normal', std }, true),
      spec(`${h}attn.c_attn.bias`, [3 * C], { kind: 'zeros' }, false),
      spec(`${h}attn.c_proj.weight`, [C, C], { kind: 'normal', std: projStd }, true),
      spec(`${h}attn.c_proj.bias`, [C], { kind: 'zeros' }, false),
      spec(`${h}ln_2.weight`, [C], { kind: 'ones' }, false),
      spec(`${h}ln_2.bias`, [C], { kind: 'zeros' }, false),
      spec(`${h}mlp.c_fc.weight`, [C, 4 * C], { kind: 'normal', std }, true),
      spec(`${h}mlp.c_fc.bias`, [4 * C], { kind: 'zeros' }, false),
      spec(`${h}mlp.c_proj.weight`, [4 * C, C], { kind: 'normal', std: projStd }, true),
      spec(`${h}mlp.c_proj.bias`, [C], { kind: 'zeros' }, false),
    );
  }
  out.push(spec('ln_f.weight', [C], { kind: 'ones' }, false), spec('ln_f.bias', [C], { kind: 'zeros' }, false));
  return out;
}

/**
 * The adapter's parameters, per layer l:
 * - prefix: h.l.prefix.key, h.l.prefix.value [H, m, d] (random init std 1; see prefix init options)
 * - ntk: h.l.ntk.Z [H, r, d] (or Z_A [H, r, s], Z_B [H, s, d]) and h.l.ntk.kappa [H, r].
 *   Z starts at 0 (output unchanged); κ starts so that k̃ is small but nonzero and can train
 *   (|κ| started at exactly 0 never moves).
 * - lora: h.l.lora.A [r, C] and h.l.lora.B [3C, r] on c_attn with B's key rows held at 0
 *   (LoRA on the query and value projections; exports as PEFT's c_attn lora_A/lora_B).
 */
export function adapterParamSpecs(c: ModelConfig, a: AdapterSpec): ParamSpec[] {
  const H = c.nHead;
  const d = headDim(c);
  const C = c.nEmbd;
  const out: ParamSpec[] = [];
  for (let l = 0; l < c.nLayer; l++) {
    const h = `h.${l}.`;
    if (a.method === 'prefix' && a.prefixLength > 0) {
      out.push(
        spec(`${h}prefix.key`, [H, a.prefixLength, d], { kind: 'normal', std: 1 }, false, true),
        spec(`${h}prefix.value`, [H, a.prefixLength, d], { kind: 'normal', std: 1 }, false, true),
      );
    } else if (a.method === 'ntk') {
      const r = featureDimOf(a.featureMap, d);
      if (a.rank > 0) {
        out.push(
          spec(`${h}ntk.Z_A`, [H, r, a.rank], { kind: 'normal', std: 0.02 }, false, true),
          spec(`${h}ntk.Z_B`, [H, a.rank, d], { kind: 'zeros' }, false, true),
        );
      } else {
        out.push(spec(`${h}ntk.Z`, [H, r, d], { kind: 'zeros' }, false, true));
      }
      out.push(spec(`${h}ntk.kappa`, [H, r], { kind: 'constant', value: kappaInit(a.kParam) }, false, true));
    } else if (a.method === 'lora') {
      out.push(
        spec(`${h}lora.A`, [a.rank, C], { kind: 'normal', std: 1 / Math.sqrt(C) }, false, true),
        spec(`${h}lora.B`, [3 * C, a.rank], { kind: 'zeros' }, false, true),
      );
    }
  }
  return out;
}

/** κ so that k̃ ≈ 1e-3 per feature: small enough to leave outputs nearly unchanged, never 0. */
export function kappaInit(k: KParam): number {
  const target = 1e-3;
  switch (k) {
    case 'exp':
      return Math.log(target);
    case 'softplus':
      return Math.log(Math.expm1(target));
    case 'abs':
    case 'identity':
      return target;
  }
}

export function countParams(specs: ParamSpec[]): number {
  return specs.reduce((a, s) => a + s.numel, 0);
}
