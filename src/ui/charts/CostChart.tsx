import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { costPanel, type CostPanel } from './data';
import { byteUnit, fmtBytes, fmtMs, fmtPow2, niceTicks } from './format';
import { ChartFrame, EmptyChart } from './Frame';
import { axisProps, gridProps, legendInOrder, log2XAxis, MUTED, seriesColor, yLabel } from './theme';
import { entryColor, seriesTooltip } from './Tooltip';

type CostPoint = { method: 'prefix' | 'ntk' | 'base'; m: number; msPerStep: number | null; peakBytes: number | null };

const PANEL_HEIGHT = 260;

function Panel(p: { model: CostPanel; title: string; format: (v: number) => string; axis: string; bytes?: boolean }) {
  const { model } = p;
  const tooltip = useMemo(
    () =>
      seriesTooltip(
        (label) => `m = ${fmtPow2(Number(label))}`,
        (e) => (typeof e.value === 'number' ? { color: entryColor(e), text: `${e.name}: ${p.format(e.value)}` } : null),
      ),
    [p.format],
  );
  if (!model.xDomain) {
    // Nothing to put on the m axis; still report the flat references if there are any.
    const refs = [model.ntk !== null && `NTK-Attention ${p.format(model.ntk)}`, model.base !== null && `base ${p.format(model.base)}`].filter(Boolean);
    return (
      <div style={{ flex: '1 1 300px', minWidth: 0 }}>
        <EmptyChart height={PANEL_HEIGHT} text={`${p.title}: no prefix measurements yet${refs.length ? ` (${refs.join(', ')})` : ''}.`} />
      </div>
    );
  }
  const [lo, hi] = model.xDomain;
  const yTicks = niceTicks(model.yMax, p.bytes ? byteUnit(model.yMax) : 1);
  return (
    <div style={{ flex: '1 1 300px', minWidth: 0 }}>
      <div style={{ fontSize: 13, color: MUTED, margin: '0 0 2px 8px' }} aria-hidden="true" data-export-label="">
        {p.title}
      </div>
      <ChartFrame summary={model.summary} height={PANEL_HEIGHT}>
        <LineChart data={model.rows} margin={{ top: 8, right: 20, bottom: 4, left: 4 }} accessibilityLayer={false}>
          <CartesianGrid {...gridProps} />
          <XAxis {...log2XAxis('m', lo, hi, 'prefix length m (log)')} />
          <YAxis
            type="number"
            domain={[0, yTicks[yTicks.length - 1]]}
            ticks={yTicks}
            tickFormatter={p.format}
            width={68}
            {...axisProps}
            label={yLabel(p.axis)}
          />
          <Tooltip content={tooltip} isAnimationActive={false} />
          <Legend {...legendInOrder(['prefix', 'ntk', 'base'])} />
          <Line dataKey="prefix" name="prefix attention" stroke={seriesColor(0)} strokeWidth={2.5} dot={{ r: 3, strokeWidth: 0, fill: seriesColor(0) }} connectNulls isAnimationActive={false} />
          {model.ntk !== null && (
            <Line dataKey="ntk" name="NTK-Attention" stroke={seriesColor(1)} strokeWidth={1.5} strokeDasharray="6 3" dot={false} activeDot={false} legendType="plainline" isAnimationActive={false} />
          )}
          {model.base !== null && (
            <Line dataKey="base" name="base (no adapter)" stroke={seriesColor(2)} strokeWidth={1.5} strokeDasharray="2 3" dot={false} activeDot={false} legendType="plainline" isAnimationActive={false} />
          )}
        </LineChart>
      </ChartFrame>
    </div>
  );
}

/** Cost of a prefix of length m, against NTK-Attention and the base model as flat references:
 *  time per training step and peak memory, side by side (stacked on narrow screens). */
export function CostChart(p: { points: CostPoint[] }) {
  const time = useMemo(() => costPanel(p.points, 'msPerStep'), [p.points]);
  const memory = useMemo(() => costPanel(p.points, 'peakBytes'), [p.points]);
  return (
    <div style={{ display: 'flex', flexWrap: 'wrap', gap: 12 }}>
      <Panel model={time} title="Time per step" format={fmtMs} axis="ms / step" />
      <Panel model={memory} title="Peak memory" format={fmtBytes} axis="peak memory" bytes />
    </div>
  );
}
