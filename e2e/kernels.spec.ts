import { expect, test } from '@playwright/test';

// The same kernel checks as the Vitest suite, run by Chromium's WGSL compiler on SwiftShader.
test('every kernel check passes in the browser', async ({ page }) => {
  test.setTimeout(900_000);
  await page.goto('/checks.html');
  await page.waitForFunction(() => window.__checks?.done === true, undefined, { timeout: 880_000, polling: 1000 });
  const result = await page.evaluate(() => window.__checks!);
  expect(result.error, 'check page error').toBeUndefined();
  const failed = result.outcomes.filter((o) => !o.pass);
  console.log(`adapter: ${result.adapter}; ${result.outcomes.length - failed.length} passed, ${failed.length} failed`);
  for (const f of failed) console.log(`FAIL ${f.kernel} / ${f.name} seed ${f.seed}: ${JSON.stringify(f.metrics)} ${f.error ?? ''}`);
  expect(result.outcomes.length).toBeGreaterThan(0);
  expect(failed.map((f) => `${f.kernel}/${f.name}`)).toEqual([]);
  await page.screenshot({ path: 'test-results/screens/kernel-checks.png', fullPage: true });
});
