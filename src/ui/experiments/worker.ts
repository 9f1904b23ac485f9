// The engine worker's side of the experiments and of text generation. Each experiment is a
// job in the worker's run queue (one model on the device at a time): the approximation-error
// sweep (experiments/approx_error.ts) or the NTK regime (experiments/ntk_regime.ts) on the
// worker's base model. Points, progress and the end are posted as they happen; Stop aborts
// through an AbortSignal, and the points so far stand. Generation continues a prompt with
// the base model and with a finished run's trained weights (kept by the exchange module for
// export; engine.worker.ts passes its accessor in), token by token, from the same seeded
// random stream. engine.worker.ts passes in what it owns, so this file has no global state
// beyond its own jobs.
import type { ReadText } from '../../data';
import type { Gpu } from '../../gpu/runtime';
import { runApproxError } from '../../experiments/approx_error';
import { runNtkRegime } from '../../experiments/ntk_regime';
import { generate } from '../../model/generate';
import { assembleModel } from '../../train/adapt';
import type { AdapterSpec } from '../../model/params';
import { Rng } from '../../util/rng';
import type { WorkerBase } from '../worker/worker_base';
import type { ExperimentFromWorker, ExperimentStart, ExperimentToWorker, GenerateRequest } from './messages';

/** A finished run's trained tensors (only the trainable ones) and the base they adapt. */
export interface TrainedWeights {
  adapter: AdapterSpec;
  params: Map<string, Float32Array>;
  base: WorkerBase;
}

export interface ExperimentDeps {
  post: (m: ExperimentFromWorker) => void;
  ensureGpu: () => Promise<Gpu>;
  ensureBase: (g: Gpu) => Promise<WorkerBase>;
  /** Reads public/ files (a corpus task of the NTK regime). */
  readText?: ReadText;
  /** The trained weights of a finished run, or null when the worker no longer has them. */
  trainedRun: (runId: string) => TrainedWeights | null;
  /** Runs `job` after the run (or job) before it. `job` must not reject. */
  enqueue: (job: () => Promise<void>) => void;
}

/** Generation limits (the page clamps too; the worker does not trust it). */
export const MAX_NEW_TOKENS = 1000;
export const MAX_PROMPT_CHARS = 4000;

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Short name of an adapter, as the runs table writes methods. */
export function adapterLabel(a: AdapterSpec): string {
  switch (a.method) {
    case 'none':
      return 'base model';
    case 'full':
      return 'full fine-tuning';
    case 'prefix':
      return `prefix m=${a.prefixLength}`;
    case 'ntk':
      return `NTK-Attention ${a.featureMap}${a.rank ? ` rank ${a.rank}` : ''}`;
    case 'lora':
      return `LoRA r=${a.rank}`;
  }
}

/** Checks a generation request; throws an Error naming the bad field. */
export function checkGenerateRequest(m: GenerateRequest) {
  if (typeof m.prompt !== 'string' || m.prompt.length === 0) throw new Error('type a prompt first: the models continue it');
  if ([...m.prompt].length > MAX_PROMPT_CHARS) throw new Error(`the prompt is longer than ${MAX_PROMPT_CHARS} characters`);
  if (!Number.isInteger(m.maxNewTokens) || m.maxNewTokens < 1 || m.maxNewTokens > MAX_NEW_TOKENS) throw new Error(`tokens to generate must be an integer from 1 to ${MAX_NEW_TOKENS} (got ${m.maxNewTokens})`);
  if (!(Number.isFinite(m.temperature) && m.temperature >= 0 && m.temperature <= 100)) throw new Error(`temperature must be a number from 0 to 100 (got ${m.temperature})`);
  if (!Number.isInteger(m.topK) || m.topK < 0) throw new Error(`top-k must be an integer ≥ 0 (got ${m.topK})`);
  if (!Number.isInteger(m.seed) || m.seed < 0 || m.seed > 2 ** 32 - 1) throw new Error(`seed must be an integer from 0 to ${2 ** 32 - 1} (got ${m.seed})`);
}

export function createExperiments(d: ExperimentDeps) {
  /** Jobs queued or running, by id: Stop aborts through these. */
  const jobs = new Map<string, AbortController>();

  async function failureOf(g: Gpu | null, e: unknown): Promise<string> {
    // A lost device can surface as a failed read before device.lost resolves: say "lost".
    if (!g) return messageOf(e);
    const lost = g.lostError ?? (await Promise.race([g.lost, new Promise<null>((r) => setTimeout(() => r(null), 500))]));
    return lost ? lost.message : messageOf(e);
  }

  async function runJob(m: ExperimentStart, ctl: AbortController) {
    const { jobId } = m;
    const t0 = performance.now();
    let g: Gpu | null = null;
    try {
      if (ctl.signal.aborted) {
        d.post({ type: 'experiment-finished', jobId, aborted: true, elapsedMs: 0 });
        return;
      }
      g = await d.ensureGpu();
      if (m.kind === 'approx') {
        d.post({ type: 'experiment-started', jobId, note: 'synthetic attention inputs (no model involved)' });
        const res = await runApproxError(g, m.config, {
          signal: ctl.signal,
          onPoint: (point) => d.post({ type: 'experiment-point', jobId, kind: 'approx', point }),
          onProgress: (p) => d.post({ type: 'experiment-progress', jobId, done: p.done, total: p.total, label: p.label }),
        });
        d.post({ type: 'experiment-finished', jobId, aborted: res.aborted, elapsedMs: performance.now() - t0 });
      } else {
        const b = await d.ensureBase(g);
        const c = b.config;
        d.post({ type: 'experiment-started', jobId, note: `the playground's base model (${c.nLayer} layers, ${c.nHead} heads, width ${c.nEmbd}), frozen; only the prefix trains` });
        const res = await runNtkRegime(
          {
            gpu: g,
            signal: ctl.signal,
            readText: d.readText,
            onPoint: (point) => d.post({ type: 'experiment-point', jobId, kind: 'ntk-regime', point }),
            onProgress: (done, total, label) => d.post({ type: 'experiment-progress', jobId, done, total, label }),
          },
          m.config,
          { config: b.config, params: b.params, vocab: b.vocab ?? undefined, tokenizer: b.tokenizer },
        );
        d.post({ type: 'experiment-finished', jobId, aborted: res.aborted, elapsedMs: performance.now() - t0 });
      }
    } catch (e) {
      d.post({ type: 'experiment-failed', jobId, message: await failureOf(g, e) });
    } finally {
      jobs.delete(jobId);
    }
  }

  /** One model continues the prompt; tokens are posted as they come. */
  async function continueWith(g: Gpu, req: GenerateRequest, which: 'base' | 'adapted', base: WorkerBase, adapter: AdapterSpec, trained: Map<string, Float32Array> | null): Promise<string> {
    const prompt = base.tokenizer.encode(req.prompt);
    const model = assembleModel(g, base, adapter, trained ?? undefined);
    try {
      let text = '';
      await generate(g, model, prompt, {
        maxNewTokens: req.maxNewTokens,
        temperature: req.temperature,
        topK: req.topK,
        rng: new Rng(req.seed),
        onToken: (t) => {
          const s = base.tokenizer.decode([t]);
          text += s;
          d.post({ type: 'generate-token', requestId: req.requestId, which, text: s });
        },
      });
      return text;
    } finally {
      if (!g.lostError) model.destroy();
    }
  }

  async function generateJob(req: GenerateRequest) {
    let g: Gpu | null = null;
    try {
      checkGenerateRequest(req);
      g = await d.ensureGpu();
      const b = await d.ensureBase(g);
      const t = req.runId ? d.trainedRun(req.runId) : null;
      // Byte-level BPE writes any text; only a character vocabulary has unknown characters.
      const unknown = b.vocab ? [...b.vocab.encodeWithStats(req.prompt).unknownChars.keys()] : [];
      d.post({ type: 'generate-started', requestId: req.requestId, adapted: t ? adapterLabel(t.adapter) : null, unknown });
      // Base first, then the adapted model: the same seed, so only the weights differ.
      const baseText = await continueWith(g, req, 'base', b, { method: 'none' }, null);
      let adapted: string | null = null;
      let adaptedError: string | null = null;
      if (req.runId && !t) {
        adaptedError = 'the trained weights of this run are not in the engine (only runs finished in this visit are kept, up to 64 MB): train it again';
      } else if (t) {
        try {
          adapted = await continueWith(g, req, 'adapted', t.base, t.adapter, t.params);
        } catch (e) {
          if (g.lostError) throw e;
          adaptedError = messageOf(e);
        }
      }
      d.post({ type: 'generated', requestId: req.requestId, base: baseText, adapted, adaptedError });
    } catch (e) {
      d.post({ type: 'generate-failed', requestId: req.requestId, message: await failureOf(g, e) });
    }
  }

  function handle(m: ExperimentToWorker) {
    switch (m.type) {
      case 'experiment-start': {
        jobs.get(m.jobId)?.abort();
        const ctl = new AbortController();
        jobs.set(m.jobId, ctl);
        d.enqueue(() => runJob(m, ctl));
        break;
      }
      case 'experiment-stop':
        jobs.get(m.jobId)?.abort();
        break;
      case 'generate':
        d.enqueue(() => generateJob(m));
        break;
    }
  }

  return { handle };
}
