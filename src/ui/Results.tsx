// Results: every run's curves overlaid, final validation loss against prefix length (with
// other methods as reference lines), and a table of runs.
import { useMemo } from 'react';
import { ChartCard, CostChart, LossCurves, LossVsPrefix, PrefixMassHeatmap } from './charts';
import { clearRuns, setChartOptions, useApp } from './store';
import { costPoints, finalValLoss, isActive, methodLabel, prefixSweep, seriesOf } from './runs';

function fmt(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(3);
}

function LossCurvesCard() {
  const runs = useApp((s) => s.runs);
  const logScale = useApp((s) => s.logScale);
  const metric = useApp((s) => s.metric);
  const series = useMemo(() => runs.map(seriesOf), [runs]);
  const rows = useMemo(
    () => series.flatMap((r) => r.points.map((p) => ({ run: r.name, step: p.step, train: p.train ?? null, val: p.val ?? null, acc: p.acc ?? null }))),
    [series],
  );
  const anyAcc = runs.some((r) => r.evals.some((e) => e.acc !== null));
  return (
    <ChartCard title="Loss curves" description="Every run on one chart, named by what changed from the run before it." filename="loss-curves" rows={rows}>
      <div className="chart-options">
        <label>
          <input type="checkbox" checked={logScale} onChange={(e) => setChartOptions({ logScale: e.target.checked })} /> Log scale
        </label>
        {anyAcc && (
          <label>
            Show{' '}
            <select value={metric} onChange={(e) => setChartOptions({ metric: e.target.value as 'loss' | 'accuracy' })}>
              <option value="loss">loss</option>
              <option value="accuracy">exact match</option>
            </select>
          </label>
        )}
      </div>
      <LossCurves runs={series} logScale={logScale} metric={anyAcc ? metric : 'loss'} />
    </ChartCard>
  );
}

function PrefixCard() {
  const runs = useApp((s) => s.runs);
  const { points, refs } = useMemo(() => prefixSweep(runs), [runs]);
  const rows = [...points.map((p) => ({ series: 'prefix', m: p.m, valLoss: p.valLoss, params: p.params })), ...refs.map((r) => ({ series: r.label, m: null, valLoss: r.valLoss, params: r.params }))];
  return (
    <ChartCard
      title="Loss against prefix length"
      description="Final validation loss of finished prefix runs, one point per m; finished runs of other methods with the same settings are reference lines."
      filename="loss-vs-prefix"
      rows={rows}
    >
      <LossVsPrefix points={points} refs={refs} />
      {points.length > 0 && (
        <table className="data-table" aria-label="Final validation loss by prefix length">
          <thead>
            <tr>
              <th scope="col">m</th>
              <th scope="col">val loss</th>
              <th scope="col">trainable params</th>
            </tr>
          </thead>
          <tbody>
            {points.map((p) => (
              <tr key={p.m}>
                <td>{p.m}</td>
                <td>{fmt(p.valLoss)}</td>
                <td>{p.params.toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </ChartCard>
  );
}

function CostCard() {
  const runs = useApp((s) => s.runs);
  const points = useMemo(() => costPoints(runs), [runs]);
  if (!points.length) return null;
  const rows = points.map((p) => ({ method: p.method, m: p.m, msPerStep: p.msPerStep, peakBytes: p.peakBytes }));
  return (
    <ChartCard
      title="Cost against prefix length"
      description="Time per training step and peak GPU memory of the finished runs above: prefix attention grows with m, NTK-Attention does not."
      filename="cost-vs-prefix"
      rows={rows}
    >
      <CostChart points={points} />
    </ChartCard>
  );
}

function MassCard() {
  const run = useApp((s) => [...s.runs].reverse().find((r) => r.mass !== null));
  if (!run?.mass) return null;
  const c = run.config;
  return (
    <ChartCard
      title="Attention share of the prefix"
      description={`How much of each head's attention goes to the ${c.method === 'prefix' ? 'prefix' : 'NTK-Attention term'} at the end of '${run.name}' (final validation batch). A long prefix can crowd out the input.`}
      filename="prefix-mass"
      rows={run.mass.flatMap((row, l) => row.map((v, h) => ({ layer: l, head: h, mass: v })))}
    >
      <PrefixMassHeatmap layers={run.mass.length} heads={run.mass[0]?.length ?? 0} mass={run.mass} m={c.method === 'prefix' ? c.prefixLength : null} />
    </ChartCard>
  );
}

function RunsTable() {
  const runs = useApp((s) => s.runs);
  if (!runs.length) return null;
  return (
    <section className="card" aria-labelledby="runs-title">
      <div className="card-head">
        <h2 id="runs-title">Runs</h2>
        <button type="button" onClick={clearRuns} disabled={runs.every(isActive)}>
          Clear finished runs
        </button>
      </div>
      <div className="table-scroll">
        <table className="data-table" aria-label="Runs">
          <thead>
            <tr>
              <th scope="col">run</th>
              <th scope="col">method</th>
              <th scope="col">task</th>
              <th scope="col">state</th>
              <th scope="col">steps</th>
              <th scope="col">train loss</th>
              <th scope="col">val loss</th>
              <th scope="col" title="validation loss in bits per byte of text (text tasks): compares models with different tokenizers">bits/byte</th>
              <th scope="col">trainable</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.id}>
                <td>{r.name}</td>
                <td>{methodLabel(r.config)}</td>
                <td>{r.taskLabel}</td>
                <td>{r.state}</td>
                <td>
                  {r.last?.step ?? 0}/{r.config.steps}
                </td>
                <td>{fmt(r.last?.trainLoss)}</td>
                <td>{fmt(finalValLoss(r) ?? r.evals[r.evals.length - 1]?.val)}</td>
                <td>{fmt(r.summary?.finalValBitsPerByte)}</td>
                <td>{r.trainableParams?.toLocaleString() ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function Results() {
  return (
    <>
      <LossCurvesCard />
      <PrefixCard />
      <CostCard />
      <MassCard />
      <RunsTable />
    </>
  );
}
