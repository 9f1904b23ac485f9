import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceDot, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import { lossCurvesModel } from './data';
import { fmt, logTicks10 } from './format';
import { ChartFrame, EmptyChart, Note } from './Frame';
import { FG, X_AXIS_HEIGHT, axisProps, gridProps, legendInOrder, seriesColor, xLabel, yLabel } from './theme';
import { entryColor, seriesTooltip } from './Tooltip';
import type { RunSeries } from './types';

const tooltip = seriesTooltip(
  (label) => `step ${label}`,
  (e) => (typeof e.value === 'number' ? { color: entryColor(e), text: `${e.name}${String(e.dataKey).endsWith('_val') ? ' (val)' : ''}: ${fmt(e.value)}` } : null),
);

/** Training (thin) and validation (bold, dotted) curves of several runs, overlaid; a marked,
 *  labelled point where a run diverged. */
export function LossCurves(p: { runs: RunSeries[]; logScale: boolean; metric: 'loss' | 'accuracy' }) {
  const model = useMemo(() => lossCurvesModel(p.runs, p.metric, p.logScale), [p.runs, p.metric, p.logScale]);
  const what = p.metric === 'loss' ? 'loss' : 'accuracy';
  if (model.rows.length === 0) return <EmptyChart text={`No ${what} values yet: start a run to see its curves.`} />;
  const log = p.logScale && model.logDomain !== null;
  const midStep = ((model.rows[0].step as number) + (model.rows[model.rows.length - 1].step as number)) / 2;
  return (
    <div>
      <ChartFrame summary={model.summary}>
        <LineChart data={model.rows} margin={{ top: 20, right: 24, bottom: 4, left: 4 }} accessibilityLayer={false}>
          <CartesianGrid {...gridProps} />
          <XAxis
            dataKey="step"
            type="number"
            domain={['dataMin', 'dataMax']}
            allowDecimals={false}
            {...axisProps}
            height={X_AXIS_HEIGHT} label={xLabel('step')}
          />
          <YAxis
            type="number"
            scale={log ? 'log' : 'auto'}
            domain={log ? model.logDomain! : ['auto', 'auto']}
            ticks={log ? logTicks10(...model.logDomain!) : undefined}
            allowDataOverflow={log}
            tickFormatter={(v: number) => fmt(v)}
            width={56}
            {...axisProps}
            label={yLabel(p.metric === 'loss' ? 'loss' : 'accuracy')}
          />
          <Tooltip content={tooltip} isAnimationActive={false} />
          <Legend {...legendInOrder(model.series.map((s) => s.key))} />
          {model.series.map((s) => {
            const thin = s.kind === 'train';
            return (
              <Line
                key={s.key}
                dataKey={s.key}
                name={s.name}
                type="linear"
                stroke={seriesColor(s.run)}
                strokeWidth={thin ? 1 : 2.5}
                strokeOpacity={thin ? 0.7 : 1}
                dot={thin ? false : { r: 2.5, strokeWidth: 0, fill: seriesColor(s.run) }}
                activeDot={{ r: thin ? 3 : 4 }}
                connectNulls
                // One legend entry per run: the bold line carries the run's name.
                legendType={thin && p.metric === 'loss' ? 'none' : 'line'}
                isAnimationActive={false}
              />
            );
          })}
          {model.markers.map((m) =>
            m.y !== null ? (
              <ReferenceDot
                key={`d${m.run}`}
                x={m.step}
                y={m.y}
                r={5}
                fill={seriesColor(m.run)}
                stroke={FG}
                strokeWidth={1.5}
                ifOverflow="extendDomain"
                // Label towards the middle of the plot so it is not clipped at either edge.
                label={{ value: m.label, position: m.step > midStep ? 'left' : 'right', fill: FG, fontSize: 11 }}
              />
            ) : (
              <ReferenceLine
                key={`d${m.run}`}
                x={m.step}
                stroke={seriesColor(m.run)}
                strokeDasharray="4 3"
                ifOverflow="extendDomain"
                label={{ value: m.label, position: m.step > midStep ? 'insideTopRight' : 'insideTopLeft', fill: FG, fontSize: 11 }}
              />
            ),
          )}
        </LineChart>
      </ChartFrame>
      <Note>
        {p.metric === 'loss' ? 'Thin lines: training loss; bold with dots: validation loss.' : 'Validation accuracy per run.'}
        {model.hidden > 0 && ` ${model.hidden} value${model.hidden === 1 ? ' is' : 's are'} ≤ 0 and not shown on the log axis.`}
      </Note>
      {model.markers.map((m) => (
        <Note key={`n${m.run}`}>
          <span style={{ color: seriesColor(m.run) }}>●</span> {m.name} {m.text}
        </Note>
      ))}
    </div>
  );
}
