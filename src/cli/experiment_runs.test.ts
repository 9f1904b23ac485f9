// The training experiments through `experiment <name>`: flags from the schemas reach the
// experiment, its JSON lands on disk, and flags of another experiment are refused.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { cliHarness } from './cli_harness';

const { cli, path } = cliHarness('prefix-lab-exp-cli-');

const MICRO = ['--pretrain-steps', '0', '--n-layer', '1', '--n-embd', '8', '--n-head', '2', '--batch', '2', '--eval-batches', '1'];

it('loss-vs-m and cost-vs-m run from the command line and write their JSON', async () => {
  const file = path('lvm.json');
  const r = await cli('experiment', 'loss-vs-m', '--max-m', '2', '--methods', 'base,prefix', '--steps', '2', ...MICRO, '--out', file);
  expect(r.code, r.err).toBe(0);
  const j = JSON.parse(readFileSync(file, 'utf8'));
  expect(j.experiment).toBe('loss-vs-m');
  expect(j.config.maxM).toBe(2);
  expect(j.points.map((p: { method: string; m: number | null }) => `${p.method}${p.m ?? ''}`)).toEqual(['base', 'prefix1', 'prefix2']);
  expect(r.out).toMatch(/\| prefix \| 2 \|/);

  const c = await cli('experiment', 'cost-vs-m', '--ms', '0,8', ...MICRO, '--out', path('cost.json'));
  expect(c.code, c.err).toBe(0);
  const cj = JSON.parse(readFileSync(path('cost.json'), 'utf8'));
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
