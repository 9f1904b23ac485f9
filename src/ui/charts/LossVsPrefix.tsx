import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { lossVsPrefixModel, paramsText } from './data';
import { fmt } from './format';
import { ChartFrame, EmptyChart, Note } from './Frame';
import { axisProps, gridProps, legendInOrder, log2XAxis, seriesColor, yLabel } from './theme';
import { entryColor, seriesTooltip } from './Tooltip';

// Reference lines get distinct dash patterns as well as colours (legible without colour).
const DASHES = ['6 3', '2 3', '8 3 2 3', '4 4', '1 3'];

/** Final validation loss of prefix tuning against prefix length m (log2 axis), with flat
 *  reference lines for the other methods (NTK-Attention, LoRA, full fine-tuning, base). */
export function LossVsPrefix(p: { points: { m: number; valLoss: number; params: number }[]; refs: { label: string; valLoss: number; params: number }[] }) {
  const model = useMemo(() => lossVsPrefixModel(p.points, p.refs), [p.points, p.refs]);
  const tooltip = useMemo(() => {
    const paramsByKey = new Map<string, number>(model.refs.map((r) => [r.key, r.params]));
    const labelByKey = new Map<string, string>(model.refs.map((r) => [r.key, r.label]));
    const prefixParams = new Map<number, number>(model.prefix.map((q) => [q.m, q.params]));
    return seriesTooltip(
      (label) => `m = ${label}`,
      (e) => {
        if (typeof e.value !== 'number') return null;
        const key = String(e.dataKey);
        const params = key === 'prefix' ? prefixParams.get(Number(e.payload?.m)) : paramsByKey.get(key);
        const name = labelByKey.get(key) ?? e.name; // the legend name repeats the value
        return { color: entryColor(e), text: `${name}: ${fmt(e.value)}${params !== undefined ? ` (${paramsText(params)})` : ''}` };
      },
    );
  }, [model]);

  if (model.rows.length === 0) {
    return (
      <div>
        <EmptyChart text={model.refs.length ? 'No prefix-tuning runs with m > 0 yet.' : 'No final validation losses yet.'} />
        {model.note && <Note>{model.note}</Note>}
      </div>
    );
  }
  const [lo, hi] = model.xDomain!;
  return (
    <div>
      <ChartFrame summary={model.summary}>
        <LineChart data={model.rows} margin={{ top: 12, right: 24, bottom: 4, left: 4 }} accessibilityLayer={false}>
          <CartesianGrid {...gridProps} />
          <XAxis {...log2XAxis('m', lo, hi, 'prefix length m (log2)')} />
          <YAxis
            type="number"
            domain={['auto', 'auto']}
            tickFormatter={(v: number) => fmt(v)}
            width={56}
            {...axisProps}
            label={yLabel('final val loss')}
          />
          <Tooltip content={tooltip} isAnimationActive={false} />
          <Legend {...legendInOrder(['prefix', ...model.refs.map((r) => r.key)])} />
          <Line
            dataKey="prefix"
            name="prefix tuning"
            stroke={seriesColor(0)}
            strokeWidth={2.5}
            dot={{ r: 3.5, strokeWidth: 0, fill: seriesColor(0) }}
            connectNulls
            isAnimationActive={false}
          />
          {model.refs.map((r, i) => (
            <Line
              key={r.key}
              dataKey={r.key}
              name={`${r.label} (${fmt(r.valLoss)})`}
              stroke={seriesColor(i + 1)}
              strokeWidth={1.5}
              strokeDasharray={DASHES[i % DASHES.length]}
              dot={false}
              activeDot={false}
              legendType="plainline"
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ChartFrame>
      {model.note && <Note>{model.note}</Note>}
    </div>
  );
}
