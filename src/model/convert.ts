// Conversion prefix → NTK-Attention in closed form (docs/ntk-attention.md §10): for every layer and
// head, a prefix of m keys p_j and values w_j enters attention only through
//   k = Σ_j φ(p_j)   [r]        Z = Σ_j φ(p_j) w_jᵀ   [r, d]
// when e^{c·q·p} is replaced by φ(q)ᵀφ(p). φ folds the scale c = 1/√d in (u = x / d^{1/4}),
// so with taylor2 φ(q)ᵀφ(p) = 1 + t + t²/2, t = c·q·p: the converted model differs from the
// prefix model only by the Taylor remainder e^t − (1 + t + t²/2) on each prefix weight
// (small when |t| is). taylor2's k has signed entries while φ(q)ᵀk = Σ_j (1 + t_j + t_j²/2)
// stays positive, so k is used as is (kParam 'identity'); |k| would be wrong. elu1 is
// allowed (its φ is positive) but does not approximate e^t: expect a large gap.
// Only the math is here; the converted model and its evaluation are src/lab/convert.ts.
import type { Gpu } from '../gpu/runtime';
import { NTK_MAX_HEAD_DIM, ntkFromPrefix } from '../kernels/ntk_attention';
import type { FeatureMapName } from '../kernels/ntk_types';
import type { GptGpu } from './gpt';
import { type AdapterSpec, adapterParamSpecs, featureDimOf, headDim } from './params';

export interface ConvertOptions {
  /** φ; default taylor2 (the one that approximates e^{c·q·p}). */
  featureMap?: FeatureMapName;
}

export interface Conversion {
  /** The NTK adapter the parameters belong to (kParam identity, full-rank Z). */
  adapter: AdapterSpec & { method: 'ntk' };
  /** h.{l}.ntk.Z [H, r, d] and h.{l}.ntk.kappa [H, r] (= k) for every layer. */
  params: Map<string, Float32Array>;
}

export function ntkAdapterFor(featureMap: FeatureMapName): AdapterSpec & { method: 'ntk' } {
  return { method: 'ntk', featureMap, kParam: 'identity', rank: 0 };
}

/** Closed-form NTK adapter from a prefix model's current prefix (on the GPU, one kernel per layer). */
export async function convertPrefixToNtk(gpu: Gpu, prefixModel: GptGpu, o: ConvertOptions = {}): Promise<Conversion> {
  const featureMap = o.featureMap ?? 'taylor2';
  if (prefixModel.adapter.method !== 'prefix') throw new Error(`convert: the model's adapter is '${prefixModel.adapter.method}', not a prefix`);
  const m = prefixModel.adapter.prefixLength;
  if (m < 1) throw new Error('convert: the prefix is empty (m = 0); there is nothing to convert');
  const cfg = prefixModel.config;
  const H = cfg.nHead;
  const d = headDim(cfg);
  if (d > NTK_MAX_HEAD_DIM) throw new Error(`convert: head dimension ${d} exceeds NTK-Attention's limit of ${NTK_MAX_HEAD_DIM}`);
  const adapter = ntkAdapterFor(featureMap);
  const r = featureDimOf(featureMap, d);
  const z = gpu.tensor([H, r, d], undefined, 'convert.Z');
  const k = gpu.tensor([H, r], undefined, 'convert.k');
  const params = new Map<string, Float32Array>();
  try {
    for (let l = 0; l < cfg.nLayer; l++) {
      const pk = prefixModel.params.get(`h.${l}.prefix.key`)!;
      const pv = prefixModel.params.get(`h.${l}.prefix.value`)!;
      ntkFromPrefix(gpu, pk, pv, z, k, { H, m, d, featureMap });
      params.set(`h.${l}.ntk.Z`, await gpu.read(z));
      params.set(`h.${l}.ntk.kappa`, await gpu.read(k));
    }
  } finally {
    gpu.release(z, k);
  }
  // The names and shapes the NTK model expects, so a drift in params.ts fails loudly here.
  for (const s of adapterParamSpecs(cfg, adapter)) {
    const v = params.get(s.name);
    if (!v || v.length !== s.numel) throw new Error(`convert: produced ${v?.length ?? 'no'} values for ${s.name}, expected ${s.numel} [${s.shape}]`);
  }
  return { adapter, params };
}
