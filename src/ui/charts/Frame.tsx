import type { ReactElement, ReactNode } from 'react';
import { ResponsiveContainer } from 'recharts';
import { CHART_HEIGHT, GRID, MUTED, noteStyle } from './theme';

/** A responsive chart exposed to assistive technology as one image named by its summary
 *  (the numbers themselves are in the card's CSV/JSON export). */
export function ChartFrame(p: { summary: string; height?: number; children: ReactElement }) {
  return (
    // overflow: hidden keeps long labels near an edge from widening the page on small screens.
    <div role="img" aria-label={p.summary} style={{ width: '100%', minWidth: 0, overflow: 'hidden' }}>
      <ResponsiveContainer width="100%" height={p.height ?? CHART_HEIGHT} minWidth={0} initialDimension={{ width: 480, height: p.height ?? CHART_HEIGHT }}>
        {p.children}
      </ResponsiveContainer>
    </div>
  );
}

/** Placeholder with the chart's footprint, so layouts do not jump when data arrives. */
export function EmptyChart(p: { text: string; height?: number }) {
  return (
    <div
      role="img"
      aria-label={p.text}
      style={{
        height: p.height ?? CHART_HEIGHT,
        display: 'flex',
        alignItems: 'center',
        justifyContent: 'center',
        border: `1px dashed ${GRID}`,
        borderRadius: 4,
        color: MUTED,
        fontSize: 13,
        textAlign: 'center',
        padding: 8,
      }}
    >
      {p.text}
    </div>
  );
}

export function Note(p: { children: ReactNode }) {
  return <p style={noteStyle}>{p.children}</p>;
}
