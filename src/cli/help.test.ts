// --help answers with help and runs nothing (every CLI command, and the benchmarks), and
// Dawn's "artificially reduced" limit warnings never reach a user's terminal.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENCH_USAGE, BenchArgError, parseBenchArgs } from '../bench/args';
import { writeSafetensors } from '../io/safetensors';
import { COMMANDS, main } from './main';
import { filterDawnNoise } from './quiet_dawn';

const root = resolve(__dirname, '../..');
const tsx = (args: string[]) => spawnSync(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
const NOISE_U = 'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.';
const NOISE_S = 'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.';

describe('--help', async () => {
  const names = await Promise.all(COMMANDS.map(async (load) => (await load()).command.name));

  it.each(names)('%s --help prints its help, exits 0 and touches no GPU', async (name) => {
    const out: string[] = [];
    const err: string[] = [];
    const gpu = async () => {
      throw new Error(`${name} --help asked for the GPU`);
    };
    // --help wins over missing required options and positionals.
    expect(await main([name, '--help'], { out: (s) => out.push(s), err: (s) => err.push(s), gpu })).toBe(0);
    expect(out.join('\n')).toMatch(new RegExp(`^Usage: .*\\b${name}\\b`));
    expect(err).toEqual([]);
    out.length = 0;
    expect(await main([name, '-h'], { out: (s) => out.push(s), gpu })).toBe(0);
    expect(out.join('\n')).toMatch(/^Usage: /);
  });

  it('the command list answers --help, -h, help and no arguments', async () => {
    for (const argv of [['--help'], ['-h'], ['help'], []]) {
      const out: string[] = [];
      expect(await main(argv, { out: (s) => out.push(s) })).toBe(0);
      for (const n of names) expect(out.join('\n')).toContain(n);
    }
  });

  it('bench: --help and -h are help; options parse; an unknown one is an error', () => {
    expect(parseBenchArgs(['--help']).help).toBe(true);
    expect(parseBenchArgs(['--quick', '-h']).help).toBe(true);
    expect(parseBenchArgs([])).toEqual({ help: false, quick: false, write: true });
    expect(parseBenchArgs(['--quick', '--only', 'matmul,train', '--no-write'])).toEqual({ help: false, quick: true, only: ['matmul', 'train'], write: false });
    expect(() => parseBenchArgs(['--only'])).toThrow(BenchArgError);
    expect(() => parseBenchArgs(['--qiuck'])).toThrow(/unknown option "--qiuck"/);
  });

  it('npm run bench -- --help prints the usage and exits 0 without running a benchmark', () => {
    const r = tsx(['src/bench/main.ts', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(BENCH_USAGE);
    expect(r.stdout + r.stderr).not.toMatch(/adapter:|==/);
    const bad = tsx(['src/bench/main.ts', '--bogus']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown option "--bogus"');
  });
});

describe("Dawn's limit warnings", () => {
  it('the filter drops exactly those lines, across chunk boundaries, and passes the rest at once', () => {
    const f = filterDawnNoise();
    let out = '';
    // The warnings split across chunks, between ordinary lines.
    const text = `before\n${NOISE_U}\n${NOISE_S}\nafter\n`;
    for (let i = 0; i < text.length; i += 7) out += f.push(text.slice(i, i + 7));
    out += f.end();
    expect(out).toBe('before\nafter\n');
    // A progress bar's redraw (no newline) comes through without waiting for one.
    expect(f.push('\r step 3/10')).toBe('\r step 3/10');
    expect(f.push('Warning: something else\n')).toBe('Warning: something else\n');
    // A different "Warning" that starts the same way is kept.
    expect(f.push('Warning: maxDynamicUniformBuffersPerPipelineLayout is odd\n')).toBe('Warning: maxDynamicUniformBuffersPerPipelineLayout is odd\n');
    expect(f.end()).toBe('');
  });

  it('a CLI run on the GPU prints its own output and no Dawn warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefix-lab-quiet-'));
    try {
      const file = join(dir, 'x.safetensors');
      writeFileSync(file, writeSafetensors({ x: { dtype: 'F32', shape: [3], data: Float32Array.from([1, -2, 0.5]) } }));
      const r = tsx(['src/cli/main.ts', 'kernel', 'gelu', '--in', file]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('ran on ');
      expect(r.stderr).not.toContain('artificially reduced');
      expect(r.stdout).toMatch(/^y \[3\]/m);
      // And the warnings are Dawn's to begin with: with the filter off they show (on the
      // driver that reports the huge limits: lavapipe; SwiftShader in Node prints none).
      const raw = spawnSync(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), 'src/cli/main.ts', 'kernel', 'gelu', '--in', file], { cwd: root, encoding: 'utf8', env: { ...process.env, PREFIX_LAB_DAWN_WARNINGS: '1' } });
      expect(raw.status).toBe(0);
      if (/lvp/.test(process.env.VK_ICD_FILENAMES ?? '')) expect(raw.stderr).toContain('artificially reduced');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
