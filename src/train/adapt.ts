// From a run configuration to a model ready to train: the one place that turns RunConfig's
// method settings into an adapter, initialises that adapter (seeded; prefix from the base
// model's own keys and values on text when asked) and loads it beside the base weights.
// The CLI and the browser worker both call it, so a run is the same run in either.
import type { Task } from '../data';
import type { Gpu } from '../gpu/runtime';
import type { BaseModel } from '../model/base';
import { GptGpu } from '../model/gpt';
import { initParams } from '../model/init';
import { type AdapterSpec, type ModelConfig, adapterParamSpecs, baseParamSpecs, headDim } from '../model/params';
import { initPrefix } from '../model/prefix_init';
import { NTK_MAX_HEAD_DIM } from '../kernels/ntk_attention';
import { Rng } from '../util/rng';
import type { RunConfig } from './config';

/** What assembly needs of a base model: its config and host tensors. */
type BaseWeights = Pick<BaseModel, 'config' | 'params'>;

/** The adapter a run configuration asks for. */
export function adapterSpecOf(rc: RunConfig): AdapterSpec {
  switch (rc.method) {
    case 'full':
      return { method: 'full' };
    case 'prefix':
      return { method: 'prefix', prefixLength: rc.prefixLength };
    case 'ntk':
      return { method: 'ntk', featureMap: rc.featureMap, kParam: rc.kParam, rank: rc.ntkRank };
    case 'lora':
      return { method: 'lora', rank: rc.loraRank, alpha: rc.loraAlpha };
  }
}

/** Settings that cannot work with this base model, as a message naming the setting (or null).
 *  (A seqLen past the context is not one: the trainer caps T at the context.) */
export function checkAgainstBase(rc: RunConfig, c: ModelConfig): string | null {
  if (rc.method === 'ntk' && headDim(c) > NTK_MAX_HEAD_DIM) return `NTK-Attention supports head dimensions up to ${NTK_MAX_HEAD_DIM}; this base has ${headDim(c)}`;
  if (rc.method === 'lora' && rc.loraRank > c.nEmbd) return `loraRank ${rc.loraRank} exceeds the model width ${c.nEmbd}`;
  return null;
}

/**
 * A GPU model with the base weights and a freshly initialised adapter for `rc` (seeded by
 * rc.seed). 'from-text' prefix initialisation reads the task's training text through the
 * base model; it needs `task`.
 */
export async function buildAdaptedModel(gpu: Gpu, base: BaseWeights, rc: RunConfig, task?: Task): Promise<GptGpu> {
  const problem = checkAgainstBase(rc, base.config);
  if (problem) throw new Error(problem);
  const adapter = adapterSpecOf(rc);
  const values = new Map<string, Float32Array>();
  for (const s of baseParamSpecs(base.config)) {
    const v = base.params.get(s.name);
    if (!v || v.length !== s.numel) throw new Error(`base model parameter ${s.name}: expected ${s.numel} values, got ${v ? v.length : 'none'}`);
    // Full fine-tuning trains these in place on the GPU; the host copy stays the base.
    values.set(s.name, v);
  }
  for (const [k, v] of initParams(adapterParamSpecs(base.config, adapter), rc.seed)) values.set(k, v);
  if (adapter.method === 'prefix' && adapter.prefixLength > 0 && rc.prefixInit === 'from-text') {
    if (!task) throw new Error("prefixInit 'from-text' needs the task whose text initialises the prefix");
    const reader = assembleModel(gpu, { config: base.config, params: values }, { method: 'none' });
    try {
      for (const [k, v] of await initPrefix(gpu, reader, adapter.prefixLength, { kind: 'from-text', task, seed: rc.seed })) values.set(k, v);
    } finally {
      reader.destroy();
    }
  }
  return assembleModel(gpu, { config: base.config, params: values }, adapter);
}

/**
 * The one place a base and an adapter become a GptGpu: the base tensors with the adapter's
 * (`adapterParams`: trained, imported or freshly initialised; omit for none) on top. A load
 * that fails (a missing or mis-sized tensor) frees the model and rethrows.
 */
export function assembleModel(gpu: Gpu, base: BaseWeights, adapter: AdapterSpec, adapterParams?: Map<string, Float32Array>): GptGpu {
  const values = adapterParams ? new Map([...base.params, ...adapterParams]) : base.params;
  const model = new GptGpu(gpu, base.config, adapter);
  try {
    model.load(values);
  } catch (e) {
    model.destroy();
    throw e;
  }
  return model;
}

/** A base with a freshly initialised adapter (initParams seeded by `seed`), for callers that
 *  hold an AdapterSpec rather than a RunConfig (the benchmarks). */
export function assembleFresh(gpu: Gpu, base: BaseWeights, adapter: AdapterSpec, seed: number): GptGpu {
  return assembleModel(gpu, base, adapter, initParams(adapterParamSpecs(base.config, adapter), seed));
}

/** The trained adapter's tensors (or, under full fine-tuning, every base tensor). */
export async function readTrained(model: GptGpu): Promise<Map<string, Float32Array>> {
  return model.readParams(model.trainable.map((s) => s.name));
}

/** How much a freshly initialised adapter changes the base model's outputs. */
export interface InitialEffect {
  /** max |logits(adapted) − logits(base)| over one validation batch. */
  maxAbs: number;
  /** ‖logits(adapted) − logits(base)‖ / ‖logits(base)‖. */
  rel: number;
}

/**
 * The untrained adapter's effect on the base model's logits, on one validation batch: NTK's
 * init is meant to be negligible (k̃ ≈ 1e-3, Z ≈ 0.02 scale), LoRA's and an empty prefix's
 * exactly zero; a random prefix is not neutral (it is what prefix tuning starts from).
 */
export async function initialEffect(gpu: Gpu, base: BaseWeights, model: GptGpu, task: Task, B: number, T: number, seed: number): Promise<InitialEffect> {
  const batch = task.nextBatch('val', B, T, new Rng(seed));
  const tokens = gpu.tensor([B, T], new Uint32Array(batch.inputs.buffer, batch.inputs.byteOffset, batch.inputs.length), 'effect.tokens');
  const plain = assembleModel(gpu, base, { method: 'none' });
  try {
    plain.forward(tokens, null, B, T);
    const ref = await gpu.read(plain.logitsTensor());
    model.forward(tokens, null, B, T);
    const got = await gpu.read(model.logitsTensor());
    let maxAbs = 0;
    let num = 0;
    let den = 0;
    for (let i = 0; i < ref.length; i++) {
      const dlt = got[i] - ref[i];
      maxAbs = Math.max(maxAbs, Math.abs(dlt));
      num += dlt * dlt;
      den += ref[i] * ref[i];
    }
    return { maxAbs, rel: Math.sqrt(num / (den || 1)) };
  } finally {
    plain.destroy();
    gpu.release(tokens);
  }
}
