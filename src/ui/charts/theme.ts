// Colours come from CSS variables the app may define (--fg, --muted, --grid, --series-1..8).
// Every fallback works on light and dark pages alike: text follows the surrounding colour
// (currentColor), muted/grid are mixes of it, and the series palette is mid-luminance so it
// reads on either background. Nothing paints a white background.
import type { CSSProperties } from 'react';
import { fmt, fmtPow2, logTicks10, logTicks2 } from './format';

export const FG = 'var(--fg, currentColor)';
export const MUTED = 'var(--muted, color-mix(in srgb, currentColor 62%, transparent))';
export const GRID = 'var(--grid, color-mix(in srgb, currentColor 16%, transparent))';
/** Canvas is the page background of the active colour scheme (a CSS system colour). */
export const BG = 'var(--bg, Canvas)';

// Mid-luminance palette (Tableau-like, slightly brightened) legible on white and near-black.
const SERIES_FALLBACKS = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#17becf', '#edc948', '#9c755f'];

/** Colour of series i (wraps after 8). */
export function seriesColor(i: number): string {
  const k = ((i % 8) + 8) % 8;
  return `var(--series-${k + 1}, ${SERIES_FALLBACKS[k]})`;
}

export const CHART_HEIGHT = 300;
export const FONT_SIZE = 12;

export const axisProps = {
  stroke: MUTED,
  tick: { fill: MUTED, fontSize: FONT_SIZE },
  tickLine: { stroke: MUTED },
} as const;

export const gridProps = { stroke: GRID, strokeDasharray: '3 3' } as const;

export const tooltipProps = {
  isAnimationActive: false,
  contentStyle: { background: BG, color: FG, border: `1px solid ${GRID}`, borderRadius: 4, fontSize: FONT_SIZE } as CSSProperties,
  labelStyle: { color: FG } as CSSProperties,
  itemStyle: { color: FG } as CSSProperties,
} as const;

export const legendProps = { wrapperStyle: { fontSize: FONT_SIZE, color: FG, paddingTop: 2 } as CSSProperties } as const;

/** Legend props listing series in the given dataKey order (recharts sorts by name otherwise,
 *  which puts "m = 256" before "m = 64"). */
export function legendInOrder(keys: readonly string[]) {
  return {
    ...legendProps,
    itemSorter: (item: { dataKey?: unknown }) => {
      const i = keys.indexOf(String(item.dataKey));
      return i < 0 ? keys.length : i;
    },
  };
}

/** Height reserved under the plot for tick labels plus the axis title. */
export const X_AXIS_HEIGHT = 40;

/** An x-axis title that sits below the tick labels (clear of the legend). */
export function xLabel(value: string) {
  return { value, position: 'insideBottom' as const, offset: 0, fill: MUTED, fontSize: FONT_SIZE };
}

/** A y-axis title, rotated, left of the tick labels. */
export function yLabel(value: string) {
  return { value, angle: -90, position: 'insideLeft' as const, fill: MUTED, fontSize: FONT_SIZE, style: { textAnchor: 'middle' as const } };
}

/** Hidden from sight but read by screen readers (for table fallbacks and notes). */
export const visuallyHidden: CSSProperties = {
  position: 'absolute',
  width: 1,
  height: 1,
  padding: 0,
  margin: -1,
  overflow: 'hidden',
  clip: 'rect(0 0 0 0)',
  whiteSpace: 'nowrap',
  border: 0,
};

export const noteStyle: CSSProperties = { color: MUTED, fontSize: FONT_SIZE, margin: '4px 0 0' };

/** XAxis props for prefix lengths on a log scale, ticks at powers of two. */
export function log2XAxis(dataKey: string, lo: number, hi: number, title: string) {
  return {
    dataKey, type: 'number' as const, scale: 'log' as const, domain: [lo, hi], ticks: logTicks2(lo, hi), allowDataOverflow: true,
    tickFormatter: (v: number) => fmtPow2(v), ...axisProps, height: X_AXIS_HEIGHT, label: xLabel(title),
  };
}

/** YAxis props for a log scale, ticks at powers of ten. */
export function log10YAxis(lo: number, hi: number, title: string, width: number) {
  return {
    type: 'number' as const, scale: 'log' as const, domain: [lo, hi], ticks: logTicks10(lo, hi), allowDataOverflow: true,
    tickFormatter: (v: number) => fmt(v), width, ...axisProps, label: yLabel(title),
  };
}
