import { expect, test, type Page } from '@playwright/test';
import { reveal } from './reveal';

// Faults that must lose nothing, in the page: presets clicked before the adapter is known
// wait (disabled, saying why) and then size themselves for it; two tabs saving runs into the
// same IndexedDB at once keep every run of both, each tab shows the other's as they are saved,
// and both read them all back after a reload. (The
// device lost mid-run: e2e/app.spec.ts and src/train/device_lost.test.ts; the storage quota:
// e2e/values.spec.ts and src/ui/persist/db.test.ts.)

test('presets wait for the adapter, then Quick demo is sized for the software adapter', async ({ page }) => {
  // Hold the engine worker's script: the page is up, the adapter not yet known.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let held = 0;
  await page.route(/engine\.worker\.ts/, async (route) => {
    held++;
    await gate;
    await route.continue();
  });
  await page.goto('/');
  await expect.poll(() => held, { message: 'the worker script went through the route' }).toBeGreaterThan(0);
  const quick = await reveal(page, page.getByRole('button', { name: 'Quick demo', exact: true }));
  await expect(quick).toBeDisabled();
  await expect(quick).toHaveAccessibleDescription(/sized for the WebGPU adapter: available once it is found/);
  await expect(page.getByRole('button', { name: 'Tiny', exact: true })).toBeDisabled();
  const steps = page.getByLabel('Steps', { exact: true });
  const before = await steps.inputValue();

  release();
  await expect(page.locator('p.adapter')).toContainText('software fallback', { timeout: 60_000 });
  await expect(quick).toBeEnabled();
  await expect(quick).not.toHaveAccessibleDescription(/available once/);
  expect(await steps.inputValue()).toBe(before); // nothing was applied while it waited
  await quick.click();
  // The software adapter's Quick demo (src/ui/settings.ts), not a GPU's 1500 steps.
  await expect(steps).toHaveValue('40');
  await expect(page.getByLabel('Batch size')).toHaveValue('4');
});

test('two tabs saving runs at once keep every run of both; each tab lists the other tab\'s runs as they are saved and after a reload', async ({ page, context }) => {
  test.setTimeout(180_000);
  const tabs = [page, await context.newPage()];
  for (const p of tabs) {
    await p.goto('/');
    await expect(await reveal(p, p.getByTestId('saved-summary'))).toContainText('0 saved runs', { timeout: 60_000 });
  }
  // Each tab writes six finished runs through the page's own saved store, all at once, while
  // the app in both tabs holds its connection to the same database.
  const N = 6;
  const save = (tab: string) => `(async () => {
    const { openSavedStore } = await import('/src/ui/persist/db.ts');
    const { newRun } = await import('/src/ui/runs.ts');
    const { toSavedRun } = await import('/src/ui/exchange/records.ts');
    const { defaultConfig } = await import('/src/train/config.ts');
    const { store } = await openSavedStore();
    const writes = [];
    for (let i = 0; i < ${N}; i++) {
      const id = 'run-' + (i + 1) + '-${tab}';
      const run = { ...newRun(id, 'tab ${tab} run ' + (i + 1), { ...defaultConfig(), prefixLength: i + 1 }), state: 'done', train: [{ step: 1, loss: 3 - i / 10 }], evals: [{ step: 1, val: 3 - i / 10, acc: null, mass: null }] };
      writes.push(store.put('runs', id, toSavedRun(run, Date.now() + i)));
    }
    await Promise.all(writes);
    return store.persistent;
  })()`;
  expect(await Promise.all([tabs[0].evaluate(save('a')), tabs[1].evaluate(save('b'))])).toEqual([true, true]);

  // Each tab is told of every save (BroadcastChannel) and lists all of them at once...
  const expectAll = async (p: Page) => {
    const rows = (await reveal(p, p.getByRole('table', { name: 'Runs' }))).locator('tbody tr');
    await expect(rows).toHaveCount(2 * N);
    for (const tab of ['a', 'b']) for (let i = 1; i <= N; i++) await expect(rows.filter({ hasText: `tab ${tab} run ${i}` })).toHaveCount(1);
  };
  for (const p of tabs) {
    await expectAll(p);
    await expect(p.getByTestId('saved-summary')).toContainText(`${2 * N} saved runs`);
  }
  // ...and after a reload reads them all back from the one database.
  for (const p of tabs) {
    await p.reload();
    await expect(await reveal(p, p.getByTestId('saved-summary'))).toContainText(`${2 * N} saved runs (${2 * N} from earlier visits)`, { timeout: 60_000 });
    await expectAll(p);
  }
});
