import { useId, useMemo } from 'react';
import { heatmapModel, pct } from './data';
import { Note } from './Frame';
import { FG, GRID, MUTED, seriesColor, visuallyHidden } from './theme';

// Geometry in SVG user units; the SVG scales to its container (viewBox), capped so a small
// model does not blow up into huge cells.
const CELL = 26;
const LEFT = 64;
const TOP = 22;
const LEGEND_GAP = 18;
const LEGEND_H = 10;
const BOTTOM = 40;
const RAMP = seriesColor(0);

/** Share of attention that goes to the prefix (or its NTK-Attention stand-in), per layer
 *  (rows) and head (columns), on a 0…1 scale: cell opacity of one theme colour, so it reads
 *  on light and dark backgrounds. Exact values are in each cell's title and in a table for
 *  screen readers. */
export function PrefixMassHeatmap(p: { layers: number; heads: number; mass: number[][]; m: number | null; label?: string }) {
  const model = useMemo(() => heatmapModel(p.layers, p.heads, p.mass, p.m, p.label), [p.layers, p.heads, p.mass, p.m, p.label]);
  const gradId = `pm-grad-${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`;
  if (model.error) {
    return (
      <p role="alert" style={{ color: FG }}>
        Cannot draw the attention-share heatmap: {model.error}.
      </p>
    );
  }
  const { layers, heads } = p;
  const gridW = heads * CELL;
  const width = LEFT + gridW + 12;
  const legendY = TOP + layers * CELL + LEGEND_GAP;
  const height = legendY + LEGEND_H + BOTTOM - 16;
  const who = p.label ?? (p.m === null ? 'NTK-Attention' : `prefix, m = ${p.m}`);
  return (
    <div style={{ position: 'relative' }}>
      <svg
        role="img"
        aria-label={model.summary}
        viewBox={`0 0 ${width} ${height}`}
        width="100%"
        style={{ display: 'block', maxWidth: width * 1.6, height: 'auto', fontSize: 11 }}
        fontFamily="system-ui, sans-serif"
      >
        <title>{model.summary}</title>
        <defs>
          <linearGradient id={gradId} x1="0" x2="1" y1="0" y2="0">
            <stop offset="0" stopColor={RAMP} stopOpacity={0} />
            <stop offset="1" stopColor={RAMP} stopOpacity={1} />
          </linearGradient>
        </defs>
        {/* column (head) labels */}
        {Array.from({ length: heads }, (_, h) => (
          <text key={`h${h}`} x={LEFT + h * CELL + CELL / 2} y={TOP - 7} textAnchor="middle" fill={MUTED} fontSize={10}>
            {`H${h}`}
          </text>
        ))}
        {model.cells.map((row, l) => (
          <g key={`l${l}`}>
            <text x={LEFT - 6} y={TOP + l * CELL + CELL / 2} textAnchor="end" dominantBaseline="central" fill={MUTED} fontSize={10}>
              {`layer ${l}`}
            </text>
            {row.map((v, h) => (
              <rect
                key={h}
                x={LEFT + h * CELL}
                y={TOP + l * CELL}
                width={CELL}
                height={CELL}
                fill={v === null ? 'none' : RAMP}
                fillOpacity={v === null ? undefined : Math.min(1, Math.max(0, v))}
                stroke={GRID}
                strokeWidth={1}
                strokeDasharray={v === null ? '2 2' : undefined}
              >
                <title>{`layer ${l}, head ${h}: ${v === null ? 'no value' : `${pct(v)} (${v.toFixed(4)})`}`}</title>
              </rect>
            ))}
          </g>
        ))}
        {/* colour legend: 0 … 1 */}
        <rect x={LEFT} y={legendY} width={gridW} height={LEGEND_H} fill={`url(#${gradId})`} stroke={GRID} />
        {[0, 0.5, 1].map((t) => (
          <text key={t} x={LEFT + t * gridW} y={legendY + LEGEND_H + 12} textAnchor={t === 0 ? 'start' : t === 1 ? 'end' : 'middle'} fill={MUTED} fontSize={10}>
            {t === 0 ? '0' : t === 1 ? '1' : '0.5'}
          </text>
        ))}
        <text x={LEFT - 6} y={legendY + LEGEND_H / 2} textAnchor="end" dominantBaseline="central" fill={MUTED} fontSize={10}>
          share
        </text>
      </svg>
      {/* The wrapper does the hiding: a table ignores width: 1px and would widen the page. */}
      <div style={visuallyHidden}>
        <table>
          <caption>{`Share of attention taken by the ${who}, by layer and head`}</caption>
          <thead>
            <tr>
              <th scope="col">layer</th>
              {Array.from({ length: heads }, (_, h) => (
                <th key={h} scope="col">{`head ${h}`}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {model.cells.map((row, l) => (
              <tr key={l}>
                <th scope="row">{`layer ${l}`}</th>
                {row.map((v, h) => (
                  <td key={h}>{pct(v)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Note>Share of each head's attention that goes to the {who} (0 = none, 1 = all). Hover a cell for its value.</Note>
    </div>
  );
}
