import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { writeTinyGpt2 } from '../scripts/tiny_gpt2_lib';
import { ADAPTER_CONFIG_FILE, baseFingerprint, unzipFiles } from '../src/io/checkpoint';

// A Hugging Face GPT-2 folder opened in the tab, in headless Chromium on SwiftShader: a tiny
// random GPT-2 with the real 50257-token BPE (scripts/tiny_gpt2_lib.ts), given through the
// folder picker as a user would; refused folders leave the shipped base in place; a few
// training steps on text; the exported adapter names the model; the folder survives a
// reload (OPFS) until "Use the default base model".
const DIR = 'test-results/tiny-gpt2';
const NO_MERGES = 'test-results/tiny-gpt2-no-merges';
const PICKLE = 'test-results/tiny-gpt2-pickle';
const SHOTS = 'test-results/screenshots';
const LAYERS = 2;
let fingerprint = '';

test.beforeAll(async () => {
  for (const d of [DIR, NO_MERGES, PICKLE]) rmSync(d, { recursive: true, force: true });
  const t = await writeTinyGpt2(DIR, { layers: LAYERS, heads: 2, embd: 32, positions: 64, tokenizer: 'vocab-merges', name: 'tiny-gpt2', seed: 11 });
  fingerprint = await baseFingerprint(t.config, t.params);
  // Broken folders: the BPE without its merges, and only a PyTorch pickle for weights.
  mkdirSync(NO_MERGES, { recursive: true });
  for (const f of ['config.json', 'model.safetensors', 'vocab.json']) copyFileSync(join(DIR, f), join(NO_MERGES, f));
  mkdirSync(PICKLE, { recursive: true });
  for (const f of ['config.json', 'vocab.json', 'merges.txt']) copyFileSync(join(DIR, f), join(PICKLE, f));
  writeFileSync(join(PICKLE, 'pytorch_model.bin'), new Uint8Array([0x80, 0x02, 0x63]));
});

const baseLine = (page: Page) => page.locator('.base-line');
const openError = (page: Page) => page.getByTestId('open-base-error');
const filesInput = (page: Page) => page.getByLabel('GPT-2 files or one .zip');
const files = (dir: string, names: string[]) => names.map((n) => join(dir, n));

test('open a Hugging Face GPT-2 folder, refuse broken ones, train on text, export, keep it across a reload', async ({ page }) => {
  test.setTimeout(480_000);
  mkdirSync(SHOTS, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 1000 });
  await page.goto('/');
  await expect(page.locator('p.adapter')).toContainText('WebGPU adapter', { timeout: 60_000 });
  await expect(baseLine(page)).toContainText('loaded from models/base', { timeout: 120_000 });
  const shippedSummary = await page.getByTestId('base-summary').textContent();

  // Missing merges.txt: the loader's message, and the shipped base is still the base.
  await filesInput(page).setInputFiles(files(NO_MERGES, ['config.json', 'model.safetensors', 'vocab.json']));
  await expect(openError(page)).toContainText('merges.txt', { timeout: 60_000 });
  await expect(openError(page)).toContainText('The current base model is unchanged');
  await expect(baseLine(page)).toContainText('loaded from models/base');
  await expect(page.getByTestId('base-summary')).toHaveText(shippedSummary!);

  // Only pytorch_model.bin, dropped onto the panel: refused, saying how to get model.safetensors.
  const dropped = ['config.json', 'pytorch_model.bin', 'vocab.json', 'merges.txt'].map((n) => ({ name: n, bytes: [...readFileSync(join(PICKLE, n))] }));
  const dt = await page.evaluateHandle((list) => {
    const d = new DataTransfer();
    for (const f of list) d.items.add(new File([new Uint8Array(f.bytes)], f.name));
    return d;
  }, dropped);
  await page.getByRole('group', { name: 'Open a Hugging Face GPT-2 folder' }).dispatchEvent('drop', { dataTransfer: dt });
  await expect(openError(page)).toContainText('pytorch_model.bin', { timeout: 60_000 });
  await expect(openError(page)).toContainText('model.safetensors');
  await expect(baseLine(page)).toContainText('loaded from models/base');

  // The good folder, through the folder picker.
  await page.getByLabel('GPT-2 folder').setInputFiles(DIR);
  const summary = page.getByTestId('base-summary');
  await expect(page.getByTestId('summary-vocabulary')).toHaveText('50257', { timeout: 120_000 });
  await expect(page.getByTestId('summary-layers')).toHaveText(String(LAYERS));
  await expect(summary).toContainText('width32');
  await expect(page.getByText('Tokenizer: byte-level BPE')).toBeVisible();
  await expect(baseLine(page)).toContainText('tiny-gpt2, a Hugging Face GPT-2 opened from tiny-gpt2');
  await expect(baseLine(page)).toContainText(fingerprint);
  await expect(page.getByTestId('summary-run-bytes')).toHaveText(/\d+(\.\d+)? (kB|MB)/);
  await expect(page.getByRole('alert').filter({ hasText: 'Kept for this visit only' })).toHaveCount(0);
  await page.screenshot({ path: `${SHOTS}/hf-base-summary.png`, fullPage: true });

  // A few steps on the State of the Union text, tokenised with GPT-2's BPE.
  await page.getByRole('button', { name: 'Tiny', exact: true }).click();
  await expect(page.getByLabel('Batch size')).toHaveValue('2');
  await expect(page.getByLabel('Sequence length', { exact: true })).toHaveValue('16');
  await expect(page.getByTestId('run-outlook')).toContainText('estimate');
  await page.getByRole('button', { name: 'Train' }).click();
  await expect(page.getByTestId('run-state')).toHaveText('done', { timeout: 300_000 });
  const stat = (name: string) => page.locator('.stats div').filter({ has: page.locator('dt', { hasText: new RegExp(`^${name}$`) }) }).locator('dd');
  const trainLoss = Number(await stat('train loss').textContent());
  const valLoss = Number(await stat('val loss').textContent());
  // Per-token losses of a random GPT-2 over 50257 tokens sit near ln(50257) ≈ 10.8: finite,
  // and far above what the 80-character shipped model reports (about 2-4).
  for (const x of [trainLoss, valLoss]) {
    expect(Number.isFinite(x)).toBe(true);
    expect(x).toBeGreaterThan(6);
    expect(x).toBeLessThan(12);
  }
  await page.screenshot({ path: `${SHOTS}/hf-base-trained.png`, fullPage: true });

  // The exported adapter names the Hugging Face model and its fingerprint.
  await page.getByRole('tab', { name: 'Compare & export' }).click();
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export adapter', exact: true }).click()]);
  const zip = unzipFiles(new Uint8Array(readFileSync(await dl.path())));
  const acfg = JSON.parse(new TextDecoder().decode(zip.get(ADAPTER_CONFIG_FILE)));
  expect(acfg.peft_type).toBe('PREFIX_TUNING');
  expect(acfg.base_model_name_or_path).toBe('tiny-gpt2');
  expect(acfg.prefix_lab.base_model.fingerprint).toBe(fingerprint);
  expect(acfg.prefix_lab.base_model.vocab_size).toBe(50257);

  // Kept across a reload (the files in OPFS), until the default base is chosen again.
  await page.reload();
  await expect(baseLine(page)).toContainText('kept from an earlier visit', { timeout: 120_000 });
  await expect(baseLine(page)).toContainText(fingerprint);
  await expect(page.getByTestId('summary-vocabulary')).toHaveText('50257');
  await page.getByRole('button', { name: 'Use the default base model' }).click();
  await expect(baseLine(page)).toContainText('loaded from models/base', { timeout: 60_000 });
  await page.reload();
  await expect(baseLine(page)).toContainText('loaded from models/base', { timeout: 120_000 });
  await expect(page.getByTestId('summary-vocabulary')).not.toHaveText('50257');
});
