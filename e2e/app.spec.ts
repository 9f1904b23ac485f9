import { expect, test } from '@playwright/test';

test('the app loads and finds a WebGPU adapter', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Prefix Lab' })).toBeVisible();
  await expect(page.getByRole('status')).toContainText('WebGPU adapter', { timeout: 60_000 });
});
