import { useId, useRef, useState, type CSSProperties, type ReactNode } from 'react';
import { captureCard, download, MIME, safeFilename, serializeSvg, svgToPng, toCsv, toJson } from './export';
import { FG, GRID, MUTED } from './theme';
import type { ExportRow } from './types';

type Kind = 'png' | 'svg' | 'csv' | 'json';
const KINDS: Kind[] = ['png', 'svg', 'csv', 'json'];

const cardStyle: CSSProperties = {
  border: `1px solid ${GRID}`,
  borderRadius: 8,
  padding: '12px 14px',
  color: FG,
  minWidth: 0, // lets ResponsiveContainer shrink inside grid/flex layouts
};
const headStyle: CSSProperties = { display: 'flex', flexWrap: 'wrap', alignItems: 'baseline', gap: 8, justifyContent: 'space-between' };
const buttonStyle: CSSProperties = {
  font: 'inherit',
  fontSize: 12,
  padding: '2px 8px',
  color: FG,
  background: 'transparent',
  border: `1px solid ${GRID}`,
  borderRadius: 4,
  cursor: 'pointer',
};

/** A titled chart panel (an ARIA region named by its title) with PNG/SVG/CSV/JSON export. */
export function ChartCard(p: { title: string; description?: string; filename: string; rows: ExportRow[]; children: ReactNode }) {
  const ref = useRef<HTMLElement>(null);
  const headingId = useId();
  const descId = useId();
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);

  async function exportAs(kind: Kind): Promise<void> {
    const name = safeFilename(p.filename, kind);
    try {
      setBusy(true);
      if (kind === 'csv') download(toCsv(p.rows), name, MIME.csv);
      else if (kind === 'json') download(toJson(p.rows), name, MIME.json);
      else {
        const scene = ref.current ? captureCard(ref.current, p.title) : null;
        if (!scene) throw new Error('there is no chart drawn yet');
        const svg = serializeSvg(scene);
        if (kind === 'svg') download(svg, name, MIME.svg);
        else download(await svgToPng(svg, scene.width, scene.height, 2), name, MIME.png);
      }
      setStatus(`Saved ${name}`);
    } catch (e) {
      setStatus(`Export failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(false);
    }
  }

  const noRows = p.rows.length === 0;
  return (
    <section ref={ref} aria-labelledby={headingId} aria-describedby={p.description ? descId : undefined} style={cardStyle} className="chart-card">
      <div style={headStyle}>
        <h3 id={headingId} style={{ margin: 0, fontSize: '1rem' }}>
          {p.title}
        </h3>
        <div role="group" aria-label={`Export ${p.title}`} data-export-ignore="" style={{ display: 'flex', gap: 4, flexWrap: 'wrap' }}>
          {KINDS.map((k) => {
            const disabled = busy || ((k === 'csv' || k === 'json') && noRows);
            return (
              <button
                key={k}
                type="button"
                style={{ ...buttonStyle, opacity: disabled ? 0.5 : 1 }}
                aria-label={`Export ${p.title} as ${k.toUpperCase()}`}
                title={noRows && (k === 'csv' || k === 'json') ? 'No data to export yet' : undefined}
                disabled={disabled}
                onClick={() => void exportAs(k)}
              >
                Export {k.toUpperCase()}
              </button>
            );
          })}
        </div>
      </div>
      {p.description && (
        <p id={descId} style={{ margin: '4px 0 8px', color: MUTED, fontSize: 13 }}>
          {p.description}
        </p>
      )}
      <div className="chart-card-body">{p.children}</div>
      <p role="status" aria-live="polite" data-export-ignore="" style={{ margin: status ? '4px 0 0' : 0, color: MUTED, fontSize: 12 }}>
        {status}
      </p>
    </section>
  );
}
