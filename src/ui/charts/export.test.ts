import { describe, expect, it } from 'vitest';
import { Rng, freshSeed } from '../../util/rng';
import { columnsOf, safeFilename, serializeSvg, toCsv, toJson, type XmlNodeLike } from './export';
import type { ExportRow } from './types';
import { parseCsv } from './parse_csv';

const seed = freshSeed();

const ALPHABET = ['a', 'Z', '7', ' ', ',', '"', '\n', '\r', '\r\n', ';', 'é', '=', '-'];

describe(`toCsv (seed ${seed})`, () => {
  const rng = new Rng(seed);

  it('quotes commas, quotes and line breaks (RFC 4180) and leaves plain cells alone', () => {
    const csv = toCsv([{ a: 'x,y', b: 'say "hi"', c: 'two\nlines', d: null, e: 1.5, f: 'plain' }]);
    expect(csv).toBe('a,b,c,d,e,f\r\n"x,y","say ""hi""","two\nlines",,1.5,plain\r\n');
    expect(toCsv([{ 'a,b': 1 }])).toBe('"a,b"\r\n1\r\n');
    expect(toCsv([{ v: 'cr\ronly' }])).toBe('v\r\n"cr\ronly"\r\n');
  });

  it('round-trips random rows through an independent parser', () => {
    for (let trial = 0; trial < 30; trial++) {
      const nCols = rng.int(1, 6);
      const keys = Array.from({ length: nCols }, (_, j) => `k${j}${ALPHABET[rng.int(0, ALPHABET.length - 1)]}`);
      const rows: ExportRow[] = Array.from({ length: rng.int(0, 7) }, () => {
        const r: ExportRow = {};
        for (const k of keys) {
          const t = rng.int(0, 3);
          if (t === 0) r[k] = null;
          else if (t === 1) r[k] = rng.normal() * 10 ** rng.int(-5, 5);
          else if (t === 2) continue; // missing key: an empty cell too
          else r[k] = Array.from({ length: rng.int(0, 8) }, () => ALPHABET[rng.int(0, ALPHABET.length - 1)]).join('');
        }
        return r;
      });
      const cols = rows.length ? columnsOf(rows) : [];
      const csv = toCsv(rows);
      if (cols.length === 0) {
        expect(csv).toBe('');
        continue;
      }
      expect(csv.endsWith('\r\n')).toBe(true);
      const parsed = parseCsv(csv);
      expect(parsed[0]).toEqual(cols);
      expect(parsed.length).toBe(rows.length + 1);
      rows.forEach((r, i) => {
        expect(parsed[i + 1]).toEqual(cols.map((c) => (r[c] === null || r[c] === undefined ? '' : String(r[c]))));
        // numbers survive exactly
        cols.forEach((c, j) => {
          if (typeof r[c] === 'number') expect(Number(parsed[i + 1][j])).toBe(r[c]);
        });
      });
    }
  });

  it('uses the union of keys in first-seen order unless columns are given', () => {
    const rows = [{ b: 1 }, { a: 2, b: 3 }, { c: 'z' }];
    expect(columnsOf(rows)).toEqual(['b', 'a', 'c']);
    expect(toCsv(rows)).toBe('b,a,c\r\n1,,\r\n3,2,\r\n,,z\r\n');
    expect(toCsv(rows, ['c', 'b'])).toBe('c,b\r\n,1\r\n,3\r\nz,\r\n');
  });
});

describe('toJson', () => {
  it('round-trips rows and writes non-finite numbers as null', () => {
    const rows: ExportRow[] = [{ m: 4, name: 'a "q", b\n', v: null }, { m: NaN, w: Infinity, x: -Infinity, y: -0.5 }];
    const text = toJson(rows);
    expect(text.endsWith('\n')).toBe(true);
    expect(JSON.parse(text)).toEqual([{ m: 4, name: 'a "q", b\n', v: null }, { m: null, w: null, x: null, y: -0.5 }]);
    expect(JSON.parse(toJson([]))).toEqual([]);
  });
});

// ---------------------------------------------------------------- SVG

type Fake = XmlNodeLike & { style?: Record<string, string> };
function el(name: string, attrs: Record<string, string> = {}, kids: Fake[] = [], style?: Record<string, string>): Fake {
  return {
    nodeType: 1,
    nodeName: name,
    nodeValue: null,
    attributes: Object.entries(attrs).map(([n, v]) => ({ name: n, value: v })),
    childNodes: kids,
    style,
  };
}
function txt(s: string): Fake {
  return { nodeType: 3, nodeName: '#text', nodeValue: s, childNodes: [] };
}
const comment: Fake = { nodeType: 8, nodeName: '#comment', nodeValue: 'x', childNodes: [] };
const styleOf = (n: XmlNodeLike) => (n as Fake).style ?? null;

/** Minimal well-formedness check: balanced tags, quoted attributes, no stray '<' or '&'. */
function checkXml(s: string): void {
  const body = s.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const re = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(body))) {
    pos = re.lastIndex;
    if (m[5] !== undefined) {
      expect(m[5]).not.toMatch(/&(?!amp;|lt;|gt;|quot;|#\d+;)/);
      continue;
    }
    if (m[1]) expect(stack.pop()).toBe(m[2]);
    else if (!m[4]) stack.push(m[2]);
    expect(m[3] ?? '').not.toMatch(/&(?!amp;|lt;|gt;|quot;|#\d+;)/);
  }
  expect(pos).toBe(body.length);
  expect(stack).toEqual([]);
}

describe('serializeSvg', () => {
  const chart = el(
    'svg',
    { class: 'recharts-surface', width: '400', height: '300', viewBox: '0 0 400 300', style: 'width: 100%; height: 100%; cursor: var(--c)', tabindex: '0' },
    [
      el('title', {}, [txt('A & B <chart>')]),
      comment,
      el('g', { fill: 'var(--series-1, #123456)' }, [
        el('path', { d: 'M0,0L10,10', stroke: 'currentColor', 'stroke-width': '2' }, [], { stroke: 'rgb(1, 2, 3)', fill: 'none' }),
        el('text', { x: '5', y: '6' }, [txt('loss "val" < 1 & done')], { fill: 'rgb(9, 9, 9)', 'font-size': '12px' }),
        el('text', { x: '5', y: '20' }, [txt('same colour')], { fill: 'rgb(9, 9, 9)' }),
      ], { fill: 'rgb(9, 9, 9)' }),
      el('rect', { x: '0', width: '4', height: '4', fill: 'var(--unknown)' }),
    ],
    { fill: 'rgb(0, 0, 0)' },
  );
  const icon = el('svg', { width: '14', height: '14' }, [el('path', { d: 'M0,7h14', stroke: 'var(--series-2, red)' }, [], { stroke: 'rgb(4, 5, 6)' })]);

  const out = serializeSvg({
    width: 420,
    height: 340.456,
    title: 'Loss & "curves"',
    background: 'rgb(18, 18, 18)',
    styleOf,
    items: [
      { kind: 'svg', node: chart, x: 8, y: 8, width: 400, height: 300 },
      { kind: 'svg', node: icon, x: 20, y: 315, width: 14, height: 14 },
      { kind: 'text', x: 38, y: 322, text: 'run <1>', style: { fill: 'rgb(4, 5, 6)', 'font-size': '12px', color: 'var(--x)' } },
    ],
  });

  it('is a standalone, well-formed SVG document with its own size and namespace', () => {
    expect(out.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(out).toContain('width="420" height="340.46" viewBox="0 0 420 340.46"');
    expect(out).toContain('<title>Loss &amp; "curves"</title>');
    expect(out).toContain('<rect x="0" y="0" width="420" height="340.46" fill="rgb(18, 18, 18)"/>');
    expect((out.match(/xmlns="/g) ?? []).length).toBe(1); // only on the root
    checkXml(out);
  });

  it('places each page <svg> with x/y/width/height and keeps or adds its viewBox', () => {
    expect(out).toMatch(/<svg class="recharts-surface" width="400" height="300" viewBox="0 0 400 300" x="8" y="8"/);
    // the icon had no viewBox: its own width/height become one so it is not rescaled
    expect(out).toMatch(/<svg width="14" height="14" x="20" y="315" viewBox="0 0 14 14"/);
    // page box sizing and page-only attributes are gone
    expect(out).not.toContain('width:100%');
    expect(out).not.toContain('tabindex');
  });

  it('replaces CSS variables and currentColor with the resolved colours', () => {
    expect(out).not.toMatch(/var\(/);
    expect(out).not.toMatch(/currentColor/i);
    expect(out).toContain('<g fill="rgb(9, 9, 9)"');
    expect(out).toContain('stroke="rgb(1, 2, 3)"');
    expect(out).toContain('stroke="rgb(4, 5, 6)"');
    // unresolvable: dropped rather than left dangling
    expect(out).toMatch(/<rect x="0" width="4" height="4"\/>/);
    expect(out).toContain('style="fill:rgb(0, 0, 0)"'); // root keeps its computed fill
  });

  it('writes inherited properties only where they change', () => {
    // first text differs from its parent only in font size; second text not at all
    expect(out).toContain('<text x="5" y="6" style="font-size:12px">');
    expect(out).toContain('<text x="5" y="20">same colour</text>');
  });

  it('escapes text and drops comments', () => {
    expect(out).toContain('<title>A &amp; B &lt;chart&gt;</title>');
    expect(out).toContain('loss "val" &lt; 1 &amp; done');
    expect(out).not.toContain('<!--');
    expect(out).toContain('<text x="38" y="322" dominant-baseline="central" style="fill:rgb(4, 5, 6);font-size:12px">run &lt;1&gt;</text>');
  });

  it('leaves the background transparent when none is known, and refuses bad scenes', () => {
    const bare = serializeSvg({ width: 10, height: 10, items: [{ kind: 'svg', node: icon, x: 0, y: 0, width: 10, height: 10 }] });
    expect(bare).not.toContain('<rect');
    checkXml(bare);
    expect(() => serializeSvg({ width: 0, height: 10, items: [] })).toThrow(/no area/);
    expect(() => serializeSvg({ width: 5, height: 5, items: [{ kind: 'svg', node: el('div'), x: 0, y: 0, width: 5, height: 5 }] })).toThrow(/expected an <svg>/);
  });
});

describe('safeFilename', () => {
  it('keeps a portable stem and the extension', () => {
    expect(safeFilename('Loss curves: run #3/4', 'png')).toBe('Loss-curves-run-3-4.png');
    expect(safeFilename('../etc', '.csv')).toBe('etc.csv');
    expect(safeFilename('   ', 'svg')).toBe('chart.svg');
  });
});
