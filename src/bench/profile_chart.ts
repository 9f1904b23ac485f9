// The per-kernel profile as an SVG chart: one horizontal bar per model, its length the
// step's total kernel time, split into the kernels' shares. Pure (data in, SVG text out) so
// that profile.bench.ts and scripts/profile-chart.ts (which redraws it from
// bench-results/profile.json) draw the same picture.

export interface ProfileBar {
  label: string;
  /** Kernel name → GPU ms in one training step. */
  kernels: Record<string, number>;
}

/** The chart's title for a profile taken by `source`, each kernel the median of `repeats`. */
export const profileTitle = (source: string, repeats: number) => `GPU ms per training step by kernel (${source}, median of ${repeats})`;

const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The `top` kernels by total time over all bars get colours; the rest are "other". */
export function profileSvg(bars: ProfileBar[], title: string, top = 9): string {
  const totals = new Map<string, number>();
  for (const b of bars) for (const [k, ms] of Object.entries(b.kernels)) totals.set(k, (totals.get(k) ?? 0) + ms);
  const named = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k]) => k);
  const keys = [...named, 'other'];
  const colour = (k: string) => PALETTE[keys.indexOf(k) % PALETTE.length];
  const maxMs = Math.max(...bars.map((b) => Object.values(b.kernels).reduce((a, x) => a + x, 0)), 1e-9);

  const left = 150;
  const width = 560;
  const barH = 24;
  const gap = 10;
  const top0 = 40;
  const legendTop = top0 + bars.length * (barH + gap) + 20;
  const legendRows = Math.ceil(keys.length / 3);
  const height = legendTop + legendRows * 18 + 20;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 90}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  bars.forEach((b, i) => {
    const y = top0 + i * (barH + gap);
    out.push(`<text x="${left - 8}" y="${y + barH / 2 + 4}" text-anchor="end">${esc(b.label)}</text>`);
    let x = left;
    const total = Object.values(b.kernels).reduce((a, v) => a + v, 0);
    const other = Object.entries(b.kernels).filter(([k]) => !named.includes(k)).reduce((a, [, v]) => a + v, 0);
    for (const k of keys) {
      const ms = k === 'other' ? other : (b.kernels[k] ?? 0);
      if (ms <= 0) continue;
      const w = (ms / maxMs) * width;
      out.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${colour(k)}"><title>${esc(k)}: ${ms.toFixed(2)} ms (${((100 * ms) / total).toFixed(1)}%)</title></rect>`);
      if (w > 34) out.push(`<text x="${(x + w / 2).toFixed(1)}" y="${y + barH / 2 + 4}" text-anchor="middle" fill="white" font-size="10">${((100 * ms) / total).toFixed(0)}%</text>`);
      x += w;
    }
    out.push(`<text x="${(x + 6).toFixed(1)}" y="${y + barH / 2 + 4}">${total.toFixed(1)} ms</text>`);
  });
  keys.forEach((k, i) => {
    const x = 10 + (i % 3) * 240;
    const y = legendTop + Math.floor(i / 3) * 18;
    out.push(`<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${colour(k)}"/><text x="${x + 18}" y="${y}">${esc(k)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
