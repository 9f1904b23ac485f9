// The training experiments through `experiment <name>`: flags from the schemas reach the
// experiment, its JSON lands on disk, and flags of another experiment are refused.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createNodeGpu } from '../gpu/node';
import type { Gpu } from '../gpu/runtime';
import { main } from './main';

let gpu: Gpu;
let dir: string;
beforeAll(async () => {
  gpu = await createNodeGpu();
  dir = mkdtempSync(join(tmpdir(), 'prefix-lab-exp-cli-'));
});
afterAll(() => {
  gpu?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s), gpu: async () => gpu });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const MICRO = ['--pretrain-steps', '0', '--n-layer', '1', '--n-embd', '8', '--n-head', '2', '--batch', '2', '--eval-batches', '1'];

it('loss-vs-m and cost-vs-m run from the command line and write their JSON', async () => {
  const file = join(dir, 'lvm.json');
  const r = await cli('experiment', 'loss-vs-m', '--max-m', '2', '--methods', 'base,prefix', '--steps', '2', ...MICRO, '--out', file);
  expect(r.code, r.err).toBe(0);
  const j = JSON.parse(readFileSync(file, 'utf8'));
  expect(j.experiment).toBe('loss-vs-m');
  expect(j.config.maxM).toBe(2);
  expect(j.points.map((p: { method: string; m: number | null }) => `${p.method}${p.m ?? ''}`)).toEqual(['base', 'prefix1', 'prefix2']);
  expect(r.out).toMatch(/\| prefix \| 2 \|/);

  const c = await cli('experiment', 'cost-vs-m', '--ms', '0,8', ...MICRO, '--out', join(dir, 'cost.json'));
  expect(c.code, c.err).toBe(0);
  const cj = JSON.parse(readFileSync(join(dir, 'cost.json'), 'utf8'));
  expect(cj.points.some((p: { method: string; m: number }) => p.method === 'prefix' && p.m === 8)).toBe(true);
}, 120_000);

it('refuses flags that belong to another experiment, and bad values, naming them', async () => {
  const wrong = await cli('experiment', 'loss-vs-m', '--bound', '2');
  expect(wrong.code).toBe(2);
  expect(wrong.err).toMatch(/--bound is not a setting of loss-vs-m/);
  const wrong2 = await cli('experiment', 'approx', '--max-m-x', '2');
  expect(wrong2.code).toBe(2);
  const bad = await cli('experiment', 'loss-vs-m', '--methods', 'base,magic');
  expect(bad.code).toBe(2);
  expect(bad.err).toMatch(/methods/);
});
