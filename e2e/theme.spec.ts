import { expect, test, type Page } from '@playwright/test';

// Light and dark: the header's Theme picker switches the page's colours and the choice
// outlives a reload; with no choice the page follows prefers-color-scheme, from the first
// paint. In both themes every visible text (headings, labels, buttons, tab names, chart axis
// labels, help lines…) meets WCAG AA contrast against what is painted behind it: 4.5:1, or
// 3:1 for large text (24px, or 18.66px bold). Ratios come from the computed colours.
const SHOTS = 'test-results/screenshots';
const TABS = ['Adapt', 'Experiments', 'Compare & export', 'Generate'];

type Rgb = [number, number, number];

interface TextSample {
  what: string;
  kind: 'heading' | 'label' | 'button' | 'tab' | 'axis' | 'other';
  text: Rgb;
  behind: Rgb;
  large: boolean;
}

/** Every visible text on the page now, with its colour and the opaque colour behind it.
 *  Runs in the page: colours are read by painting them on a canvas, so any CSS colour syntax
 *  (light-dark(), color-mix(), color(srgb …)) comes back as sRGB bytes. */
function sampleTexts(): TextSample[] {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const rgba = (css: string): [number, number, number, number] => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = '#000';
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255];
  };
  const over = (top: [number, number, number, number], under: Rgb): Rgb => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])) as Rgb;
  /** The opaque colour under `el`: its own and its ancestors' backgrounds, composited. */
  const behind = (el: Element): Rgb => {
    const layers: [number, number, number, number][] = [];
    for (let e: Element | null = el; e; e = e.parentElement) {
      const bg = rgba(getComputedStyle(e).backgroundColor);
      if (bg[3] > 0) layers.push(bg);
      if (bg[3] >= 1) break;
    }
    let c: Rgb = [255, 255, 255]; // the canvas under a page with no opaque background
    for (const l of layers.reverse()) c = over(l, c);
    return c;
  };
  const opacity = (el: Element) => {
    let o = 1;
    for (let e: Element | null = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
    return o;
  };
  const kindOf = (el: Element): TextSample['kind'] => {
    if (el.closest('.recharts-cartesian-axis-tick-value, .recharts-label')) return 'axis';
    if (el.closest('[role=tab]')) return 'tab';
    if (el.closest('h1, h2, h3, h4, legend')) return 'heading';
    if (el.closest('button')) return 'button';
    if (el.closest('label')) return 'label';
    return 'other';
  };
  const out: TextSample[] = [];
  for (const el of document.body.querySelectorAll('*')) {
    const ownText = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim() !== '');
    const control = el.matches('input[type=number], input[type=text], textarea, select');
    if (!ownText && !control) continue;
    if (el.matches('option, script, style, title')) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2 || !el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) continue;
    // Disabled controls are exempt from contrast rules (WCAG 1.4.3), and they look it.
    if (el.closest(':disabled, [aria-disabled=true], fieldset:disabled')) continue;
    const s = getComputedStyle(el);
    const svg = el instanceof SVGElement;
    const fg = rgba(svg ? s.fill : s.color);
    const bg = behind(el);
    const size = parseFloat(s.fontSize);
    const text = over([fg[0], fg[1], fg[2], fg[3] * opacity(el)], bg);
    const label = (control ? (el as HTMLInputElement).value : el.textContent!).trim().replace(/\s+/g, ' ').slice(0, 40);
    out.push({ what: `${el.tagName.toLowerCase()}${el.classList.length ? '.' + [...el.classList].join('.') : ''} "${label}"`, kind: kindOf(el), text, behind: bg, large: size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700) });
  }
  return out;
}

function luminance(c: Rgb): number {
  const [r, g, b] = c.map((v) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** Contrast of every visible text on every tab; fails naming each text below AA. Returns
 *  the lowest ratio seen and the kinds of text that were measured. */
async function checkContrast(page: Page, theme: string): Promise<{ lowest: number; lowestWhat: string; kinds: Set<string>; count: number }> {
  const failures: string[] = [];
  const kinds = new Set<string>();
  let lowest = Infinity;
  let lowestWhat = '';
  let count = 0;
  for (const name of TABS) {
    await page.getByRole('tab', { name, exact: true }).click();
    await page.waitForTimeout(400); // charts draw after layout (ResizeObserver)
    for (const s of await page.evaluate(sampleTexts)) {
      const ratio = contrast(s.text, s.behind);
      const need = s.large ? 3 : 4.5;
      kinds.add(s.kind);
      count++;
      if (ratio < lowest) [lowest, lowestWhat] = [ratio, `${s.what} on ${name}`];
      if (ratio < need) failures.push(`${theme}, ${name}: ${s.what} rgb(${s.text.map(Math.round)}) on rgb(${s.behind.map(Math.round)}) = ${ratio.toFixed(2)}:1 < ${need}:1`);
    }
  }
  expect(failures, `texts below WCAG AA contrast in the ${theme} theme`).toEqual([]);
  return { lowest, lowestWhat, kinds, count };
}

/** The computed colours of the page's main surfaces. */
function surfaces(page: Page) {
  return page.evaluate(() => {
    const css = (sel: string, prop: 'backgroundColor' | 'color') => {
      const el = document.querySelector(sel);
      if (!el) throw new Error(`no ${sel} on the page`);
      return getComputedStyle(el)[prop];
    };
    return {
      page: css('html', 'backgroundColor'),
      text: css('body', 'color'),
      card: css('.card', 'backgroundColor'),
      tab: css('[role=tab][aria-selected=true]', 'backgroundColor'),
      field: css('input[type=number]', 'backgroundColor'),
      heading: css('h1', 'color'),
    };
  });
}

/** sRGB bytes of a computed colour in rgb() form (what computed background-color gives). */
function bytes(css: string): Rgb {
  const m = /^rgba?\((\d+), (\d+), (\d+)/.exec(css);
  if (!m) throw new Error(`not an rgb() colour: ${css}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

const themePicker = (page: Page) => page.getByRole('combobox', { name: /^Theme/ });

test('theme: the picker switches light and dark, the choice outlives a reload, every text meets AA contrast in both', async ({ page }) => {
  test.setTimeout(240_000);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto('/');
  // The dev server reloads the page when a source file changes; the chart would be gone.
  let reloads = 0;
  page.on('load', () => reloads++);
  await expect(page.locator('p.adapter')).toContainText('WebGPU adapter', { timeout: 60_000 });
  await expect(themePicker(page)).toHaveValue('system');

  // A chart with data, for its axis labels: the approximation sweep in closed form only
  // (no training, a second or two).
  await page.getByRole('tab', { name: 'Experiments', exact: true }).click();
  const approx = page.getByRole('region', { name: 'Approximation error against prefix length' });
  await approx.getByRole('spinbutton', { name: 'Largest m (closed form)' }).fill('16');
  for (const method of ["trained, paper's k = |κ|", 'trained, k = exp(κ)']) await approx.getByRole('checkbox', { name: method }).uncheck();
  await approx.getByRole('button', { name: 'Run approximation sweep' }).click();
  await expect(approx.getByTestId('approximation-sweep-status')).toContainText(/^Done: \d+ points/, { timeout: 120_000 });
  await expect(approx.locator('.recharts-cartesian-axis-tick-value').first()).toBeVisible();

  const seen: Record<string, Awaited<ReturnType<typeof surfaces>>> = {};
  for (const theme of ['light', 'dark'] as const) {
    await themePicker(page).selectOption(theme);
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    seen[theme] = await surfaces(page);
    const c = await checkContrast(page, theme);
    expect(reloads, 'the page reloaded under the test (the dev server saw a file change): run it again').toBe(0);
    // The scan measured every kind of text the page shows, chart axes included.
    for (const kind of ['heading', 'label', 'button', 'tab', 'axis']) expect(c.kinds, `${kind} texts measured in ${theme}`).toContain(kind);
    console.log(`${theme}: ${c.count} texts, lowest contrast ${c.lowest.toFixed(2)}:1 (${c.lowestWhat})`);
    test.info().annotations.push({ type: `lowest contrast, ${theme}`, description: `${c.lowest.toFixed(2)}:1 (${c.lowestWhat}; ${c.count} texts)` });
    await page.getByRole('tab', { name: 'Experiments', exact: true }).click();
    await page.waitForTimeout(400);
    await page.screenshot({ path: `${SHOTS}/theme-${theme}.png`, fullPage: true });
  }

  // The colours really change: every main surface and text, light to dark, and the right way.
  for (const key of Object.keys(seen.light) as (keyof typeof seen.light)[]) expect(seen.dark[key], key).not.toBe(seen.light[key]);
  expect(luminance(bytes(seen.light.page))).toBeGreaterThan(0.8);
  expect(luminance(bytes(seen.dark.page))).toBeLessThan(0.05);
  expect(luminance(bytes(seen.dark.text))).toBeGreaterThan(luminance(bytes(seen.dark.card)));
  expect(luminance(bytes(seen.light.text))).toBeLessThan(luminance(bytes(seen.light.card)));

  // The choice outlives a reload, over a system that prefers light, from the first paint.
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(themePicker(page)).toHaveValue('dark');
  expect((await surfaces(page)).page).toBe(seen.dark.page);

  // "system" forgets the choice and follows the system again, now and after a reload.
  await themePicker(page).selectOption('system');
  await expect(page.locator('html')).not.toHaveAttribute('data-theme', /./);
  expect((await surfaces(page)).page).toBe(seen.light.page);
  await page.reload();
  await expect(themePicker(page)).toHaveValue('system');
  expect((await surfaces(page)).page).toBe(seen.light.page);
});

test('theme: prefers-color-scheme dark is honoured at first load and followed live while the choice is "system"', async ({ page }) => {
  test.setTimeout(120_000);
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Prefix Lab' })).toBeVisible();
  await expect(themePicker(page)).toHaveValue('system');
  await expect(page.locator('html')).not.toHaveAttribute('data-theme', /./);
  const dark = await surfaces(page);
  expect(luminance(bytes(dark.page))).toBeLessThan(0.05);
  expect(luminance(bytes(dark.text))).toBeGreaterThan(0.6);
  const c = await checkContrast(page, 'system dark');
  console.log(`system dark: ${c.count} texts, lowest contrast ${c.lowest.toFixed(2)}:1 (${c.lowestWhat})`);

  // The system turns light: the page follows without a reload.
  await page.emulateMedia({ colorScheme: 'light' });
  await expect.poll(async () => luminance(bytes((await surfaces(page)).page))).toBeGreaterThan(0.8);
  // A choice of dark wins over the light system.
  await themePicker(page).selectOption('dark');
  expect((await surfaces(page)).page).toBe(dark.page);
});
