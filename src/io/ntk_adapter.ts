// NTK-Attention adapters. PEFT has no such method, so the folder keeps PEFT's file names
// with our own peft_type "PREFIX_LAB_NTK_ATTENTION" (PEFT refuses to load it, by design:
// it would not know the formula). Per layer l, in adapter_model.safetensors:
//   transformer.h.{l}.attn.ntk.Z      [H, r, d]   (rank 0), or
//   transformer.h.{l}.attn.ntk.Z_A    [H, r, s] and .Z_B [H, s, d] with Z = Z_A·Z_B per head
//   transformer.h.{l}.attn.ntk.kappa  [H, r]      raw κ; k̃ = |κ|, e^κ, softplus(κ) or κ (k_param)
// with r = feature_dim (elu1: d; taylor2: 1 + d + d²). The formula: docs/FORMAT.md.
import type { FeatureMapName, KParam } from '../train/config';
import { featureDimOf, headDim, type ModelConfig } from '../model/params';
import type { SafeTensorInput, SafetensorsFile } from './safetensors';
import { CheckpointError, refuseUnexpected, takeTensor } from './bundle';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, type AdapterTensors, expectField, type ParsedAdapter } from './peft';

export const NTK_PEFT_TYPE = 'PREFIX_LAB_NTK_ATTENTION';
const FEATURE_MAPS: FeatureMapName[] = ['elu1', 'taylor2'];
const K_PARAMS: KParam[] = ['abs', 'exp', 'softplus', 'identity'];

export const ntkKey = (l: number, t: 'Z' | 'Z_A' | 'Z_B' | 'kappa') => `transformer.h.${l}.attn.ntk.${t}`;

/** Our name and the shape of each NTK tensor of layer l. */
function ntkTensors(c: ModelConfig, featureMap: FeatureMapName, rank: number, l: number): { name: string; key: string; shape: number[] }[] {
  const H = c.nHead;
  const d = headDim(c);
  const r = featureDimOf(featureMap, d);
  const parts: ['Z' | 'Z_A' | 'Z_B' | 'kappa', number[]][] =
    rank > 0 ? [['Z_A', [H, r, rank]], ['Z_B', [H, rank, d]], ['kappa', [H, r]]] : [['Z', [H, r, d]], ['kappa', [H, r]]];
  return parts.map(([t, shape]) => ({ name: `h.${l}.ntk.${t}`, key: ntkKey(l, t), shape }));
}

export function ntkToFiles(c: ModelConfig, featureMap: FeatureMapName, kParam: KParam, rank: number, params: Map<string, Float32Array>): AdapterTensors {
  const tensors: Record<string, SafeTensorInput> = {};
  for (let l = 0; l < c.nLayer; l++) {
    for (const t of ntkTensors(c, featureMap, rank, l)) {
      const numel = t.shape.reduce((a, b) => a * b, 1);
      const v = params.get(t.name);
      if (!v || v.length !== numel) throw new CheckpointError('params', `adapter parameter ${t.name}: expected ${numel} values [${t.shape}], got ${v ? v.length : 'none'}`, undefined, t.name);
      tensors[t.key] = { dtype: 'F32', shape: t.shape, data: v };
    }
  }
  return {
    config: {
      peft_type: NTK_PEFT_TYPE,
      task_type: 'CAUSAL_LM',
      feature_map: featureMap,
      k_param: kParam,
      feature_dim: featureDimOf(featureMap, headDim(c)),
      rank,
      num_layers: c.nLayer,
      num_attention_heads: c.nHead,
      head_dim: headDim(c),
      token_dim: c.nEmbd,
      inference_mode: true,
      base_model_name_or_path: null,
    },
    tensors,
  };
}

export function ntkFromFiles(c: ModelConfig, j: Record<string, unknown>, file: SafetensorsFile): ParsedAdapter {
  const J = ADAPTER_CONFIG_FILE;
  const refuse = (msg: string): never => {
    throw new CheckpointError('adapter', msg, J);
  };
  const featureMap = j.feature_map as FeatureMapName;
  if (!FEATURE_MAPS.includes(featureMap)) refuse(`feature_map must be one of ${FEATURE_MAPS.join(', ')}, got ${JSON.stringify(j.feature_map)}`);
  const kParam = j.k_param as KParam;
  if (!K_PARAMS.includes(kParam)) refuse(`k_param must be one of ${K_PARAMS.join(', ')}, got ${JSON.stringify(j.k_param)}`);
  const rank = j.rank;
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 0) refuse(`rank must be a non-negative integer (0 = full-rank Z), got ${JSON.stringify(rank)}`);
  expectField(j, 'num_layers', c.nLayer, 'n_layer');
  expectField(j, 'num_attention_heads', c.nHead, 'n_head');
  expectField(j, 'head_dim', headDim(c), 'head dimension d');
  expectField(j, 'feature_dim', featureDimOf(featureMap, headDim(c)), `the ${featureMap} feature dimension r`);
  const params = new Map<string, Float32Array>();
  const known = new Set<string>();
  for (let l = 0; l < c.nLayer; l++) {
    for (const t of ntkTensors(c, featureMap, rank as number, l)) {
      params.set(t.name, takeTensor(file, ADAPTER_WEIGHTS_FILE, t.key, t.shape));
      known.add(t.key);
    }
  }
  refuseUnexpected(file, ADAPTER_WEIGHTS_FILE, known, `NTK-Attention ${(rank as number) > 0 ? `rank ${rank}` : 'full rank'} over ${c.nLayer} layers`);
  return { adapter: { method: 'ntk', featureMap, kParam, rank: rank as number }, params };
}
