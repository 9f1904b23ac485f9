// The experiment command end to end: a tiny approx sweep on the GPU writing JSON, the
// printed table, and usage errors that name the option (exit status 2).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeGpu } from '../gpu/node';
import type { Gpu } from '../gpu/runtime';
import type { ApproxResult } from '../experiments/approx_error';
import { freshSeed } from '../util/rng';
import { parseArgs, type CliContext } from './args';
import { command } from './experiment';
import { main } from './main';

let gpu: Gpu;
let dir: string;
const seed = freshSeed();
beforeAll(async () => {
  gpu = await createNodeGpu();
  dir = mkdtempSync(join(tmpdir(), 'prefix-lab-experiment-cli-'));
});
afterAll(() => {
  gpu?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const out: string[] = [];
const err: string[] = [];
const ctx = (): CliContext => ({ out: (s) => out.push(s), err: (s) => err.push(s), gpu: async () => gpu });
const TINY = ['--d', '4', '--L', '5', '--heads', '2', '--eval-seqs', '1', '--train-seqs', '1', '--seeds', '2', '--seed', String(seed)];

describe(`experiment command (seed ${seed})`, () => {
  it('approx: a tiny sweep writes the JSON result and prints the tables', async () => {
    const file = join(dir, 'sub', 'approx.json');
    out.length = 0;
    err.length = 0;
    const argv = ['approx', ...TINY, '--max-m', '8', '--train-max-m', '2', '--steps', '3', '--maps', 'taylor2,elu1', '--methods', 'closed,robust', '--out', file];
    const code = await command.run(parseArgs(command, argv), ctx());
    expect(code).toBe(0);
    const r = JSON.parse(readFileSync(file, 'utf8')) as ApproxResult;
    expect(r.experiment).toBe('approx-error');
    expect(r.config).toMatchObject({ d: 4, L: 5, maxM: 8, trainMaxM: 2, steps: 3, seeds: 2, maps: ['taylor2', 'elu1'], methods: ['closed', 'robust'] });
    // closed: m = 1, 2, 4, 8; robust: m = 1, 2; two maps, two seeds.
    expect(r.points.length).toBe((4 + 2) * 2 * 2);
    for (const p of r.points) {
      expect(p.rel).toBeGreaterThan(0);
      expect(p.beta).toBeGreaterThan(0);
    }
    expect(r.fits.map((f) => `${f.method}/${f.map}`).sort()).toEqual(['closed/elu1', 'closed/taylor2', 'robust/elu1', 'robust/taylor2']);
    expect(r.summary.find((s) => s.method === 'closed' && s.map === 'taylor2' && s.m === 8)!.rel.n).toBe(2);
    // The table: a header with every column, one row per m.
    const header = out.findIndex((l) => l.includes('closed/taylor2') && l.includes('robust/elu1'));
    expect(header).toBeGreaterThan(0);
    expect(out[header + 4]).toMatch(/^\s+8\s+\d/);
    expect(out.some((l) => /fitted slope/.test(l))).toBe(true);
    // The training-MSE table: trained columns only, rows for the trained m only.
    const t = out.findIndex((l) => l.startsWith('trained methods: final / initial training MSE'));
    expect(t).toBeGreaterThan(header);
    expect(out[t + 1]).toContain('robust/elu1');
    expect(out[t + 1]).not.toContain('closed/');
    expect(out[t + 2]).toMatch(/^\s+1\s+\S+\s+\d\.\d+±/);
    expect(out[t + 3]).toMatch(/^\s+2\s/);
    expect(out[t + 4] ?? '').not.toMatch(/^\s+4\s/);
    expect(err.some((l) => l.includes(`wrote ${r.points.length} points to ${file}`))).toBe(true);
  });

  it('bad arguments exit with status 2 and a message naming the option', async () => {
    const run = async (...argv: string[]) => {
      const lines: string[] = [];
      const code = await main(['experiment', ...argv], { out: (s) => lines.push(s), err: (s) => lines.push(s), gpu: async () => gpu });
      return { code, text: lines.join('\n') };
    };
    let r = await run('approx', '--maps', 'elu1,cosine');
    expect(r.code).toBe(2);
    expect(r.text).toContain("--maps: unknown 'cosine'");
    r = await run('approx', '--max-m', '0');
    expect(r.code).toBe(2);
    expect(r.text).toContain('--max-m');
    r = await run('approx', '--methods', 'closed,closed');
    expect(r.code).toBe(2);
    expect(r.text).toContain('--methods: an entry is listed twice');
    r = await run('approx', '--d', '64', '--heads', '16', '--maps', 'taylor2');
    expect(r.code).toBe(2);
    expect(r.text).toContain('heads × features');
    r = await run('fit');
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/approx/);
    r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.text).toContain('--max-m');
  });
});
