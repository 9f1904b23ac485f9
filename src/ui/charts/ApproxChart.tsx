import { useMemo } from 'react';
import { Area, CartesianGrid, ComposedChart, Legend, Line, Tooltip, XAxis, YAxis } from 'recharts';
import { approxModel } from './data';
import { fmt } from './format';
import { ChartFrame, EmptyChart, Note } from './Frame';
import { gridProps, legendInOrder, log10YAxis, log2XAxis, seriesColor } from './theme';
import { entryColor, seriesTooltip } from './Tooltip';

type ApproxPoint = { m: number; method: string; map: string; rel: number | null; maxAbs: number | null; seed: number };

/** Approximation error of NTK-Attention (or any stand-in) against the prefix length m, on
 *  log-log axes: one series per (method, feature map), the mean over seeds with a min–max
 *  band, and the least-squares power-law slope in the legend. */
export function ApproxChart(p: { points: ApproxPoint[]; metric: 'rel' | 'maxAbs' }) {
  const model = useMemo(() => approxModel(p.points, p.metric), [p.points, p.metric]);
  const what = p.metric === 'rel' ? 'relative error' : 'max abs error';
  const tooltip = useMemo(
    () =>
      seriesTooltip(
        (label) => `m = ${label}`,
        (e) => {
          const key = String(e.dataKey);
          if (!key.endsWith('_mean') || typeof e.value !== 'number') return null;
          const s = key.slice(0, -5);
          const band = e.payload?.[`${s}_band`] as [number, number] | undefined;
          const n = e.payload?.[`${s}_n`] as number | undefined;
          const spread = band && n && n > 1 ? ` (min ${fmt(band[0])}, max ${fmt(band[1])}, ${n} seeds)` : n === 1 ? ' (1 seed)' : '';
          return { color: entryColor(e), text: `${e.name}: ${fmt(e.value)}${spread}` };
        },
      ),
    [],
  );
  if (model.rows.length === 0 || !model.xDomain || !model.yDomain) return <EmptyChart text={`No ${what} measurements yet.`} />;
  const [xlo, xhi] = model.xDomain;
  const [ylo, yhi] = model.yDomain;
  return (
    <div>
      <ChartFrame summary={model.summary}>
        <ComposedChart data={model.rows} margin={{ top: 12, right: 24, bottom: 4, left: 4 }} accessibilityLayer={false}>
          <CartesianGrid {...gridProps} />
          <XAxis {...log2XAxis('m', xlo, xhi, 'prefix length m (log)')} />
          <YAxis {...log10YAxis(ylo, yhi, `${what} (log)`, 60)} />
          <Tooltip content={tooltip} isAnimationActive={false} />
          <Legend {...legendInOrder(model.series.map((s) => `${s.key}_mean`))} />
          {model.series.map((s, i) => (
            <Area
              key={`${s.key}_band`}
              dataKey={`${s.key}_band`}
              name={`${s.name} min–max`}
              type="linear"
              stroke="none"
              fill={seriesColor(i)}
              fillOpacity={0.16}
              connectNulls
              legendType="none"
              activeDot={false}
              isAnimationActive={false}
            />
          ))}
          {model.series.map((s, i) => (
            <Line
              key={`${s.key}_mean`}
              dataKey={`${s.key}_mean`}
              name={s.name}
              type="linear"
              stroke={seriesColor(i)}
              strokeWidth={2}
              dot={{ r: 3, strokeWidth: 0, fill: seriesColor(i) }}
              connectNulls
              isAnimationActive={false}
            />
          ))}
        </ComposedChart>
      </ChartFrame>
      <Note>
        Lines: mean over seeds; bands: min to max. Slopes are least-squares fits of log {what} on log m over all seeds.
        {model.hidden > 0 && ` ${model.hidden} measurement${model.hidden === 1 ? ' is' : 's are'} missing, zero or at m = 0 and not shown.`}
      </Note>
    </div>
  );
}
