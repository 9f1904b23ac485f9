// The training commands end to end through main(), on a micro model: pretrain → adapt with
// every method → eval → convert → generate, files checked on disk; and the refusals a user
// meets (missing base, an adapter made for another base, bad flags) with their exit codes.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../io/safetensors';
import { cliHarness } from './cli_harness';

const { cli, path } = cliHarness('prefix-lab-train-cli-');

const TINY = ['--steps', '3', '--eval-every', '3', '--eval-batches', '1', '--batch', '2', '--seq-len', '20', '--task', 'reverse'];

describe('training commands', () => {
  it('pretrain → adapt (every method) → eval → convert → generate', async () => {
    const base = path('base');
    const pre = await cli('pretrain', '--out', base, '--layers', '1', '--heads', '2', '--width', '8', '--context', '24', '--vocab', 'task', ...TINY);
    expect(pre.code, pre.err).toBe(0);
    for (const f of ['config.json', 'model.safetensors', 'vocab.json', 'training.json']) expect(existsSync(join(base, f))).toBe(true);
    const cfg = JSON.parse(readFileSync(join(base, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ n_layer: 1, n_head: 2, n_embd: 8, n_positions: 24 });
    expect(JSON.parse(readFileSync(join(base, 'training.json'), 'utf8')).settings).toMatchObject({ steps: 3, task: 'reverse', seed: 1 });

    const methods: [string, string[]][] = [
      ['prefix', ['--prefix-length', '3']],
      ['prefix', ['--prefix-length', '20', '--prefix-init', 'from-text']], // windows of ≥ 17 tokens (reverse's shortest)
      ['ntk', ['--feature-map', 'elu1']],
      ['lora', ['--lora-rank', '2']],
      ['full', []],
    ];
    for (const [method, extra] of methods) {
      const out = path(extra.includes('from-text') ? 'prefix-from-text' : method);
      const r = await cli('adapt', '--base', base, '--out', out, '--method', method, ...extra, ...TINY);
      expect(r.code, r.err).toBe(0);
      const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
      expect(result.settings.method).toBe(method);
      expect(Number.isFinite(result.result.finalValLoss)).toBe(true);
      expect(result.trainableParams).toBeGreaterThan(0);
      // The untrained adapter's effect on the base: LoRA (B = 0) none at all, NTK negligible
      // (k̃ = 1e-3 makes the NTK term a 1e-3 share of each row), a random prefix a real one.
      if (method === 'lora') expect(result.initialEffect.maxAbs).toBe(0);
      if (method === 'ntk') expect(result.initialEffect.rel).toBeLessThan(1e-2);
      if (method === 'prefix') expect(result.initialEffect.rel).toBeGreaterThan(1e-4);
      if (method !== 'full') {
        const w = readSafetensors(new Uint8Array(readFileSync(join(out, 'adapter_model.safetensors'))));
        expect(Object.keys(w.tensors).length).toBeGreaterThan(0);
      }
    }
    // The prefix adapter loads back onto its base and evaluates.
    const ev = await cli('eval', '--base', base, '--adapter', path('prefix'), '--task', 'reverse', '--batches', '1', '--batch', '2', '--seq-len', '20', '--out', path('eval.json'));
    expect(ev.code, ev.err).toBe(0);
    const evj = JSON.parse(readFileSync(path('eval.json'), 'utf8'));
    expect(Number.isFinite(evj.loss)).toBe(true);
    expect(evj.prefixMass).toBeGreaterThan(0);

    const conv = await cli('convert', '--base', base, '--adapter', path('prefix'), '--out', path('ntk.zip'), '--task', 'reverse', '--batches', '1');
    expect(conv.code, conv.err).toBe(0);
    expect(conv.out).toMatch(/gap -?\d/);
    // The converted adapter is a regular NTK adapter for the same base.
    const ev2 = await cli('eval', '--base', base, '--adapter', path('ntk.zip'), '--task', 'reverse', '--batches', '1', '--batch', '2', '--seq-len', '20');
    expect(ev2.code, ev2.err).toBe(0);

    const gen = await cli('generate', '--base', base, '--adapter', path('lora'), '--prompt', 'abc', '--max-new', '5', '--temperature', '0');
    expect(gen.code, gen.err).toBe(0);
    expect(gen.out).toContain('--- base');
    expect(gen.out).toContain('--- lora');

    // An adapter made for another base is refused, naming both fingerprints.
    const other = path('other');
    expect((await cli('pretrain', '--out', other, '--layers', '1', '--heads', '2', '--width', '8', '--context', '24', '--vocab', 'task', ...TINY, '--seed', '2')).code).toBe(0);
    const wrong = await cli('eval', '--base', other, '--adapter', path('prefix'), '--task', 'reverse');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/trained on base model "base" \(fingerprint [0-9a-f]{16}\), but the loaded base model is "other" \(fingerprint [0-9a-f]{16}\)/);
    // convert takes only prefix adapters.
    const notPrefix = await cli('convert', '--base', base, '--adapter', path('lora'), '--out', path('x'));
    expect(notPrefix.code).toBe(2);
    expect(notPrefix.err).toMatch(/lora adapter; convert takes a prefix-tuning adapter/);
  }, 240_000);

  it('refuses bad input with clear messages and non-zero exits', async () => {
    const missing = await cli('eval', '--base', path('nope'));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/nope: no such file or folder/);
    const range = await cli('adapt', '--out', path('x'), '--prefix-length', '-3');
    expect(range.code).toBe(2);
    expect(range.err).toMatch(/prefix-length/);
    const choice = await cli('adapt', '--out', path('x'), '--method', 'magic');
    expect(choice.code).toBe(2);
    expect(choice.err).toMatch(/method/);
    const help = await cli('adapt', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/--prefix-length/);
    expect(help.out).toMatch(/--feature-map <elu1\|taylor2>/);
  });
});
