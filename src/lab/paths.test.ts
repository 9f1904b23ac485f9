// One path for a run: the same settings through the CLI's `adapt` command (flags → main())
// and through the UI worker's run job (runs.ts with the exchange's export, as
// engine.worker.ts wires them, here in Node) give bit-identical losses, bits per byte and
// exported adapter bytes, on a micro base written to disk and opened by each side itself.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Vocab } from '../data';
import { nodeReader } from '../data/node';
import { exportBase } from '../io/checkpoint';
import { initParams } from '../model/init';
import { baseParamSpecs, type ModelConfig } from '../model/params';
import { kebab } from '../cli/args';
import { cliHarness } from '../cli/cli_harness';
import { writeCheckpoint } from '../cli/common';
import { parseConfig, type RunConfig } from '../train/config';
import { RunControl } from '../train/control';
import type { RunSummary } from '../train/events';
import { createExchange } from '../ui/exchange/worker';
import { workerBaseFromFolder } from '../ui/worker/base_picked';
import type { WorkerBase } from '../ui/worker/worker_base';
import type { FromWorker } from '../ui/worker/protocol';
import { createRuns } from '../ui/worker/runs';
import { openBasePath } from './node';
import { SYNTHETIC_SYMBOLS } from './task';

const { cli, path, gpu } = cliHarness('prefix-lab-paths-');

const baseDir = () => path('base');
beforeAll(async () => {
  // Random weights are enough: both paths adapt the same base, so they must agree exactly.
  const text = await nodeReader()('data/sotu.txt');
  const vocab = Vocab.fromTexts([text, SYNTHETIC_SYMBOLS]);
  const config: ModelConfig = { vocabSize: vocab.size, contextLength: 24, nLayer: 1, nHead: 2, nEmbd: 8 };
  await writeCheckpoint(baseDir(), await exportBase(config, vocab, initParams(baseParamSpecs(config), 11)));
});

/** The worker's run job and export, wired as engine.worker.ts wires them. */
async function throughWorker(config: RunConfig): Promise<{ summary: RunSummary; files: Map<string, Uint8Array>; events: FromWorker[] }> {
  const b: WorkerBase = workerBaseFromFolder(await openBasePath(baseDir()), { source: 'files', ms: 0 });
  const posted: FromWorker[] = [];
  let chain: Promise<void> = Promise.resolve();
  const deps = { post: (m: FromWorker) => void posted.push(m), ensureGpu: async () => gpu(), ensureBase: async () => b };
  const runs = createRuns({ ...deps, readText: nodeReader(), keepRun: (...a) => exchange.keepRun(...a) });
  const exchange = createExchange({
    ...deps, currentBase: () => Promise.resolve(b), buildTask: (c, base, t) => runs.buildTask(c, base, t),
    replaceBase: async () => undefined, enqueue: (job) => void (chain = chain.then(job)),
  });
  await runs.start('r1', config, undefined, new RunControl());
  const finished = posted.find((m) => m.type === 'run-finished');
  if (!finished) throw new Error(`the run did not finish: ${JSON.stringify(posted.filter((m) => m.type === 'run-failed'))}`);
  exchange.handle({ type: 'export-adapter', requestId: 1, runId: 'r1' });
  for (let i = 0; i < 100 && !posted.some((m) => m.type === 'exported' || m.type === 'exchange-failed'); i++) await new Promise((r) => setTimeout(r, 10));
  const exported = posted.find((m) => m.type === 'exported');
  if (!exported || exported.type !== 'exported') throw new Error(`export failed: ${JSON.stringify(posted.find((m) => m.type === 'exchange-failed'))}`);
  return { summary: finished.type === 'run-finished' ? finished.summary : (null as never), files: exported.files, events: posted };
}

/** The same settings as `adapt` flags. */
function flags(settings: Record<string, string | number>): string[] {
  return Object.entries(settings).flatMap(([k, v]) => [`--${kebab(k)}`, String(v)]);
}

const bits = (x: number) => new Uint32Array(new Float64Array([x]).buffer).join(',');

describe('the CLI and the UI worker take one path for a run', () => {
  const cases: [string, Record<string, string | number>][] = [
    // A corpus: the loss also in bits per byte.
    ['prefix on a corpus', { method: 'prefix', prefixLength: 3, task: 'sotu', steps: 3, batch: 2, seqLen: 16, evalEvery: 2, evalBatches: 2, seed: 5, lr: 0.01 }],
    // A synthetic task on the base's character vocabulary, LoRA.
    ['lora on a synthetic task', { method: 'lora', loraRank: 2, task: 'reverse', steps: 3, batch: 2, seqLen: 24, evalEvery: 3, evalBatches: 1, seed: 9, lr: 0.01 }],
  ];
  for (const [label, settings] of cases) {
    it(label, async () => {
      const out = path(`cli-${settings.method}`);
      const r = await cli('adapt', '--base', baseDir(), '--out', out, ...flags(settings));
      expect(r.code, r.err).toBe(0);
      const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));

      const { config, issues } = parseConfig(settings);
      expect(issues).toEqual([]);
      const w = await throughWorker(config);
      expect(w.summary.state).toBe('done');
      // Losses bit for bit (JSON keeps every bit of a double).
      expect(bits(result.result.finalTrainLoss)).toBe(bits(w.summary.finalTrainLoss));
      expect(bits(result.result.finalValLoss)).toBe(bits(w.summary.finalValLoss));
      expect(result.result.finalValBitsPerByte).toBe(w.summary.finalValBitsPerByte);
      if (settings.task === 'sotu') {
        expect(w.summary.finalValBitsPerByte).toBeGreaterThan(0);
        expect(r.out).toMatch(/bits\/byte/);
      } else expect(w.summary.finalValBitsPerByte).toBeNull();
      // The same adapter files, byte for byte.
      expect([...w.files.keys()].sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
      for (const [name, bytes] of w.files) expect(Buffer.from(readFileSync(join(out, name))).equals(Buffer.from(bytes)), name).toBe(true);
      // The worker's run started at the T the CLI trained at.
      const started = w.events.find((m) => m.type === 'run-started');
      expect(started && started.type === 'run-started' && started.seqLen).toBe(Math.min(Number(settings.seqLen), 24));
    }, 60_000);
  }
});
