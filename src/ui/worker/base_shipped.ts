// The shipped base model: public/models/base/ as a Hugging Face GPT-2 folder (config.json,
// model.safetensors, vocab.json; training.json says how it was made), fingerprint checked.
import { BASE_CONFIG_FILE, BASE_WEIGHTS_FILE, importBase, VOCAB_FILE } from '../../io/checkpoint';
import { baseParamSpecs, countParams } from '../../model/params';
import { type BaseLoadOptions, describeBase, type WorkerBase } from './worker_base';

/** Where the shipped base model lives, relative to public/. */
export const SHIPPED_DIR = 'models/base';

/** The shipped base, or null when there is none. Present but broken files are an error:
 *  silently pretraining instead would hide a broken deploy. */
export async function loadShippedBase(opts: BaseLoadOptions & Required<Pick<BaseLoadOptions, 'readBytes'>>): Promise<WorkerBase | null> {
  const t0 = performance.now();
  const read = opts.readBytes;
  const config = await read(`${SHIPPED_DIR}/${BASE_CONFIG_FILE}`);
  if (!config) return null;
  opts.onProgress?.('loading the base model', 0.2);
  const [weights, vocab, training] = await Promise.all([
    read(`${SHIPPED_DIR}/${BASE_WEIGHTS_FILE}`),
    read(`${SHIPPED_DIR}/${VOCAB_FILE}`),
    read(`${SHIPPED_DIR}/training.json`),
  ]);
  if (!weights || !vocab) throw new Error(`${SHIPPED_DIR}/${BASE_CONFIG_FILE} is there but ${!weights ? BASE_WEIGHTS_FILE : VOCAB_FILE} is missing`);
  const b = await importBase(new Map([[BASE_CONFIG_FILE, config], [BASE_WEIGHTS_FILE, weights], [VOCAB_FILE, vocab]]));
  if (b.recordedFingerprint && b.recordedFingerprint !== b.fingerprint) {
    throw new Error(`${SHIPPED_DIR}/${BASE_WEIGHTS_FILE} does not match the fingerprint its ${BASE_CONFIG_FILE} recorded (${b.fingerprint} vs ${b.recordedFingerprint})`);
  }
  // training.json is informative only (steps and final validation loss of the pretraining run).
  let steps: number | undefined;
  let finalLoss: number | undefined;
  if (training) {
    try {
      const t = JSON.parse(new TextDecoder().decode(training)) as { settings?: { steps?: unknown }; result?: { finalValLoss?: unknown } };
      if (typeof t.settings?.steps === 'number') steps = t.settings.steps;
      if (typeof t.result?.finalValLoss === 'number') finalLoss = t.result.finalValLoss;
    } catch {
      // not JSON: ignore, the weights themselves were checked above
    }
  }
  return describeBase({
    config: b.config, tokenizer: b.vocab, vocab: b.vocab, params: b.params, fingerprint: b.fingerprint,
    info: { source: 'files', modelConfig: b.config, params: countParams(baseParamSpecs(b.config)), vocabSize: b.vocab.size, steps, finalLoss, ms: performance.now() - t0 },
  }, 'the shipped base (models/base)');
}
