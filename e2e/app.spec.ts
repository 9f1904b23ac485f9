import { expect, test, type Page } from '@playwright/test';

// The playground in headless Chromium on SwiftShader WebGPU (CPU): tiny runs only. The main
// journey shares one page so the base model is prepared once (about a minute here).
const SHOTS = 'test-results/screenshots';

async function shot(page: Page, name: string) {
  // Charts size themselves after layout changes (ResizeObserver): let them settle first.
  await page.waitForTimeout(800);
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

function runsTable(page: Page) {
  return page.getByRole('table', { name: 'Runs' });
}

/** Waits until the run panel says the newest run finished (done, stopped, failed, …). */
async function waitForRunEnd(page: Page, timeout = 240_000) {
  await expect(page.getByTestId('run-state')).toHaveText(/^(done|stopped|diverged|failed)$/, { timeout });
}


test('main journey: adapter shown, prefix run fills the chart, a new m adds a point, pause/step/resume/stop, lost device', async ({ page }) => {
  test.setTimeout(480_000);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Prefix Lab' })).toBeVisible();
  await expect(page.getByText('Towards Infinite-Long Prefix in Transformer')).toBeVisible();
  const adapter = page.locator('p.adapter');
  await expect(adapter).toContainText('WebGPU adapter', { timeout: 60_000 });
  await expect(adapter).toContainText('swiftshader');
  await expect(adapter).toContainText('software fallback');
  await shot(page, '01-loaded');

  // Tiny preset, prefix tuning (the default method), Train.
  await expect(page.getByLabel('Method')).toHaveValue('prefix');
  await page.getByRole('button', { name: 'Tiny' }).click();
  await expect(page.getByLabel('Steps', { exact: true })).toHaveValue('6');
  await page.getByRole('button', { name: 'Train' }).click();
  await expect(page.locator('.base-line')).toContainText('Base model:', { timeout: 300_000 });
  await waitForRunEnd(page);
  await expect(page.getByTestId('run-state')).toHaveText('done');
  await expect(page.getByTestId('progress-text')).toContainText('step 6 / 6');
  const lossCard = page.getByRole('region', { name: 'Loss curves' });
  await expect(lossCard.locator('.recharts-line-curve').first()).toBeVisible();
  await expect(runsTable(page).locator('tbody tr')).toHaveCount(1);
  await expect(runsTable(page).locator('tbody tr').first()).toContainText('prefix m=16');
  await shot(page, '02-first-run');

  // A new prefix length starts a new run, overlaid and named by the change; the loss-vs-m
  // data gains a point.
  const m = page.getByRole('spinbutton', { name: 'Prefix length', exact: true });
  await m.fill('4');
  await m.press('Enter');
  await expect(runsTable(page).locator('tbody tr')).toHaveCount(2);
  await expect(runsTable(page).locator('tbody tr').nth(1)).toContainText('m 16→4');
  await waitForRunEnd(page);
  const sweep = page.getByRole('table', { name: 'Final validation loss by prefix length' });
  await expect(sweep.locator('tbody tr')).toHaveCount(2);
  await expect(sweep.locator('tbody tr').first()).toContainText('4');
  expect(new URL(page.url()).searchParams.get('prefixLength')).toBe('4');
  // The slider (keyboard) moves on the log scale: one step right of 4 is 8.
  const slider = page.getByRole('slider', { name: 'Prefix length (log scale)' });
  await slider.focus();
  await page.keyboard.press('ArrowRight');
  await expect(m).toHaveValue('8');
  await expect(runsTable(page).locator('tbody tr')).toHaveCount(3);
  await waitForRunEnd(page);
  await expect(sweep.locator('tbody tr')).toHaveCount(3);
  await expect(page.getByRole('region', { name: 'Cost against prefix length' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Attention share of the prefix' }).getByRole('img').first()).toHaveAttribute('aria-label', /\d+ layers × \d+ heads: mean/);
  await shot(page, '03-prefix-sweep');

  // Pause, step once, resume, stop, on a longer run.
  await page.getByLabel('Steps', { exact: true }).fill('400');
  await page.getByLabel('Steps', { exact: true }).press('Enter');
  await page.getByRole('button', { name: 'Train' }).click();
  await expect(page.getByTestId('run-state')).toHaveText('training', { timeout: 120_000 });
  // Hiding the tab pauses the run; showing it again resumes.
  const setHidden = (hidden: boolean) =>
    page.evaluate((h) => {
      Object.defineProperty(document, 'hidden', { value: h, configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
  await setHidden(true);
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  await expect(page.locator('.run-name')).toContainText('the tab was hidden');
  await setHidden(false);
  await expect(page.getByTestId('run-state')).toHaveText('training');
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  await page.waitForTimeout(3000); // a step in flight when Pause was pressed lands now
  const stepOf = async () => Number((await page.getByTestId('progress-text').textContent())!.match(/step (\d+)/)![1]);
  const before = await stepOf();
  await page.getByRole('button', { name: 'Step' }).click();
  await expect.poll(stepOf, { timeout: 60_000 }).toBe(before + 1);
  await page.waitForTimeout(1000);
  expect(await stepOf()).toBe(before + 1); // exactly one
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect.poll(stepOf, { timeout: 60_000 }).toBeGreaterThan(before + 2);
  await expect(page.getByTestId('progress-text')).toContainText('left');
  await shot(page, '04-running');
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('run-state')).toHaveText('stopped', { timeout: 60_000 });
  // The unfinished run does not replace the finished sweep.
  await expect(sweep.locator('tbody tr')).toHaveCount(3);

  // A lost device stops the run with a message and keeps what was recorded.
  await page.getByRole('button', { name: 'Train' }).click();
  await expect.poll(stepOf, { timeout: 120_000 }).toBeGreaterThan(2);
  await page.evaluate(() => (window as unknown as { __prefixLab: { loseDevice(): void } }).__prefixLab.loseDevice());
  await expect(page.getByRole('alert').filter({ hasText: 'device was lost' }).first()).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('run-state')).toHaveText('failed');
  expect(await stepOf()).toBeGreaterThan(2);
  await expect(runsTable(page).locator('tbody tr')).toHaveCount(5);
  await shot(page, '05-device-lost');

  // Train again: a fresh device, the base model re-uploaded from the worker's memory.
  await page.getByLabel('Steps', { exact: true }).fill('3');
  await page.getByLabel('Steps', { exact: true }).press('Enter');
  await page.getByRole('button', { name: 'Train' }).click();
  await expect(page.getByTestId('run-state')).toHaveText('done', { timeout: 240_000 });
  await expect(runsTable(page).locator('tbody tr')).toHaveCount(6);

  // A run whose loss stops being finite stops, says so, and marks the chart where (the hook
  // fills the running model's token embedding with NaN, as a blow-up would).
  await page.getByLabel('Steps', { exact: true }).fill('40');
  await page.getByLabel('Steps', { exact: true }).press('Enter');
  await page.getByRole('button', { name: 'Train' }).click();
  await expect.poll(stepOf, { timeout: 120_000 }).toBeGreaterThan(1);
  await page.evaluate(() => (window as unknown as { __prefixLab: { poisonRun(): void } }).__prefixLab.poisonRun());
  await expect(page.getByTestId('run-state')).toHaveText('diverged', { timeout: 60_000 });
  await expect(page.getByRole('alert').filter({ hasText: 'Stopped: training diverged at step' })).toBeVisible();
  await expect(lossCard.getByText(/^diverged at step \d+/)).toBeVisible();
  await expect(runsTable(page).locator('tbody tr')).toHaveCount(7);
  await shot(page, '05b-diverged');

  // A reload keeps the settings (they are in the URL).
  await page.reload();
  await expect(page.locator('.base-line')).toContainText('loaded from models/base', { timeout: 60_000 });
  await expect(page.getByRole('spinbutton', { name: 'Prefix length', exact: true })).toHaveValue('8');
  await expect(page.getByLabel('Steps', { exact: true })).toHaveValue('40');
});

test('without a shipped base model the worker pretrains one, and a reload reuses it', async ({ page }) => {
  test.setTimeout(300_000);
  // The worker's fetches go through the page's routes: hide the shipped checkpoint.
  await page.route('**/models/base/**', (r) => r.fulfill({ status: 404, body: 'not found' }));
  await page.goto('/');
  await expect(page.locator('.base-line')).toContainText('pretrained here on Moby Dick', { timeout: 240_000 });
  await shot(page, '10-pretrained-base');
  await page.reload();
  await expect(page.locator('.base-line')).toContainText('kept from an earlier visit', { timeout: 60_000 });
});

test('a shared link applies its settings and reports the ones it had to change', async ({ page }) => {
  await page.goto('/?method=lora&loraRank=4&steps=7&lr=0.02&task=add&seed=42&prefixLength=999999&bogus=1');
  await expect(page.getByLabel('Method')).toHaveValue('lora');
  await expect(page.getByLabel('LoRA rank')).toHaveValue('4');
  await expect(page.getByLabel('Steps', { exact: true })).toHaveValue('7');
  await expect(page.getByLabel('Learning rate')).toHaveValue('0.02');
  await expect(page.getByLabel('Task', { exact: true })).toHaveValue('add');
  await expect(page.getByLabel('Seed')).toHaveValue('42');
  const notice = page.locator('.notice').filter({ hasText: 'Some settings in the link were changed' });
  await expect(notice).toContainText('prefixLength: 999999 is outside 0…65536; clamped to 65536');
  await expect(notice).toContainText("unknown setting 'bogus' ignored");
  await shot(page, '06-shared-link');
  await notice.getByRole('button', { name: 'Dismiss notice' }).click();
  await expect(notice).toHaveCount(0);
  // The URL keeps only the (clamped) non-default settings.
  await page.getByLabel('Method').selectOption('ntk');
  const q = new URL(page.url()).searchParams;
  expect(q.get('method')).toBe('ntk');
  expect(q.get('prefixLength')).toBe('65536');
  expect(q.has('bogus')).toBe(false);
  // Phone portrait: one column, nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await shot(page, '07-phone');
});

test('without WebGPU the page says why and how to fix it, and still explains the app', async ({ page }) => {
  await page.addInitScript(() => {
    delete (Navigator.prototype as unknown as { gpu?: unknown }).gpu;
  });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto('/');
  const alert = page.getByRole('alert').filter({ hasText: 'does not offer WebGPU' });
  await expect(alert).toBeVisible();
  await expect(alert).toContainText('Chrome or Edge 113 or newer');
  await expect(alert).toContainText('Safari 26 or newer');
  await expect(alert).toContainText('Firefox 141 or newer on Windows');
  await expect(alert).toContainText('--enable-unsafe-webgpu --enable-features=Vulkan');
  await expect(page.getByText('Towards Infinite-Long Prefix in Transformer')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Train' })).toBeDisabled();
  await shot(page, '08-no-webgpu-dark');
});

test('a bad text file gets a clear message', async ({ page }) => {
  await page.goto('/');
  const input = page.getByLabel('Your own text (.txt, UTF-8)');
  await input.setInputFiles({ name: 'latin1.txt', mimeType: 'text/plain', buffer: Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0x61]) });
  await expect(page.getByRole('alert').filter({ hasText: 'latin1.txt is not valid UTF-8' })).toContainText('byte offset 3');
  await shot(page, '09-bad-file');
  await input.setInputFiles({ name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) });
  await expect(page.getByRole('alert').filter({ hasText: 'empty.txt is empty' })).toBeVisible();
  await input.setInputFiles({ name: 'short.txt', mimeType: 'text/plain', buffer: Buffer.from('just a few words') });
  await expect(page.getByRole('alert').filter({ hasText: 'short.txt has 16 characters' })).toBeVisible();
  await expect(page.getByLabel('Task', { exact: true })).toHaveValue('sotu');
  const good = 'It was the best of times, it was the worst of times. '.repeat(30);
  await input.setInputFiles({ name: 'dickens.txt', mimeType: 'text/plain', buffer: Buffer.from(good) });
  await expect(page.getByText(`Loaded dickens.txt: ${good.length.toLocaleString('en-US')} characters.`)).toBeVisible();
  await expect(page.getByLabel('Task', { exact: true })).toHaveValue('file:dickens.txt');
});
