// Results: every run's curves overlaid, final validation loss against prefix length (with
// other methods as reference lines), and a table of runs.
import { useMemo } from 'react';
import { Card, LossCurvesSlot, LossVsPrefixSlot } from './ChartSlot';
import { clearRuns, setChartOptions, useApp } from './store';
import { finalValLoss, isActive, methodLabel, prefixSweep, seriesOf } from './runs';

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
    <Card title="Loss curves" description="Every run on one chart, named by what changed from the run before it." filename="loss-curves" rows={rows}>
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
      <LossCurvesSlot runs={series} logScale={logScale} metric={anyAcc ? metric : 'loss'} />
    </Card>
  );
}

function PrefixCard() {
  const runs = useApp((s) => s.runs);
  const { points, refs } = useMemo(() => prefixSweep(runs), [runs]);
  const rows = [...points.map((p) => ({ series: 'prefix', m: p.m, valLoss: p.valLoss, params: p.params })), ...refs.map((r) => ({ series: r.label, m: null, valLoss: r.valLoss, params: r.params }))];
  return (
    <Card
      title="Loss against prefix length"
      description="Final validation loss of finished prefix runs, one point per m; finished runs of other methods with the same settings are reference lines."
      filename="loss-vs-prefix"
      rows={rows}
    >
      <LossVsPrefixSlot points={points} refs={refs} />
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
    </Card>
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
      <RunsTable />
    </>
  );
}
