// Test harness for CLI commands run through main(): one GPU and one scratch folder per test
// file, and a `cli(...argv)` that captures stdout, stderr and the exit code; `gpu()` is the
// device the commands run on, for a test that compares them with another path.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createNodeGpu } from '../gpu/node';
import type { Gpu } from '../gpu/runtime';
import { main } from './main';

export function cliHarness(prefix: string) {
  const h = { gpu: null as unknown as Gpu, dir: '' };
  beforeAll(async () => {
    h.gpu = await createNodeGpu();
    h.dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => {
    h.gpu?.destroy();
    if (h.dir) rmSync(h.dir, { recursive: true, force: true });
  });
  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s), gpu: async () => h.gpu });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  return { cli, path: (...parts: string[]) => join(h.dir, ...parts), gpu: () => h.gpu };
}
