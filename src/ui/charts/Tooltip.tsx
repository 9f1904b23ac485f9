import type { CSSProperties, ReactNode } from 'react';
import type { TooltipContentProps, TooltipPayloadEntry, TooltipValueType } from 'recharts';
import { BG, FG, GRID, MUTED } from './theme';

const box: CSSProperties = {
  background: BG,
  color: FG,
  border: `1px solid ${GRID}`,
  borderRadius: 4,
  padding: '6px 8px',
  fontSize: 12,
  lineHeight: 1.4,
  maxWidth: 320,
};

export interface TooltipLine {
  text: ReactNode;
  color?: string;
  muted?: boolean;
}

/** The tooltip panel all charts share (themed; never a hard-coded white box). */
export function TooltipBox(p: { title: ReactNode; lines: TooltipLine[] }) {
  return (
    <div style={box}>
      <div style={{ fontWeight: 600, marginBottom: 2 }}>{p.title}</div>
      {p.lines.map((l, i) => (
        <div key={i} style={{ color: l.muted ? MUTED : FG, display: 'flex', gap: 6, alignItems: 'center' }}>
          {l.color && <span aria-hidden="true" style={{ width: 10, height: 3, background: l.color, flex: 'none' }} />}
          <span>{l.text}</span>
        </div>
      ))}
    </div>
  );
}

/** A Tooltip `content` renderer listing every numeric entry under a title. `describe` turns an
 *  entry into its line (return null to leave it out, e.g. range bands). */
export function seriesTooltip(
  title: (label: string | number | undefined) => ReactNode,
  describe: (e: TooltipPayloadEntry) => TooltipLine | null,
  extra?: (payload: readonly TooltipPayloadEntry[]) => TooltipLine[],
) {
  return function SeriesTooltip(props: TooltipContentProps<TooltipValueType, string | number>) {
    if (!props.active || !props.payload || props.payload.length === 0) return null;
    const lines: TooltipLine[] = [];
    for (const e of props.payload) {
      const l = describe(e);
      if (l) lines.push(l);
    }
    if (extra) lines.push(...extra(props.payload));
    if (lines.length === 0) return null;
    return <TooltipBox title={title(props.label)} lines={lines} />;
  };
}

/** The colour a payload entry is drawn with (lines use stroke, areas/dots fill). */
export function entryColor(e: TooltipPayloadEntry): string | undefined {
  return (typeof e.stroke === 'string' && e.stroke !== 'none' ? e.stroke : undefined) ?? e.color ?? (typeof e.fill === 'string' ? e.fill : undefined);
}
