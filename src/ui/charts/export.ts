// Chart exports: rows as CSV (RFC 4180) and JSON, the chart's SVG as a standalone document
// (computed colours and fonts inlined, so CSS variables and the page's stylesheet are not
// needed to render it) and as a 2x PNG. The serialisers are pure (they walk a minimal
// node interface that DOM nodes satisfy), so they are unit-tested in Node; only
// captureCard/svgToPng/download touch the browser.
import type { ExportRow } from './types';

// ---------------------------------------------------------------- CSV / JSON

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : String(v);
  // RFC 4180: a field holding a comma, quote or line break is quoted, quotes doubled.
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows → CSV. Columns are the union of the rows' keys in first-seen order unless given;
 *  null/missing cells are empty; records end with CRLF (RFC 4180). */
export function toCsv(rows: readonly ExportRow[], columns?: readonly string[]): string {
  const cols = columns ? [...columns] : columnsOf(rows);
  if (cols.length === 0) return '';
  const lines = [cols.map(csvCell).join(',')];
  for (const r of rows) lines.push(cols.map((c) => csvCell(r[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}

export function columnsOf(rows: readonly ExportRow[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

/** Rows → pretty JSON array. Non-finite numbers become null (JSON has no NaN/Infinity). */
export function toJson(rows: readonly ExportRow[]): string {
  return JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

// ---------------------------------------------------------------- SVG

/** The slice of the DOM Node interface the serialiser reads (DOM nodes satisfy it). */
export interface XmlNodeLike {
  nodeType: number;
  nodeName: string;
  nodeValue: string | null;
  childNodes: ArrayLike<XmlNodeLike>;
  attributes?: ArrayLike<{ name: string; value: string }> | null;
}

/** Resolved presentation properties of an element (e.g. { fill: 'rgb(78, 121, 167)' }). */
export type StyleOf = (node: XmlNodeLike) => Record<string, string> | null | undefined;

export type SceneItem =
  /** An <svg> from the page, placed at (x, y) with its on-screen size. */
  | { kind: 'svg'; node: XmlNodeLike; x: number; y: number; width: number; height: number }
  /** A text label (e.g. a legend entry that the page draws in HTML), vertically centred on y. */
  | { kind: 'text'; x: number; y: number; text: string; style?: Record<string, string> };

export interface SvgScene {
  width: number;
  height: number;
  title?: string;
  /** Painted behind everything; null/undefined keeps the background transparent. */
  background?: string | null;
  items: SceneItem[];
  styleOf?: StyleOf;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const XLINK_NS = 'http://www.w3.org/1999/xlink';
const ELEMENT = 1;
const TEXT = 3;
const CDATA = 4;

// Characters XML 1.0 forbids even when escaped.
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

function escText(s: string): string {
  return s.replace(INVALID_XML, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escAttr(s: string): string {
  return escText(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

function num(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** A value that only means something inside the page's CSS cascade. */
function pageDependent(value: string): boolean {
  return /var\(|currentcolor/i.test(value);
}

function parseStyle(s: string): [string, string][] {
  const out: [string, string][] = [];
  for (const decl of s.split(';')) {
    const i = decl.indexOf(':');
    if (i <= 0) continue;
    const k = decl.slice(0, i).trim().toLowerCase();
    const v = decl.slice(i + 1).trim();
    if (k && v) out.push([k, v]);
  }
  return out;
}

// Attributes that are about the live page, not the picture.
const DROP_ATTRS = new Set(['tabindex', 'xmlns', 'xmlns:xlink', 'contenteditable', 'draggable']);
// Inherited properties are written only where they differ from the parent's (keeps files small).
const INHERITED = new Set([
  'fill', 'fill-opacity', 'stroke', 'stroke-width', 'stroke-opacity', 'stroke-dasharray', 'stroke-linecap',
  'stroke-linejoin', 'visibility', 'font-family', 'font-size', 'font-weight', 'font-style', 'text-anchor',
]);
// Never painted: no computed style needed.
const UNPAINTED = new Set(['title', 'desc', 'metadata']);
// On the placed <svg>, the page's CSS box sizing would fight the x/y/width/height we set.
const BOX_STYLE = new Set(['width', 'height', 'max-width', 'max-height', 'min-width', 'min-height']);

function serializeNode(
  node: XmlNodeLike,
  styleOf: StyleOf | undefined,
  extra: Record<string, string> | null,
  parentStyle: Record<string, string>,
  out: string[],
): void {
  if (node.nodeType === TEXT || node.nodeType === CDATA) {
    out.push(escText(node.nodeValue ?? ''));
    return;
  }
  if (node.nodeType !== ELEMENT) return; // comments, processing instructions
  const name = node.nodeName;
  const computed = (!UNPAINTED.has(name) && styleOf?.(node)) || {};
  const attrs = new Map<string, string>();
  const style = new Map<string, string>();
  const list = node.attributes;
  if (list) {
    for (let i = 0; i < list.length; i++) {
      const a = list[i];
      const an = a.name;
      if (DROP_ATTRS.has(an.toLowerCase()) || an.startsWith('on')) continue;
      if (an === 'style') {
        for (const [k, v] of parseStyle(a.value)) if (!pageDependent(v) && !(extra && BOX_STYLE.has(k))) style.set(k, v);
        continue;
      }
      if (pageDependent(a.value)) {
        // fill="var(--series-1, …)": keep it only if we know what it resolved to.
        if (computed[an] !== undefined) attrs.set(an, computed[an]);
        continue;
      }
      attrs.set(an, a.value);
    }
  }
  for (const [k, v] of Object.entries(computed)) {
    if (v === '' || pageDependent(v)) continue;
    if (INHERITED.has(k) && parentStyle[k] === v && !style.has(k) && !attrs.has(k)) continue;
    style.set(k, v);
  }
  const here = UNPAINTED.has(name) ? parentStyle : { ...parentStyle, ...computed };
  if (extra) for (const [k, v] of Object.entries(extra)) attrs.set(k, v);
  out.push('<', name);
  for (const [k, v] of attrs) out.push(' ', k, '="', escAttr(v), '"');
  if (style.size > 0) out.push(' style="', escAttr([...style].map(([k, v]) => `${k}:${v}`).join(';')), '"');
  const kids = node.childNodes;
  if (kids.length === 0) {
    out.push('/>');
    return;
  }
  out.push('>');
  for (let i = 0; i < kids.length; i++) serializeNode(kids[i], styleOf, null, here, out);
  out.push('</', name, '>');
}

function attrOf(node: XmlNodeLike, name: string): string | null {
  const list = node.attributes;
  if (!list) return null;
  for (let i = 0; i < list.length; i++) if (list[i].name === name) return list[i].value;
  return null;
}

/** A standalone SVG document (XML prolog, xmlns, explicit size and viewBox) drawing every
 *  scene item at its place, with page-dependent colours replaced by `styleOf`'s values. */
export function serializeSvg(scene: SvgScene): string {
  const { width, height } = scene;
  if (!(width > 0 && height > 0)) throw new Error(`serializeSvg: the scene has no area (${width}×${height})`);
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>\n',
    `<svg xmlns="${SVG_NS}" xmlns:xlink="${XLINK_NS}" version="1.1" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}">`,
  ];
  if (scene.title) out.push('<title>', escText(scene.title), '</title>');
  if (scene.background && !pageDependent(scene.background)) {
    out.push(`<rect x="0" y="0" width="${num(width)}" height="${num(height)}" fill="${escAttr(scene.background)}"/>`);
  }
  for (const item of scene.items) {
    if (item.kind === 'text') {
      const st = Object.entries(item.style ?? {}).filter(([, v]) => v !== '' && !pageDependent(v));
      out.push(`<text x="${num(item.x)}" y="${num(item.y)}" dominant-baseline="central"`);
      if (st.length) out.push(' style="', escAttr(st.map(([k, v]) => `${k}:${v}`).join(';')), '"');
      out.push('>', escText(item.text), '</text>');
      continue;
    }
    if (item.node.nodeName.toLowerCase() !== 'svg') throw new Error(`serializeSvg: expected an <svg> item, got <${item.node.nodeName}>`);
    // Nested <svg>: its own viewBox scales the original drawing into the on-screen box.
    const extra: Record<string, string> = { x: num(item.x), y: num(item.y), width: num(item.width), height: num(item.height) };
    if (attrOf(item.node, 'viewBox') === null) {
      const w = Number(attrOf(item.node, 'width'));
      const h = Number(attrOf(item.node, 'height'));
      extra.viewBox = `0 0 ${num(w > 0 ? w : item.width)} ${num(h > 0 ? h : item.height)}`;
    }
    extra.overflow = 'visible';
    serializeNode(item.node, scene.styleOf, extra, {}, out);
  }
  out.push('</svg>\n');
  return out.join('');
}

// ---------------------------------------------------------------- browser side

const PAINT_PROPS = [
  'fill', 'fill-opacity', 'stroke', 'stroke-width', 'stroke-opacity', 'stroke-dasharray',
  'stroke-linecap', 'stroke-linejoin', 'opacity', 'visibility', 'display', 'stop-color', 'stop-opacity',
];
const FONT_PROPS = ['font-family', 'font-size', 'font-weight', 'font-style', 'text-anchor', 'dominant-baseline'];
const TEXT_TAGS = new Set(['text', 'tspan', 'textPath']);

/** Computed paint (and, on text, font) properties of a live element, skipping defaults. */
export function computedStyleOf(node: XmlNodeLike): Record<string, string> | null {
  if (node.nodeType !== ELEMENT) return null;
  const el = node as unknown as Element;
  const cs = getComputedStyle(el);
  const out: Record<string, string> = {};
  const props = TEXT_TAGS.has(el.nodeName) ? [...PAINT_PROPS, ...FONT_PROPS] : PAINT_PROPS;
  for (const p of props) {
    const v = cs.getPropertyValue(p);
    if (!v) continue;
    if ((p === 'opacity' || p.endsWith('-opacity')) && v === '1') continue;
    if ((p === 'visibility' && v === 'visible') || (p === 'display' && v !== 'none')) continue;
    if (p === 'stroke-dasharray' && v === 'none') continue;
    if (p.startsWith('stop-') && el.nodeName !== 'stop') continue;
    out[p] = v;
  }
  return out;
}

/** Resolve a CSS colour expression (e.g. 'Canvas' or 'var(--bg)') against the page. */
function resolveColor(expr: string, within: Element): string {
  const probe = document.createElement('span');
  probe.style.color = expr;
  probe.style.display = 'none';
  within.appendChild(probe);
  const c = getComputedStyle(probe).color;
  probe.remove();
  return c;
}

function isTransparent(c: string): boolean {
  return c === '' || c === 'transparent' || /^rgba\(.*,\s*0\)$/.test(c) || /\/\s*0\)$/.test(c);
}

/** The colour actually behind `el`: the first opaque ancestor background, else the canvas. */
export function backgroundBehind(el: Element): string {
  for (let e: Element | null = el; e; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor;
    if (!isTransparent(c)) return c;
  }
  return resolveColor('Canvas', el);
}

/** The picture inside a chart card: every chart <svg> (not legend icons, not button icons,
 *  not anything under [data-export-ignore]) plus the HTML legend entries recharts draws
 *  beside them, laid out as on screen. Null when the card holds no drawable chart. */
export function captureCard(card: HTMLElement, title?: string): SvgScene | null {
  const raw: { el: Element; r: DOMRect; kind: 'svg' | 'legend' }[] = [];
  for (const svg of card.querySelectorAll('svg')) {
    if (svg.closest('[data-export-ignore]') || svg.parentElement?.closest('svg, button, .recharts-legend-wrapper')) continue;
    const r = svg.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) raw.push({ el: svg, r, kind: 'svg' });
  }
  if (raw.length === 0) return null;
  // HTML text that belongs to the picture: recharts' legend entries and panel captions.
  for (const li of card.querySelectorAll('.recharts-legend-item, [data-export-label]')) {
    if (li.closest('[data-export-ignore]')) continue;
    const r = li.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) raw.push({ el: li, r, kind: 'legend' });
  }
  const pad = 8;
  const x0 = Math.min(...raw.map((o) => o.r.left)) - pad;
  const y0 = Math.min(...raw.map((o) => o.r.top)) - pad;
  const x1 = Math.max(...raw.map((o) => o.r.right)) + pad;
  const y1 = Math.max(...raw.map((o) => o.r.bottom)) + pad;
  const items: SceneItem[] = [];
  for (const o of raw) {
    if (o.kind === 'svg') {
      items.push({ kind: 'svg', node: o.el, x: o.r.left - x0, y: o.r.top - y0, width: o.r.width, height: o.r.height });
      continue;
    }
    const icon = o.el.matches('[data-export-label]') ? null : o.el.querySelector('svg');
    if (icon) {
      const ir = icon.getBoundingClientRect();
      items.push({ kind: 'svg', node: icon, x: ir.left - x0, y: ir.top - y0, width: ir.width, height: ir.height });
    }
    const label = o.el.querySelector('.recharts-legend-item-text') ?? o.el;
    const lr = label.getBoundingClientRect();
    const cs = getComputedStyle(label);
    items.push({
      kind: 'text',
      x: lr.left - x0,
      y: lr.top + lr.height / 2 - y0,
      text: (label.textContent ?? '').trim(),
      style: { fill: cs.color, 'font-family': cs.fontFamily, 'font-size': cs.fontSize, 'font-weight': cs.fontWeight },
    });
  }
  return {
    width: x1 - x0,
    height: y1 - y0,
    title,
    background: backgroundBehind(card),
    items,
    styleOf: computedStyleOf,
  };
}

/** Rasterise an SVG document at `scale`× its size (crisp on high-DPI screens and slides). */
export async function svgToPng(svg: string, width: number, height: number, scale = 2): Promise<Blob> {
  const img = new Image();
  img.decoding = 'sync';
  // A data: URL (not a blob: URL) keeps the canvas untainted in every browser.
  const loaded = new Promise<void>((resolve, reject) => {
    img.onload = () => resolve();
    img.onerror = () => reject(new Error('PNG export: the browser could not render the chart SVG'));
  });
  img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svg);
  await loaded;
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('PNG export: no 2D canvas context');
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  return new Promise<Blob>((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG export: canvas.toBlob returned nothing'))), 'image/png'),
  );
}

/** A file name safe on every OS: letters, digits, '.', '_' and '-' only. */
export function safeFilename(base: string, ext: string): string {
  const stem = base.trim().replace(/[^\w.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '') || 'chart';
  return `${stem}.${ext.replace(/^\./, '')}`;
}

export const MIME = {
  csv: 'text/csv;charset=utf-8',
  json: 'application/json',
  svg: 'image/svg+xml',
  png: 'image/png',
} as const;

/** Save data as a file via a temporary <a download>. */
export function download(data: Blob | string, filename: string, mime = 'application/octet-stream'): void {
  const blob = typeof data === 'string' ? new Blob([data], { type: mime }) : data;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a); // Firefox only follows links that are in the document
  a.click();
  a.remove();
  // Revoking at once can cancel the download in some browsers; a large zip needs longer.
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}
