import { expect, test } from '@playwright/test';

// "Pretrain a new base model" on SwiftShader: refused settings say why, then a tiny model
// (1 layer, 2 heads, width 8, context 32, 3 steps) pretrains, shows its progress, replaces
// the base (the base line changes) and leaves a note on the runs list.
test('pretrain a tiny base model: validation, progress, the base line and the runs list change', async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto('/');
  const baseLine = page.locator('.base-line');
  await expect(baseLine).toContainText('Base model:', { timeout: 120_000 });
  await expect(baseLine).not.toContainText('width 8, context 32');

  // Closed, the panel adds no controls whose names other tests look for (Train, Steps, Seed).
  await expect(page.getByRole('button', { name: 'Train' })).toHaveCount(1);
  await expect(page.getByLabel('Steps', { exact: true })).toHaveCount(1);
  await expect(page.getByLabel('Seed')).toHaveCount(1);
  const panel = page.locator('details.pretrain-panel');
  await panel.locator('summary').click();
  const field = (label: string) => panel.getByLabel(label, { exact: true });
  await field('Layers').fill('1');
  await field('Heads').fill('3');
  await field('Width').fill('8');
  await field('Context').fill('32');
  await field('Steps').fill('3');
  await expect(field('Corpus')).toHaveValue('moby-dick');
  await panel.getByRole('button', { name: 'Pretrain base model' }).click();
  // 8 is not divisible by 3 heads: refused with a message beside the field, nothing starts.
  await expect(panel.getByRole('alert')).toContainText('Width 8 must be divisible by the number of heads (3)');
  await expect(field('Width')).toHaveAttribute('aria-invalid', 'true');

  await field('Heads').fill('2');
  await expect(panel.getByRole('alert')).toHaveCount(0);
  await panel.getByRole('button', { name: 'Pretrain base model' }).click();
  await expect(panel.getByRole('button', { name: 'Stop pretraining' })).toBeVisible();
  await expect(panel.getByTestId('pretrain-progress')).toContainText('1 layer, 2 heads, width 8, context 32: step');

  await expect(baseLine).toContainText('Base model: 1 layer, 2 heads, width 8, context 32', { timeout: 90_000 });
  await expect(baseLine).toContainText('pretrained here on Moby Dick (3 steps');
  await expect(panel.getByRole('status').filter({ hasText: 'The base model is now' })).toContainText('1 layer, 2 heads, width 8, context 32; 3 steps on Moby Dick');
  await expect(panel.getByRole('button', { name: 'Stop pretraining' })).toHaveCount(0);
  await panel.screenshot({ path: 'test-results/screenshots/pretrain-panel.png' });
  const rows = page.getByRole('table', { name: 'Runs' }).locator('tbody tr');
  await expect(rows.last()).toContainText('base model replaced: a base pretrained here (1 layer, 2 heads, width 8, context 32');
});
