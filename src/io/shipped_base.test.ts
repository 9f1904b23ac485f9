// The base model shipped in public/models/base: it loads, its weights are the ones its
// config.json fingerprinted, every built-in task encodes without unknown characters, and
// training.json records the settings that re-create it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createTask, SYNTHETIC_TASKS } from '../data';
import { nodeReader, PUBLIC_DIR } from '../data/node';
import { importBase } from './checkpoint';

const DIR = join(PUBLIC_DIR, 'models/base');

it('the shipped base model loads, matches its fingerprint and covers every built-in task', async () => {
  const files = new Map(readdirSync(DIR).map((f) => [f, new Uint8Array(readFileSync(join(DIR, f)))]));
  const base = await importBase(files);
  expect(base.recordedFingerprint).toBe(base.fingerprint);
  expect(base.format).toBe('prefix-lab');
  expect(base.tokenizer).toBe(base.vocab);
  expect(base.config).toMatchObject({ nLayer: 2, nHead: 4, nEmbd: 64, contextLength: 64 });
  for (const name of [...SYNTHETIC_TASKS, 'moby-dick', 'sotu']) {
    const task = await createTask(name, { readText: nodeReader(), tokenizer: base.tokenizer, seqLen: 64 });
    expect((task as { unknownFraction?: number }).unknownFraction ?? 0, name).toBe(0);
  }
  const record = JSON.parse(new TextDecoder().decode(files.get('training.json')!));
  expect(record.command).toBe('pretrain');
  expect(record.settings).toMatchObject({ layers: 2, heads: 4, width: 64, context: 64, seed: 1, task: 'moby-dick', vocab: 'builtin' });
  expect(record.result.finalValLoss).toBeLessThan(2.5);
});
