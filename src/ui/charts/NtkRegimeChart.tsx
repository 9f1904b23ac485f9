import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { regimeModel } from './data';
import { fmt } from './format';
import { ChartFrame, EmptyChart, Note } from './Frame';
import { axisProps, gridProps, legendInOrder, log10YAxis, log2XAxis, MUTED, seriesColor, X_AXIS_HEIGHT, xLabel, yLabel } from './theme';
import { entryColor, seriesTooltip } from './Tooltip';

type Curve = { m: number; scaling: 'ntk' | 'naive'; points: { step: number; loss: number }[] };
type Movement = { m: number; scaling: 'ntk' | 'naive'; relMove: number };

const PANEL_HEIGHT = 280;
const NAIVE_DASH = '5 3';

const lossTooltip = seriesTooltip(
  (label) => `step ${label}`,
  (e) => (typeof e.value === 'number' ? { color: entryColor(e), text: `${e.name}: ${fmt(e.value)}` } : null),
);
const moveTooltip = seriesTooltip(
  (label) => `m = ${label}`,
  (e) => (typeof e.value === 'number' ? { color: entryColor(e), text: `${e.name}: ${fmt(e.value)}` } : null),
);

/** The lazy-training (NTK) regime: loss curves for several widths m (colour by m, dashed for
 *  naive scaling) and how far the parameters move relative to their initial size, against
 *  m on log-log axes with fitted slopes. */
export function NtkRegimeChart(p: { curves: Curve[]; movement: Movement[] }) {
  const model = useMemo(() => regimeModel(p.curves, p.movement), [p.curves, p.movement]);
  const mx = model.moveXDomain;
  const my = model.moveYDomain;
  return (
    <div>
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: 12 }}>
        <div style={{ flex: '3 1 340px', minWidth: 0 }}>
          <div style={{ fontSize: 13, color: MUTED, margin: '0 0 2px 8px' }} aria-hidden="true" data-export-label="">
            Training loss by m
          </div>
          {model.rows.length === 0 ? (
            <EmptyChart height={PANEL_HEIGHT} text="No NTK-regime loss curves yet." />
          ) : (
            <ChartFrame summary={model.lossSummary} height={PANEL_HEIGHT}>
              <LineChart data={model.rows} margin={{ top: 8, right: 20, bottom: 4, left: 4 }} accessibilityLayer={false}>
                <CartesianGrid {...gridProps} />
                <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} {...axisProps} height={X_AXIS_HEIGHT} label={xLabel('step')} />
                <YAxis type="number" domain={['auto', 'auto']} tickFormatter={(v: number) => fmt(v)} width={52} {...axisProps} label={yLabel('loss')} />
                <Tooltip content={lossTooltip} isAnimationActive={false} />
                <Legend {...legendInOrder([...model.curves].sort((a, b) => a.m - b.m || (a.scaling === 'ntk' ? -1 : 1)).map((c) => c.key))} />
                {model.curves.map((c) => (
                  <Line
                    key={c.key}
                    dataKey={c.key}
                    name={c.name}
                    stroke={seriesColor(c.colour)}
                    strokeWidth={1.75}
                    strokeDasharray={c.scaling === 'naive' ? NAIVE_DASH : undefined}
                    dot={false}
                    connectNulls
                    legendType="plainline"
                    isAnimationActive={false}
                  />
                ))}
              </LineChart>
            </ChartFrame>
          )}
        </div>
        <div style={{ flex: '2 1 260px', minWidth: 0 }}>
          <div style={{ fontSize: 13, color: MUTED, margin: '0 0 2px 8px' }} aria-hidden="true" data-export-label="">
            Relative parameter movement vs m
          </div>
          {!mx || !my ? (
            <EmptyChart height={PANEL_HEIGHT} text="No parameter-movement measurements yet." />
          ) : (
            <ChartFrame summary={model.moveSummary} height={PANEL_HEIGHT}>
              <LineChart data={model.moveRows} margin={{ top: 8, right: 20, bottom: 4, left: 4 }} accessibilityLayer={false}>
                <CartesianGrid {...gridProps} />
                <XAxis {...log2XAxis('m', ...mx, 'm (log)')} />
                <YAxis {...log10YAxis(...my, '‖Δθ‖ / ‖θ₀‖ (log)', 56)} />
                <Tooltip content={moveTooltip} isAnimationActive={false} />
                <Legend {...legendInOrder(['ntk', 'naive'])} />
                {model.moveSeries.map((s) => (
                  <Line
                    key={s.key}
                    dataKey={s.key}
                    name={s.name}
                    stroke={s.key === 'ntk' ? seriesColor(0) : seriesColor(3)}
                    strokeWidth={2}
                    strokeDasharray={s.key === 'naive' ? NAIVE_DASH : undefined}
                    dot={{ r: 3, strokeWidth: 0, fill: s.key === 'ntk' ? seriesColor(0) : seriesColor(3) }}
                    connectNulls
                    isAnimationActive={false}
                  />
                ))}
              </LineChart>
            </ChartFrame>
          )}
        </div>
      </div>
      <Note>Solid: NTK scaling; dashed: naive scaling. Slopes are least-squares fits on log-log.</Note>
    </div>
  );
}
