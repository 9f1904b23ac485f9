// loadBaseModel, both ways: the shipped checkpoint in public/models/base (fingerprint
// checked, tampering refused) and, without it, the short in-worker pretraining run.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeReader, PUBLIC_DIR } from '../data/node';
import { createNodeGpu } from '../gpu/node';
import type { Gpu } from '../gpu/runtime';
import { baseParamSpecs } from '../model/params';
import { symbolsFor } from '../lab/task';
import { loadBaseModel } from './worker/base';
import { pretrainRun } from './worker/base_pretrained';
import { SHIPPED_DIR } from './worker/base_shipped';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await createNodeGpu();
});
afterAll(() => gpu?.destroy());

const readFrom = (over: Record<string, Uint8Array | null> = {}) => async (path: string) => {
  if (path in over) return over[path];
  const f = join(PUBLIC_DIR, path);
  return existsSync(f) ? new Uint8Array(readFileSync(f)) : null;
};

describe('loadBaseModel', () => {
  const shipped = existsSync(join(PUBLIC_DIR, SHIPPED_DIR, 'config.json'));

  it.runIf(shipped)('loads the shipped checkpoint with the fingerprint its config.json recorded', async () => {
    const b = await loadBaseModel(gpu, { readText: nodeReader(), readBytes: readFrom() });
    const recorded = JSON.parse(readFileSync(join(PUBLIC_DIR, SHIPPED_DIR, 'config.json'), 'utf8')).prefix_lab.fingerprint;
    expect(b.info.source).toBe('files');
    expect(b.info.fingerprint).toBe(recorded);
    expect([...b.params.keys()].sort()).toEqual(baseParamSpecs(b.config).map((s) => s.name).sort());
    expect(b.info.finalLoss).toBeGreaterThan(0);
    expect(symbolsFor(b.vocab!)).not.toBeNull(); // synthetic tasks can run on it
  });

  it.runIf(shipped)('refuses shipped weights that differ from the recorded fingerprint, and a missing weights file', async () => {
    const path = `${SHIPPED_DIR}/model.safetensors`;
    const bytes = new Uint8Array(readFileSync(join(PUBLIC_DIR, path)));
    bytes[bytes.length - 1] ^= 0x40; // flips a bit of the last float
    await expect(loadBaseModel(gpu, { readText: nodeReader(), readBytes: readFrom({ [path]: bytes }) })).rejects.toThrow(/does not match the fingerprint/);
    await expect(loadBaseModel(gpu, { readText: nodeReader(), readBytes: readFrom({ [path]: null }) })).rejects.toThrow(/model\.safetensors is missing/);
  });

  it('pretrains on Moby Dick when nothing is shipped, and the loss falls well below ln(V)', async () => {
    const progress: number[] = [];
    const b = await loadBaseModel(gpu, {
      readText: nodeReader(),
      readBytes: readFrom({ [`${SHIPPED_DIR}/config.json`]: null }),
      onProgress: (_, f) => progress.push(f),
    });
    expect(b.info.source).toBe('pretrained');
    expect(b.info.steps).toBe(pretrainRun(gpu.report.isFallbackAdapter).steps);
    expect(b.info.finalLoss!).toBeLessThan(Math.log(b.vocab!.size) - 0.5);
    expect([...b.params.keys()].sort()).toEqual(baseParamSpecs(b.config).map((s) => s.name).sort());
    expect(progress[progress.length - 1]).toBe(1);
    expect(symbolsFor(b.vocab!)).toEqual({ sep: '>', plus: '+', equals: '=', end: '.' });
  });
});
