// Server-side render (no DOM needed) of the parts that are plain React/SVG: the card shell
// and the heatmap. Recharts draws nothing without a measured container, so the recharts
// charts are covered through their data models (data.test.ts) and the dev gallery.
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { Rng, freshSeed } from '../../util/rng';
import { ChartCard } from './ChartCard';
import { PrefixMassHeatmap } from './PrefixMassHeatmap';

const seed = freshSeed();

describe('ChartCard', () => {
  const html = renderToStaticMarkup(
    createElement(ChartCard, { title: 'Loss curves', description: 'Train and val.', filename: 'loss', rows: [{ a: 1 }], children: createElement('svg', { id: 'inner' }) }),
  );

  it('is a region named by its heading', () => {
    const id = /<section[^>]*aria-labelledby="([^"]+)"/.exec(html)?.[1];
    expect(id).toBeTruthy();
    expect(html).toMatch(new RegExp(`<h3 id="${id}"[^>]*>Loss curves</h3>`));
    expect(html).toContain('Train and val.');
    expect(html).toContain('<svg id="inner"></svg>');
  });

  it('has four keyboard-reachable export buttons named after the chart', () => {
    for (const k of ['PNG', 'SVG', 'CSV', 'JSON']) {
      expect(html).toMatch(new RegExp(`<button type="button"[^>]*aria-label="Export Loss curves as ${k}"[^>]*>Export ${k}</button>`));
    }
    expect(html).not.toMatch(/<button[^>]*disabled/);
    expect(html).not.toMatch(/tabindex="-1"/);
    // no hard-coded white anywhere in the shell
    expect(html).not.toMatch(/#fff|white|rgb\(255, ?255, ?255\)/i);
  });

  it('disables data exports while there are no rows', () => {
    const empty = renderToStaticMarkup(createElement(ChartCard, { title: 'T', filename: 't', rows: [], children: null }));
    expect((empty.match(/<button[^>]*disabled/g) ?? []).length).toBe(2);
    expect(empty).toMatch(/aria-label="Export T as CSV"[^>]*disabled/);
  });
});

describe(`PrefixMassHeatmap (seed ${seed})`, () => {
  const rng = new Rng(seed);
  const layers = rng.int(2, 5);
  const heads = rng.int(2, 7);
  const mass = Array.from({ length: layers }, () => Array.from({ length: heads }, () => rng.next()));
  mass[layers - 1][heads - 1] = NaN; // a missing value must not break the drawing
  const html = renderToStaticMarkup(createElement(PrefixMassHeatmap, { layers, heads, mass, m: 32 }));

  it('draws one titled cell per (layer, head) with opacity = share', () => {
    const cells = [...html.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="26" height="26"([^>]*)><title>layer (\d+), head (\d+): ([^<]*)<\/title><\/rect>/g)].map(
      (c) => [c[0], /fill-opacity="([^"]+)"/.exec(c[1])?.[1], c[2], c[3], c[4]] as const,
    );
    expect(cells.length).toBe(layers * heads);
    for (const c of cells) {
      const l = Number(c[2]);
      const h = Number(c[3]);
      const v = mass[l][h];
      if (Number.isNaN(v)) {
        expect(c[4]).toBe('no value');
        expect(c[1]).toBeUndefined();
      } else {
        expect(Number(c[1])).toBeCloseTo(v, 12);
        expect(c[4]).toBe(`${(v * 100).toFixed(1)}% (${v.toFixed(4)})`);
      }
    }
  });

  it('is an image with a data summary and has a table fallback with every value', () => {
    const label = /<svg role="img" aria-label="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(label).toContain(`${layers} layers × ${heads} heads`);
    let best = -1;
    for (const row of mass) for (const v of row) if (v > best) best = v;
    expect(label).toContain(`highest ${(best * 100).toFixed(1)}%`);
    const table = /<table[^>]*>([\s\S]*)<\/table>/.exec(html)?.[1] ?? '';
    expect(table).toContain('<caption>');
    const tds = [...table.matchAll(/<td>([^<]*)<\/td>/g)].map((m) => m[1]);
    expect(tds).toEqual(mass.flat().map((v) => (Number.isNaN(v) ? '–' : `${(v * 100).toFixed(1)}%`)));
    expect((table.match(/<th scope="row">/g) ?? []).length).toBe(layers);
    // the legend ramp runs 0 → 1
    expect(html).toMatch(/<stop offset="0"[^>]*stop-opacity="0"/);
    expect(html).toMatch(/<stop offset="1"[^>]*stop-opacity="1"/);
  });

  it('says what is wrong with a mis-shaped input instead of drawing', () => {
    const bad = renderToStaticMarkup(createElement(PrefixMassHeatmap, { layers: 3, heads: 2, mass: [[0.1, 0.2], [0.3]], m: null }));
    expect(bad).toContain('role="alert"');
    expect(bad).toContain('mass has 2 rows but layers = 3');
    const bad2 = renderToStaticMarkup(createElement(PrefixMassHeatmap, { layers: 2, heads: 2, mass: [[0.1, 0.2], [0.3]], m: null }));
    expect(bad2).toContain('mass row 1 has 1 values but heads = 2');
  });
});
