import { expect, type Locator, type Page } from '@playwright/test';

// The layout may put panels on tabs; specs address elements by accessible names and call
// reveal() first, so they pass whichever tab holds the element (or with no tabs at all).
const TABS = ['Adapt', 'Experiments', 'Compare & export', 'Generate'];

/** Makes `target` visible: at once, or after clicking the tab that holds it. */
export async function reveal(page: Page, target: Locator): Promise<Locator> {
  if (await target.first().isVisible()) return target;
  for (const name of TABS) {
    const tab = page.getByRole('tab', { name, exact: true });
    if ((await tab.count()) === 0) continue;
    await tab.click();
    if (await target.first().isVisible()) return target;
  }
  await expect(target.first()).toBeVisible();
  return target;
}
