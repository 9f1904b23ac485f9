// Autoregressive sampling from a GPU GPT: feed the running sequence (its last
// contextLength tokens), read the last position's logits, pick the next token
// (greedy at temperature 0, else softmax(logits / temperature) over the top-k), repeat.
//
// By default with a KV cache (GptGpu.decodeStep): the prompt goes through the model once,
// then each new token alone, attending to the cached keys/values. Past contextLength the
// window slides: positions are learned (wpe), so every cached key changes when the window
// moves, and the exact continuation is a fresh pass over the last contextLength tokens,
// which also rebuilds the cache from the cropped window. So once a sequence is longer than
// the context, each token costs a full window pass, as without the cache, and the text is
// the same either way (no approximate shifting of stale keys).
//
// Without the cache (cache: false; the reference the tests and the benchmark compare with):
// one full forward per new token over a window of fixed length
// T = min(contextLength, prompt + maxNew − 1), padded at the end while the sequence is
// shorter; causal attention means the padding cannot reach the row we read, and a fixed T
// keeps the model's activation buffers from being reallocated every step.
import type { Gpu } from '../gpu/runtime';
import type { GreedyDecoder } from '../data';
import { Rng } from '../util/rng';
import type { GptGpu } from './gpt';

export interface GenerateOptions {
  /** Tokens to append (≥ 0). */
  maxNewTokens: number;
  /** 0 = greedy (argmax, first index on ties); > 0 divides the logits. Default 1. */
  temperature?: number;
  /** Sample among the k largest logits only; 0 or undefined = all. */
  topK?: number;
  /** Sampling randomness (seeded: same seed, same text). Default new Rng(0). */
  rng?: Rng;
  /** Stop after emitting this token (e.g. a synthetic task's end mark); it is included. */
  stopToken?: number;
  /** Called with each new token as it is chosen. */
  onToken?: (token: number, index: number) => void;
  /** Decode with the KV cache (default true); false: a full forward over the window per token. */
  cache?: boolean;
}

/** Index of the largest value, the first one on ties. NaN never wins. */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best] || Number.isNaN(x[best])) best = i;
  return best;
}

/**
 * The next token from one row of logits: argmax at temperature 0, otherwise a draw from
 * softmax(logits / temperature) restricted to the top-k logits (ties at the k-th value
 * broken by lower index, so exactly k candidates). float64 softmax with max subtraction.
 */
export function sampleFromLogits(logits: ArrayLike<number>, temperature: number, topK: number, rng: Rng): number {
  const V = logits.length;
  if (V === 0) throw new Error('sampleFromLogits: empty logits');
  for (let i = 0; i < V; i++) if (!Number.isFinite(logits[i])) throw new Error(`sampleFromLogits: logit ${i} is ${logits[i]} (the model produced non-finite values)`);
  if (temperature === 0) return argmax(logits);
  let ids = Array.from({ length: V }, (_, i) => i);
  if (topK > 0 && topK < V) ids = ids.sort((a, b) => logits[b] - logits[a] || a - b).slice(0, topK);
  let mx = -Infinity;
  for (const i of ids) mx = Math.max(mx, logits[i]);
  const w = ids.map((i) => Math.exp((logits[i] - mx) / temperature));
  let total = 0;
  for (const x of w) total += x;
  let u = rng.next() * total;
  for (let j = 0; j < ids.length; j++) {
    u -= w[j];
    if (u < 0) return ids[j];
  }
  return ids[ids.length - 1]; // u landed on total through rounding
}

function checkOptions(model: GptGpu, prompt: ArrayLike<number>, o: GenerateOptions) {
  const V = model.config.vocabSize;
  if (prompt.length === 0) throw new Error('generate: the prompt must hold at least one token');
  for (let i = 0; i < prompt.length; i++) {
    const t = prompt[i];
    if (!Number.isInteger(t) || t < 0 || t >= V) throw new Error(`generate: prompt token ${i} is ${t}, outside the vocabulary [0, ${V})`);
  }
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0) throw new Error(`generate: maxNewTokens must be an integer ≥ 0 (got ${o.maxNewTokens})`);
  const temp = o.temperature ?? 1;
  if (!(Number.isFinite(temp) && temp >= 0)) throw new Error(`generate: temperature must be a finite number ≥ 0 (got ${temp})`);
  const k = o.topK ?? 0;
  if (!Number.isInteger(k) || k < 0) throw new Error(`generate: topK must be an integer ≥ 0 (got ${k})`);
}

/** Returns the new tokens only (not the prompt). */
export async function generate(gpu: Gpu, model: GptGpu, prompt: ArrayLike<number>, o: GenerateOptions): Promise<number[]> {
  checkOptions(model, prompt, o);
  const temperature = o.temperature ?? 1;
  const topK = o.topK ?? 0;
  const rng = o.rng ?? new Rng(0);
  const V = model.config.vocabSize;
  const seq = Array.from(prompt);
  const out: number[] = [];
  if (o.maxNewTokens === 0) return out;
  const T = Math.min(model.config.contextLength, seq.length + o.maxNewTokens - 1);
  const step = (o.cache ?? true) ? cachedStepper(gpu, model, T) : windowStepper(gpu, model, T);
  try {
    for (let n = 0; n < o.maxNewTokens; n++) {
      step(seq); // the logits of the next token after seq
      const row = await gpu.read(model.logitsTensor(), V);
      const next = sampleFromLogits(row, temperature, topK, rng);
      seq.push(next);
      out.push(next);
      o.onToken?.(next, n);
      if (o.stopToken !== undefined && next === o.stopToken) break;
    }
  } finally {
    step.release();
  }
  return out;
}

/** Records the pass that leaves the logits of the token after `seq` in model.logitsTensor(). */
type Stepper = ((seq: number[]) => void) & { release(): void };

/** One full forward over the last T tokens (padded with 0 after the end while shorter). */
function windowStepper(gpu: Gpu, model: GptGpu, T: number): Stepper {
  const tokens = gpu.tensor([1, T], undefined, 'generate.tokens');
  const window = new Uint32Array(T);
  const step = (seq: number[]) => {
    const start = Math.max(0, seq.length - T);
    const len = seq.length - start;
    window.fill(0);
    for (let i = 0; i < len; i++) window[i] = seq[start + i];
    gpu.write(tokens, window);
    model.forward(tokens, null, 1, T, { logits: { start: len - 1, count: 1 } }); // the last real position only
  };
  return Object.assign(step, { release: () => gpu.release(tokens) });
}

/**
 * KV-cache decoding: the first call (and every call once seq is longer than the context)
 * runs the last min(seq, contextLength) tokens from position 0; the others only seq's
 * last token, at its position. The cache holds T = min(contextLength, prompt + maxNew − 1) positions.
 */
function cachedStepper(gpu: Gpu, model: GptGpu, T: number): Stepper {
  const ctx = model.config.contextLength;
  const one = gpu.tensor([1], undefined, 'generate.token');
  let started = false;
  const step = (seq: number[]) => {
    if (started && seq.length <= ctx) {
      gpu.write(one, Uint32Array.of(seq[seq.length - 1]));
      model.decodeStep(one, seq.length - 1, T);
      return;
    }
    started = true;
    const window = Uint32Array.from(seq.slice(-ctx));
    const tokens = gpu.tensor([window.length], window, 'generate.window');
    model.decodeStep(tokens, 0, T);
    gpu.release(tokens); // queue-ordered after the step that reads it
  };
  return Object.assign(step, { release: () => { gpu.release(one); model.releaseDecode(); } });
}

/** The trainer's greedy decoder for synthetic tasks (exact match after generation). */
export function greedyDecoder(gpu: Gpu, model: GptGpu, stopToken?: number): GreedyDecoder {
  return (promptTokens, maxNew) => generate(gpu, model, promptTokens, { maxNewTokens: maxNew, temperature: 0, stopToken });
}
