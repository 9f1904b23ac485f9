import { expect, test, type Page } from '@playwright/test';

// The experiment panels in headless Chromium on SwiftShader WebGPU (CPU), with their tiny
// defaults: a prefix-length sweep through ordinary runs, base vs adapted text, the
// approximation-error sweep with fitted slopes, the NTK regime, and the narrow layout.
// One page throughout, so the base model is loaded once.
const SHOTS = 'test-results/screenshots';

async function shot(page: Page, name: string, locator?: ReturnType<Page['locator']>) {
  await page.waitForTimeout(600); // charts size themselves after layout (ResizeObserver)
  if (locator) await locator.screenshot({ path: `${SHOTS}/experiments-${name}.png` });
  else await page.screenshot({ path: `${SHOTS}/experiments-${name}.png`, fullPage: true });
}

test('experiments: sweep prefix lengths, generate side by side, approximation error, NTK regime', async ({ page }) => {
  test.setTimeout(300_000);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto('/');
  await expect(page.locator('p.adapter')).toContainText('WebGPU adapter', { timeout: 60_000 });

  // Sweep: tiny runs at m = 1, 2 (the prefix-length setting), one after another.
  await page.getByRole('button', { name: 'Tiny', exact: true }).click();
  const m = page.getByRole('spinbutton', { name: 'Prefix length', exact: true });
  await m.fill('2');
  await m.press('Enter');
  const sweepCard = page.getByRole('region', { name: 'Prefix-length sweep' });
  await expect(sweepCard).toContainText('m = 1, 2');
  await sweepCard.getByRole('button', { name: 'Sweep prefix lengths' }).click();
  await expect(sweepCard.getByTestId('sweep-status')).toContainText('run 1 of 2', { timeout: 60_000 });
  await expect(sweepCard.getByTestId('sweep-status')).toContainText('Sweep done: 2 runs', { timeout: 180_000 });
  const byM = page.getByRole('table', { name: 'Final validation loss by prefix length' });
  await expect(byM.locator('tbody tr')).toHaveCount(2);
  await expect(page.getByRole('table', { name: 'Runs' }).locator('tbody tr')).toHaveCount(2);
  await expect(m).toHaveValue('2');
  await shot(page, 'sweep', sweepCard);

  // Generate: the base model and the sweep's last run (m = 2) continue the prompt. Enter in
  // the prompt field generates (keyboard only).
  await page.getByRole('tab', { name: 'Generate' }).click();
  const gen = page.getByRole('region', { name: 'Generated text' });
  await gen.getByRole('spinbutton', { name: 'Characters to generate' }).fill('24');
  const prompt = gen.getByRole('textbox', { name: 'Prompt' });
  await prompt.fill('The whale ');
  await prompt.press('Enter');
  await expect(gen.getByTestId('generate-status')).toHaveText('Done.', { timeout: 120_000 });
  await expect(gen.getByText('Adapted: m 1→2 (prefix m=2)')).toBeVisible();
  for (const id of ['generated-base', 'generated-adapted']) {
    const text = (await gen.getByTestId(id).textContent()) ?? '';
    expect(text.startsWith('The whale ')).toBe(true);
    expect([...text].length).toBe('The whale '.length + 24);
  }
  await shot(page, 'generate', gen);

  // The tabs by keyboard: Home goes to the first, arrows move on; the URL names the tab.
  const tab = (name: string) => page.getByRole('tab', { name, exact: true });
  await tab('Generate').focus();
  await page.keyboard.press('Home');
  await expect(tab('Adapt')).toBeFocused();
  await expect(tab('Adapt')).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowLeft'); // wraps to the last
  await expect(tab('Generate')).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('End');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(tab('Experiments')).toBeFocused();
  await expect(page.getByRole('tabpanel', { name: 'Experiments' })).toBeVisible();
  await expect(page).toHaveURL(/#experiments$/);

  // Approximation error with the tiny defaults: points stream in; legend has fitted slopes.
  const approx = page.getByRole('region', { name: 'Approximation error against prefix length' });
  await expect(approx.getByRole('spinbutton', { name: 'Largest m (closed form)' })).toHaveValue('256');
  await approx.getByRole('button', { name: 'Run approximation sweep' }).click();
  await expect(approx.getByRole('progressbar', { name: 'Approximation sweep progress' })).toBeVisible({ timeout: 60_000 });
  await expect(approx.getByTestId('approximation-sweep-status')).toContainText(/^Done: 30 points/, { timeout: 150_000 });
  const legend = approx.locator('.recharts-legend-item-text');
  await expect(legend).toHaveCount(6);
  await expect(legend.filter({ hasText: /closed · elu1 \(slope −?\d\.\d\d\)/ })).toHaveCount(1);
  await expect(legend.filter({ hasText: /robust · taylor2 \(slope −?\d\.\d\d\)/ })).toHaveCount(1);
  await expect(approx.getByRole('img', { name: /relative error against prefix length m, log-log/ })).toBeVisible();
  expect(await approx.locator('.recharts-line-dots circle').count()).toBeGreaterThanOrEqual(30);
  await shot(page, 'approx', approx);

  // Keyboard: Run moves focus to Stop; Enter stops after the current point, points kept.
  // 300 Adam steps per trained point make this sweep last well past the Stop (with the tiny
  // defaults a second sweep, its shaders compiled, could finish in 4 s before Stop landed).
  await approx.getByRole('spinbutton', { name: 'Adam steps per trained point' }).fill('300');
  const run = approx.getByRole('button', { name: 'Run approximation sweep' });
  await run.focus();
  await page.keyboard.press('Enter');
  const stop = approx.getByRole('button', { name: 'Stop approximation sweep' });
  await expect(stop).toBeFocused({ timeout: 10_000 });
  await expect(approx.getByTestId('approximation-sweep-status')).toContainText(/· [1-9]\d* points?/, { timeout: 60_000 });
  await page.keyboard.press('Enter');
  await expect(approx.getByTestId('approximation-sweep-status')).toContainText(/^Stopped: \d+ points? kept/, { timeout: 60_000 });
  await expect(stop).toHaveCount(0);
  await expect(run).toBeFocused();

  // Settings the experiment refuses: its message, naming the setting, as an alert.
  await approx.getByRole('spinbutton', { name: 'Head dimension d' }).fill('65');
  await run.click();
  await expect(approx.getByRole('alert')).toContainText('d must be an integer in [1, 64] (got 65)', { timeout: 30_000 });
  await approx.getByRole('button', { name: 'Default settings' }).click();
  await expect(approx.getByRole('spinbutton', { name: 'Head dimension d' })).toHaveValue('4');

  // NTK regime on the base model with the tiny defaults: 3 m × 2 parameterisations.
  const ntk = page.getByRole('region', { name: 'NTK regime of prefix learning' });
  await ntk.getByRole('button', { name: 'Run NTK regime' }).click();
  await expect(ntk.getByTestId('ntk-regime-status')).toContainText(/^Done: 6 runs/, { timeout: 150_000 });
  await expect(ntk.locator('.recharts-legend-item-text').filter({ hasText: /NTK scaling \(slope −?\d\.\d\d\)/ })).toHaveCount(1);
  await expect(ntk.locator('.recharts-legend-item-text').filter({ hasText: 'm = 64, naive' })).toHaveCount(1);
  await shot(page, 'ntk-regime', ntk);

  // Bad settings are named, nothing starts.
  await ntk.getByRole('textbox', { name: 'Prefix lengths m' }).fill('4, x');
  await ntk.getByRole('button', { name: 'Run NTK regime' }).click();
  await expect(ntk.getByRole('alert')).toContainText("Prefix lengths m: 'x' is not a whole number");

  await shot(page, 'page');

  // Narrow screen: everything wraps, nothing scrolls sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(600);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(391);
  await shot(page, 'narrow');
  await tab('Generate').click();
  await shot(page, 'narrow-generate', gen);
});
