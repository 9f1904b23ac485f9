// README screenshots: builds the app and serves the build (the dev server would reload the
// page on any edit in the tree), trains two tiny prefix runs (m = 16, then 4) in
// headless Chromium on software WebGPU, and saves the workbench at desktop width
// (docs/screenshot.png) and phone width (docs/screenshot-phone.png).
// Usage: node scripts/screenshot.mjs (SHOT_SCHEME=dark for the dark theme, SHOT_DIR=… elsewhere)
import { chromium } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, preview } from 'vite';

const shotDir = process.env.SHOT_DIR ?? 'docs';
const outDir = mkdtempSync(join(tmpdir(), 'prefix-lab-shot-'));
await build({ build: { outDir, emptyOutDir: true }, logLevel: 'warn' });
const server = await preview({ build: { outDir }, preview: { port: Number(process.env.SHOT_PORT ?? 5231) }, logLevel: 'warn' });
const url = server.resolvedUrls.local[0];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader', '--no-sandbox'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: process.env.SHOT_SCHEME === 'dark' ? 'dark' : 'light' });
  await page.goto(url);
  await page.locator('p.adapter', { hasText: 'WebGPU adapter:' }).waitFor({ timeout: 120_000 });
  await page.screenshot({ path: join(outDir, 'loaded.png') });
  console.log(`loaded; debugging shots in ${outDir}`);
  await page.getByRole('button', { name: 'Tiny', exact: true }).click();
  const steps = page.getByLabel('Steps', { exact: true });
  await steps.fill('20');
  await steps.press('Enter');
  const state = page.getByTestId('run-state');
  for (const m of ['16', '4']) {
    const field = page.getByRole('spinbutton', { name: 'Prefix length', exact: true });
    await field.fill(m);
    await field.press('Enter');
    if (m === '16') await page.getByRole('button', { name: 'Train' }).click();
    await page.waitForTimeout(500);
    await state.filter({ hasText: /^done$/ }).waitFor({ timeout: 600_000 }).catch(async (e) => {
      await page.screenshot({ path: join(outDir, 'failed.png'), fullPage: true });
      throw e;
    });
  }
  await page.waitForTimeout(800); // charts size themselves after layout (ResizeObserver)
  await page.screenshot({ path: `${shotDir}/screenshot.png` });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(800);
  await page.screenshot({ path: `${shotDir}/screenshot-phone.png` });
} finally {
  await browser.close();
  await server.close();
}
