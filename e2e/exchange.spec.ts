import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, exportBase, importAdapter, importBase, unzipFiles, zipFiles } from '../src/io/checkpoint';
import { readSafetensors } from '../src/io/safetensors';

// Export, import and persistence in headless Chromium on SwiftShader WebGPU, starting from
// the shipped base model; one page does the whole journey, reloads included. Downloads are
// unpacked and checked here in Node with the project's own readers.
const SHOTS = 'test-results/screenshots';

async function shot(page: Page, name: string) {
  await page.waitForTimeout(500); // charts size themselves after layout changes
  await page.screenshot({ path: `${SHOTS}/exchange-${name}.png`, fullPage: true });
}

const rows = (page: Page) => page.getByRole('table', { name: 'Runs' }).locator('tbody tr');
const valLossOf = (page: Page, i: number) => rows(page).nth(i).locator('td').nth(6).textContent();
const importInput = (page: Page) => page.getByLabel('Import adapter or checkpoint');
const exchangeMessage = (page: Page) => page.getByTestId('exchange-message');

async function download(page: Page, button: string): Promise<{ name: string; bytes: Uint8Array }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button, exact: true }).click()]);
  return { name: dl.suggestedFilename(), bytes: new Uint8Array(readFileSync(await dl.path())) };
}

async function importFile(page: Page, name: string, bytes: Uint8Array) {
  await importInput(page).setInputFiles({ name, mimeType: 'application/zip', buffer: Buffer.from(bytes) });
}

test.describe.configure({ mode: 'serial' });

test('export an adapter and the base, re-import it, refuse bad files, keep runs across a reload, clear them', async ({ page }) => {
  test.setTimeout(300_000);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto('/');
  await expect(page.locator('p.adapter')).toContainText('WebGPU adapter', { timeout: 60_000 });
  // The whole journey on the Compare & export tab (the URL keeps it across the reloads).
  await page.getByRole('tab', { name: 'Compare & export' }).click();
  await expect(page).toHaveURL(/#compare$/);
  await expect(page.getByTestId('saved-summary')).toContainText('0 saved runs');

  // A tiny prefix run (m = 16, the default).
  await page.getByRole('button', { name: 'Tiny' }).click();
  await page.getByRole('button', { name: 'Train' }).click();
  await expect(page.getByTestId('run-state')).toHaveText('done', { timeout: 240_000 });
  await expect(rows(page)).toHaveCount(1);
  const trainedVal = await valLossOf(page, 0);
  expect(trainedVal).toMatch(/^\d+\.\d{3}$/);

  // Export adapter: a PEFT prefix-tuning folder in one zip, plus result.json.
  const adapter = await download(page, 'Export adapter');
  expect(adapter.name).toBe('prefix-lab-prefix-m16-run-1.zip');
  const files = unzipFiles(adapter.bytes);
  expect([...files.keys()].sort()).toEqual([ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, 'result.json']);
  const acfg = JSON.parse(new TextDecoder().decode(files.get(ADAPTER_CONFIG_FILE)));
  expect(acfg.peft_type).toBe('PREFIX_TUNING');
  expect(acfg.num_virtual_tokens).toBe(16);
  const bm = acfg.prefix_lab.base_model;
  const emb = readSafetensors(files.get(ADAPTER_WEIGHTS_FILE)!).tensors.prompt_embeddings;
  expect(emb.shape).toEqual([16, bm.n_layer * 2 * bm.n_embd]);
  expect(emb.dtype).toBe('F32');
  const result = JSON.parse(new TextDecoder().decode(files.get('result.json')));
  expect(result.config.prefixLength).toBe(16);
  expect(result.train).toHaveLength(6);
  expect(result.summary.finalValLoss.toFixed(3)).toBe(trainedVal);
  await expect(page.getByRole('list', { name: 'Saved files' })).toContainText(adapter.name);
  await shot(page, '01-exported');

  // Export base model: its fingerprint is the one the adapter recorded, and the adapter
  // loads onto it with every tensor of the right size.
  const baseZip = await download(page, 'Export base model');
  const base = await importBase(unzipFiles(baseZip.bytes));
  expect(base.fingerprint).toBe(bm.fingerprint);
  expect(baseZip.name).toBe(`prefix-lab-base-${base.fingerprint}.zip`);
  const parsed = importAdapter(files, { config: base.config, fingerprint: base.fingerprint });
  const d = base.config.nEmbd / base.config.nHead;
  for (let l = 0; l < base.config.nLayer; l++) expect(parsed.params.get(`h.${l}.prefix.key`)!.length).toBe(base.config.nHead * 16 * d);

  // Export results: every run with its settings and curve.
  const results = await download(page, 'Export results');
  expect(results.name).toMatch(/^prefix-lab-results-.*\.json$/);
  const doc = JSON.parse(new TextDecoder().decode(results.bytes));
  expect(doc.runs).toHaveLength(1);
  expect(doc.base.fingerprint).toBe(base.fingerprint);
  expect(doc.runs[0].evals.length).toBeGreaterThan(0);

  // Re-import: a new entry, scored on the same validation batches as the run that made it.
  await importFile(page, adapter.name, adapter.bytes);
  await expect(rows(page)).toHaveCount(2, { timeout: 120_000 });
  await expect(rows(page).nth(1)).toContainText('imported prefix m=16');
  expect(await valLossOf(page, 1)).toBe(trainedVal);
  await expect(exchangeMessage(page)).toContainText(`Imported ${adapter.name} as "imported prefix m=16"`);
  await shot(page, '02-reimported');

  // Damaged files: a clear message, nothing added.
  const flipped = adapter.bytes.slice();
  for (let i = 0; i < 8; i++) flipped[Math.floor(flipped.length / 2) + i] ^= 0xff;
  await importFile(page, 'flipped.zip', flipped);
  await expect(page.getByRole('alert').filter({ hasText: 'Could not import flipped.zip' })).toContainText(/CRC-32 mismatch|corrupt/);
  await shot(page, '03-corrupt');
  await importFile(page, 'cut.zip', adapter.bytes.subarray(0, Math.floor(adapter.bytes.length * 0.8)));
  await expect(page.getByRole('alert').filter({ hasText: 'Could not import cut.zip' })).toContainText('truncated');
  // Wrong size: the config says 15 prefix positions, the tensor has 16.
  const resized = new Map(files);
  resized.set(ADAPTER_CONFIG_FILE, new TextEncoder().encode(JSON.stringify({ ...acfg, num_virtual_tokens: 15 })));
  await importFile(page, 'resized.zip', zipFiles(resized));
  await expect(page.getByRole('alert').filter({ hasText: 'Could not import resized.zip' })).toContainText('expected shape [15,');
  await expect(rows(page)).toHaveCount(2);

  // A different base model (one weight changed) replaces the base after confirmation; the
  // runs list notes it, and the first adapter is then refused for its base fingerprint.
  const wte = base.params.get('wte')!.slice();
  wte[3] += 0.5;
  const other = zipFiles(await exportBase(base.config, base.vocab, new Map([...base.params, ['wte', wte]])));
  page.once('dialog', (dlg) => {
    expect(dlg.type()).toBe('confirm');
    expect(dlg.message()).toContain('Replace the base model with other-base.zip');
    void dlg.accept();
  });
  await importFile(page, 'other-base.zip', other);
  await expect(rows(page)).toHaveCount(3, { timeout: 60_000 });
  await expect(rows(page).nth(2)).toContainText(`base model replaced: other-base.zip (${base.fingerprint} →`);
  await importFile(page, adapter.name, adapter.bytes);
  await expect(page.getByRole('alert').filter({ hasText: `Could not import ${adapter.name}` })).toContainText(`adapter was trained on base model ${base.fingerprint}`);
  await expect(rows(page)).toHaveCount(3);
  await shot(page, '04-wrong-base');
  // Phone portrait with the longest texts on screen: nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  await page.setViewportSize({ width: 1280, height: 900 });

  // A reload shows the finished run and the imported entry again (the base-change note is
  // not a run), the kept zips, and the imported base: it was the user's choice, so it is
  // kept too, until "Use the default base model".
  await page.reload();
  const baseLine = page.locator('.base-line').first();
  await expect(baseLine).toContainText('imported from other-base.zip', { timeout: 120_000 });
  await expect(baseLine).toContainText('kept from an earlier visit');
  await expect(rows(page)).toHaveCount(2, { timeout: 60_000 });
  await expect(rows(page).nth(0)).toContainText('prefix m=16');
  await expect(rows(page).nth(1)).toContainText('imported prefix m=16');
  expect(await valLossOf(page, 0)).toBe(trainedVal);
  await expect(page.getByTestId('saved-summary')).toContainText('2 saved runs (2 from earlier visits), 2 files');
  await expect(page.getByRole('list', { name: 'Saved files' }).locator('li')).toHaveCount(2);
  // The trained weights are gone with the worker, but the kept zip is the same download.
  await expect(page.locator('p.adapter')).toContainText('WebGPU adapter', { timeout: 60_000 });
  const again = await download(page, 'Export adapter');
  expect(again.name).toBe(adapter.name);
  expect(Buffer.from(again.bytes).equals(Buffer.from(adapter.bytes))).toBe(true);
  await shot(page, '05-restored');
  await page.getByRole('button', { name: 'Use the default base model' }).click();
  await expect(baseLine).toContainText('loaded from models/base', { timeout: 120_000 });
  await expect(page.getByRole('button', { name: 'Use the default base model' })).toHaveCount(0);

  // Clear saved runs (after confirming): gone now and after another reload.
  page.once('dialog', (dlg) => void dlg.accept());
  await page.getByRole('button', { name: 'Clear saved runs' }).click();
  await expect(rows(page)).toHaveCount(0);
  await expect(exchangeMessage(page)).toContainText('Cleared 2 saved runs and 2 files');
  await page.reload();
  await expect(page.getByTestId('saved-summary')).toContainText('0 saved runs, 0 files');
  await expect(baseLine).toContainText('loaded from models/base', { timeout: 120_000 });
  await expect(rows(page)).toHaveCount(0);
  await shot(page, '06-cleared');
});

test('without IndexedDB (private mode) the page says runs are not kept and still works', async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(window, 'indexedDB', { get: () => undefined, configurable: true });
  });
  await page.goto('/#compare');
  await expect(page.locator('.notice').filter({ hasText: 'Runs cannot be saved in this browser' })).toBeVisible();
  await expect(page.getByTestId('saved-summary')).toContainText('Not saved');
  await expect(page.getByRole('button', { name: 'Export adapter', exact: true })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Clear saved runs' })).toBeDisabled();
  await shot(page, '07-no-indexeddb');
});
