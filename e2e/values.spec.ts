import { readFileSync } from 'node:fs';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import { parseCsv as parseStrictCsv } from '../src/ui/charts/parse_csv';
import { reveal } from './reveal';

// Values, not just elements: two tiny prefix runs (m = 3, then m = 2) on the shipped base;
// the loss falls; every chart's PNG, SVG, CSV and JSON export is downloaded and parsed, the CSV
// equal to the JSON and both equal to the runs the page exports in "Export results"; the
// adapter's config holds the prefix length chosen in the page. The second run's save meets a
// full storage: the page says so, and after a reload the first run is still there.

async function download(page: Page, button: Locator, status?: Locator): Promise<{ name: string; bytes: Buffer }> {
  await reveal(page, button);
  // Headless Chromium now and then (1 of ~20 downloads in a CI run) drops a download the page
  // started (the card said "Saved cost-vs-prefix.svg", no download event came): one more
  // click, then fail. Where the caller names the page's status, it is asserted first.
  for (let attempt = 1; ; attempt++) {
    try {
      const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), button.click()]);
      return { name: dl.suggestedFilename(), bytes: readFileSync(await dl.path()) };
    } catch (e) {
      if (attempt >= 2) throw e;
      if (status) await expect(status).toContainText('Saved');
    }
  }
}

/** The chart's CSV as records: every record ends with CRLF (RFC 4180). */
function parseCsv(text: string): string[][] {
  expect(text.endsWith('\r\n'), 'the CSV ends with CRLF').toBe(true);
  return parseStrictCsv(text);
}

/** PNG signature, then the IHDR chunk's width and height. */
function pngSize(b: Buffer): { width: number; height: number } {
  expect([...b.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(b.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

type Row = Record<string, string | number | null>;

/** All four exports of one chart card; CSV and JSON checked against each other. */
async function exportCard(page: Page, title: string, file: string): Promise<Row[]> {
  const card = await reveal(page, page.getByRole('region', { name: title, exact: true }));
  const button = (k: string) => card.getByRole('button', { name: `Export ${title} as ${k}`, exact: true });

  const png = await download(page, button('PNG'), card.getByRole('status'));
  expect(png.name).toBe(`${file}.png`);
  const size = pngSize(png.bytes);
  // Drawn at 2x: at least the size of a small chart on screen, and not absurdly large.
  expect(size.width).toBeGreaterThan(200);
  expect(size.height).toBeGreaterThan(100);
  expect(size.width * size.height).toBeLessThan(4096 * 4096);

  const svg = await download(page, button('SVG'), card.getByRole('status'));
  expect(svg.name).toBe(`${file}.svg`);
  const doc = await page.evaluate((text) => {
    const d = new DOMParser().parseFromString(text, 'image/svg+xml');
    const root = d.documentElement;
    return { error: d.getElementsByTagName('parsererror').length, root: root.localName, ns: root.namespaceURI, width: Number(root.getAttribute('width')), title: root.querySelector('title')?.textContent ?? null, shapes: root.querySelectorAll('path, rect, line, circle').length };
  }, svg.bytes.toString('utf8'));
  expect(doc).toMatchObject({ error: 0, root: 'svg', ns: 'http://www.w3.org/2000/svg', title });
  expect(doc.width).toBeGreaterThan(100);
  expect(doc.shapes).toBeGreaterThan(0);

  const json = await download(page, button('JSON'), card.getByRole('status'));
  expect(json.name).toBe(`${file}.json`);
  const rows = JSON.parse(json.bytes.toString('utf8')) as Row[];
  expect(Array.isArray(rows) && rows.length > 0).toBe(true);

  const csv = await download(page, button('CSV'), card.getByRole('status'));
  expect(csv.name).toBe(`${file}.csv`);
  const [header, ...cells] = parseCsv(csv.bytes.toString('utf8'));
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  expect(header).toEqual(columns);
  expect(cells).toEqual(rows.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? '' : String(r[c])))));
  return rows;
}

interface ResultRun {
  name: string;
  state: string;
  config: { prefixLength: number };
  trainableParams: number;
  peakBytes: number;
  train: { step: number; loss: number }[];
  evals: { step: number; val: number }[];
  summary: { finalValLoss: number; msPerStep: number | null };
  prefixMass: number[][];
}

/**
 * A full storage as IndexedDB reports it: the write's transaction aborts with a
 * QuotaExceededError. (Chromium's DevTools quota override does not reach Playwright's browser
 * contexts: measured, the quota stayed at 10 GB.) Only saved runs, only once the page sets
 * window.__storageFull; everything else is the browser's real IndexedDB.
 */
function fillStorageOnRequest() {
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
    const req = put.apply(this, args);
    if ((window as unknown as { __storageFull?: boolean }).__storageFull && this.name === 'runs') {
      const tx = this.transaction;
      Object.defineProperty(tx, 'error', { value: new DOMException('The quota has been exceeded.', 'QuotaExceededError') });
      tx.abort();
    }
    return req;
  };
}

test('two tiny prefix runs: the loss falls, every chart export equals the data, the chosen m is in the adapter, a full storage loses no earlier run', async ({ page }) => {
  test.setTimeout(420_000);
  await page.addInitScript(fillStorageOnRequest);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto('/');
  await expect(page.locator('p.adapter')).toContainText('WebGPU adapter', { timeout: 60_000 });

  // Run 1: the Tiny preset with a prefix length of 3 chosen in the page.
  await (await reveal(page, page.getByRole('button', { name: 'Tiny', exact: true }))).click();
  // Ten steps, validated after each on the same held-out batch: the curve is not batch noise.
  await page.getByLabel('Steps', { exact: true }).fill('10');
  await page.getByLabel('Validate every', { exact: true }).fill('1');
  await page.getByLabel('Validate every', { exact: true }).press('Enter');
  const m = page.getByRole('spinbutton', { name: 'Prefix length', exact: true });
  await m.fill('3');
  await m.press('Enter');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  const state = page.getByTestId('run-state');
  await expect(state).toHaveText('done', { timeout: 240_000 });
  const saved = page.getByTestId('saved-summary');
  await expect(await reveal(page, saved)).toContainText('1 saved run');

  // The storage fills up: from now on a run's save fails as a full browser storage fails it.
  await page.evaluate(() => ((window as unknown as { __storageFull: boolean }).__storageFull = true));

  // Run 2: a new prefix length starts it.
  await (await reveal(page, m)).fill('2');
  await m.press('Enter');
  const runRows = page.getByRole('table', { name: 'Runs' }).locator('tbody tr');
  await expect(runRows).toHaveCount(2);
  await expect(state).toHaveText('done', { timeout: 240_000 });
  const full = page.getByRole('alert').filter({ hasText: 'Could not save run m 3→2' });
  await expect(await reveal(page, full)).toContainText("storage for the page is full (quota exceeded)");
  await expect(full).toContainText('saved before is kept');
  await expect(saved).toContainText('1 saved run');

  // What the page itself exports about the runs: the reference for the charts' data.
  const results = JSON.parse((await download(page, page.getByRole('button', { name: 'Export results', exact: true }))).bytes.toString('utf8')) as { runs: ResultRun[] };
  const [r1, r2] = results.runs;
  expect([r1.name, r2.name]).toEqual(['prefix m=3', 'm 3→2']);
  expect([r1.state, r2.state]).toEqual(['done', 'done']);

  // The loss falls over the short run: validation loss after the last step against after the
  // first (the same held-out batch each time), both runs.
  for (const r of [r1, r2]) {
    expect(r.train.length).toBe(10);
    expect(r.evals.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    console.log(`${r.name}: validation loss ${r.evals[0].val.toFixed(4)} after step 1, ${r.evals.at(-1)!.val.toFixed(4)} after step 10`);
    expect(r.evals.at(-1)!.val).toBeLessThan(r.evals[0].val);
  }

  // Loss curves: one row per run and step, train and validation losses as recorded.
  const curves = await exportCard(page, 'Loss curves', 'loss-curves');
  for (const r of [r1, r2]) {
    const mine = curves.filter((row) => row.run === r.name);
    expect(mine.map((row) => row.step)).toEqual([...new Set([...r.train.map((t) => t.step), ...r.evals.map((e) => e.step)])].sort((a, b) => a - b));
    for (const t of r.train) expect(mine.find((row) => row.step === t.step)!.train).toBe(t.loss);
    for (const e of r.evals) expect(mine.find((row) => row.step === e.step)!.val).toBe(e.val);
  }
  expect(curves.length).toBe(20);

  // Loss against prefix length: one point per m with the run's final validation loss, as the
  // table beside the chart shows it.
  const sweep = await exportCard(page, 'Loss against prefix length', 'loss-vs-prefix');
  expect(sweep).toEqual([
    { series: 'prefix', m: 2, valLoss: r2.summary.finalValLoss, params: r2.trainableParams },
    { series: 'prefix', m: 3, valLoss: r1.summary.finalValLoss, params: r1.trainableParams },
  ]);
  const table = page.getByRole('table', { name: 'Final validation loss by prefix length' }).locator('tbody tr');
  await expect(table.nth(0)).toContainText(`2${r2.summary.finalValLoss.toFixed(3)}`);
  await expect(table.nth(1)).toContainText(`3${r1.summary.finalValLoss.toFixed(3)}`);

  // Cost: time per step and peak GPU memory of each finished run.
  const cost = await exportCard(page, 'Cost against prefix length', 'cost-vs-prefix');
  expect(cost).toEqual([
    { method: 'prefix', m: 3, msPerStep: r1.summary.msPerStep, peakBytes: r1.peakBytes },
    { method: 'prefix', m: 2, msPerStep: r2.summary.msPerStep, peakBytes: r2.peakBytes },
  ]);
  expect(r2.peakBytes).toBeGreaterThan(0);

  // Prefix mass: the newest run's per-head share, layer by head.
  const mass = await exportCard(page, 'Attention share of the prefix', 'prefix-mass');
  expect(mass).toEqual(r2.prefixMass.flatMap((row, l) => row.map((v, h) => ({ layer: l, head: h, mass: v }))));
  expect(mass.every((row) => typeof row.mass === 'number' && row.mass > 0 && row.mass < 1)).toBe(true);

  // The adapter of run 1 holds the prefix length chosen in the page.
  const pick = await reveal(page, page.getByLabel('Run to export'));
  await pick.selectOption({ label: `prefix m=3 (prefix m=3, done)` });
  const zip = await download(page, page.getByRole('button', { name: 'Export adapter', exact: true }));
  expect(zip.name).toMatch(/^prefix-lab-prefix-m3-run-\d+\.zip$/);
  const files = unzipSync(new Uint8Array(zip.bytes));
  const cfg = JSON.parse(new TextDecoder().decode(files['adapter_config.json']));
  expect(cfg).toMatchObject({ peft_type: 'PREFIX_TUNING', num_virtual_tokens: 3 });
  expect(cfg.prefix_lab.settings.prefix_length).toBe(3);
  expect(JSON.parse(new TextDecoder().decode(files['result.json'])).config.prefixLength).toBe(3);

  // The page reloaded (the storage has room again): the run saved before it filled is back.
  await page.reload();
  await expect(await reveal(page, page.getByTestId('saved-summary'))).toContainText('1 saved run', { timeout: 60_000 });
  await expect(runRows).toHaveCount(1);
  await expect(runRows.first()).toContainText('prefix m=3');
});
