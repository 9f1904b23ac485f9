// Prefix → NTK-Attention conversion as a run step (the CLI's `convert`): the closed-form
// adapter (src/model/convert.ts), the NTK model assembled from the prefix model's base
// tensors through assembleModel, and both evaluated on the same validation batches.
import type { Task } from '../data';
import type { Gpu } from '../gpu/runtime';
import type { FeatureMapName } from '../kernels/ntk_types';
import { type Conversion, type ConvertOptions, convertPrefixToNtk } from '../model/convert';
import type { GptGpu } from '../model/gpt';
import { adapterParamSpecs, baseParamSpecs, countParams, featureDimOf, headDim } from '../model/params';
import { assembleModel } from '../train/adapt';
import { BatchBuffers, evaluate, type EvalResult } from '../train/trainer';

/** An NTK GptGpu carrying the prefix model's base tensors and the converted adapter. */
export async function buildConvertedModel(gpu: Gpu, prefixModel: GptGpu, conv: Conversion): Promise<GptGpu> {
  const params = await prefixModel.readParams(baseParamSpecs(prefixModel.config).map((s) => s.name));
  return assembleModel(gpu, { config: prefixModel.config, params }, conv.adapter, conv.params);
}

export interface ConversionReport {
  featureMap: FeatureMapName;
  /** Prefix length m and feature dimension r. */
  m: number;
  r: number;
  prefix: EvalResult;
  ntk: EvalResult;
  /** ntk.loss − prefix.loss on the same validation batches. */
  lossGap: number;
  /** Adapter parameters: prefix 2·L·H·m·d, NTK L·H·(r·d + r). */
  prefixParams: number;
  ntkParams: number;
}

export interface ReportOptions extends ConvertOptions {
  batches?: number;
  B?: number;
  /** Sequence length; default min(context, the task's longest). */
  T?: number;
  /** Seed of the validation batches (both models see the same ones). */
  seed?: number;
}

/** Converts and evaluates both models on the same validation batches (trainer's evaluate). */
export async function convertWithReport(gpu: Gpu, prefixModel: GptGpu, task: Task, o: ReportOptions = {}): Promise<{ conversion: Conversion; report: ConversionReport }> {
  const conversion = await convertPrefixToNtk(gpu, prefixModel, o);
  const cfg = prefixModel.config;
  const T = o.T ?? Math.min(cfg.contextLength, task.maxSeqLen);
  const B = o.B ?? 8;
  const batches = o.batches ?? 4;
  const seed = o.seed ?? 1;
  const ntkModel = await buildConvertedModel(gpu, prefixModel, conversion);
  const buf = new BatchBuffers(gpu, B, T);
  try {
    const prefix = await evaluate(gpu, prefixModel, task, buf, batches, seed);
    const ntk = await evaluate(gpu, ntkModel, task, buf, batches, seed);
    const { featureMap } = conversion.adapter;
    return {
      conversion,
      report: {
        featureMap,
        m: prefixModel.m,
        r: featureDimOf(featureMap, headDim(cfg)),
        prefix,
        ntk,
        lossGap: ntk.loss - prefix.loss,
        prefixParams: countParams(adapterParamSpecs(cfg, prefixModel.adapter)),
        ntkParams: countParams(adapterParamSpecs(cfg, conversion.adapter)),
      },
    };
  } finally {
    buf.release();
    ntkModel.destroy();
  }
}
