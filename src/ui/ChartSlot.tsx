// The charts area. The real charts live in ./charts/ (written separately, contract below);
// until a chart's file exists this renders a plain SVG stand-in, picked up at build time
// through import.meta.glob, so the app builds with or without them.
//   ChartCard({title, description?, filename, rows, children})
//   LossCurves({runs: RunSeries[], logScale, metric: 'loss' | 'accuracy'})
//   LossVsPrefix({points: {m, valLoss, params}[], refs: {label, valLoss, params}[]})
import { useId, type ComponentType, type ReactNode } from 'react';
import type { PrefixPoint, RefPoint, Series } from './runs';

type Row = Record<string, string | number | null>;
interface ChartCardProps {
  title: string;
  description?: string;
  filename: string;
  rows: Row[];
  children: ReactNode;
}
interface LossCurvesProps {
  runs: Series[];
  logScale: boolean;
  metric: 'loss' | 'accuracy';
}
interface LossVsPrefixProps {
  points: PrefixPoint[];
  refs: RefPoint[];
}

const mods = import.meta.glob('./charts/*.tsx', { eager: true }) as Record<string, Record<string, unknown>>;
function pick<P>(file: string, name = file): ComponentType<P> | null {
  const c = mods[`./charts/${file}.tsx`]?.[name];
  return typeof c === 'function' ? (c as ComponentType<P>) : null;
}
const RealCard = pick<ChartCardProps>('ChartCard');
const RealLossCurves = pick<LossCurvesProps>('LossCurves');
const RealLossVsPrefix = pick<LossVsPrefixProps>('LossVsPrefix');

/** True when the real chart components are in the build. */
export const realCharts = { card: !!RealCard, lossCurves: !!RealLossCurves, lossVsPrefix: !!RealLossVsPrefix };

function PlainCard({ title, description, children }: ChartCardProps) {
  const id = useId();
  return (
    <section className="card chart-card" aria-labelledby={id}>
      <h3 id={id}>{title}</h3>
      {description && <p className="help">{description}</p>}
      {children}
    </section>
  );
}

export function Card(p: ChartCardProps) {
  return RealCard ? <RealCard {...p} /> : <PlainCard {...p} />;
}

const PALETTE = ['var(--series-1)', 'var(--series-2)', 'var(--series-3)', 'var(--series-4)', 'var(--series-5)', 'var(--series-6)'];
const W = 640;
const H = 260;
const PAD = { l: 48, r: 12, t: 10, b: 28 };

/** A minimal line chart: one colour per run, training solid, validation dashed. */
function PlainLossCurves({ runs, logScale, metric }: LossCurvesProps) {
  const ys: number[] = [];
  let maxStep = 1;
  for (const r of runs)
    for (const p of r.points) {
      maxStep = Math.max(maxStep, p.step);
      for (const v of metric === 'loss' ? [p.train, p.val] : [p.acc ?? undefined]) if (v !== undefined && Number.isFinite(v) && (!logScale || v > 0)) ys.push(v);
    }
  if (!ys.length) return <p className="help chart-empty">No points yet: the curves fill in as the run trains.</p>;
  const tf = (v: number) => (logScale ? Math.log10(v) : v);
  let lo = Math.min(...ys.map(tf));
  let hi = Math.max(...ys.map(tf));
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const x = (s: number) => PAD.l + ((W - PAD.l - PAD.r) * s) / maxStep;
  const y = (v: number) => PAD.t + (H - PAD.t - PAD.b) * (1 - (tf(v) - lo) / (hi - lo));
  const line = (pts: [number, number][]) => pts.map(([s, v]) => `${x(s).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const ticks = [lo, (lo + hi) / 2, hi].map((t) => (logScale ? 10 ** t : t));
  return (
    <div className="plain-chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${metric} against step for ${runs.length} run(s)`}>
        <line x1={PAD.l} y1={H - PAD.b} x2={W - PAD.r} y2={H - PAD.b} className="axis" />
        <line x1={PAD.l} y1={PAD.t} x2={PAD.l} y2={H - PAD.b} className="axis" />
        {ticks.map((t, i) => (
          <text key={i} x={PAD.l - 6} y={y(t) + 4} textAnchor="end" className="tick">
            {t.toFixed(2)}
          </text>
        ))}
        <text x={W - PAD.r} y={H - 6} textAnchor="end" className="tick">
          step {maxStep}
        </text>
        {runs.map((r, i) => {
          const c = PALETTE[i % PALETTE.length];
          const pick = (k: 'train' | 'val' | 'acc') =>
            r.points.filter((p) => p[k] !== undefined && p[k] !== null && Number.isFinite(p[k]!) && (!logScale || p[k]! > 0)).map((p) => [p.step, p[k]!] as [number, number]);
          const a = metric === 'loss' ? pick('train') : pick('acc');
          const b = metric === 'loss' ? pick('val') : [];
          return (
            <g key={r.id} data-run={r.name}>
              {a.length > 0 && <polyline points={line(a)} fill="none" stroke={c} strokeWidth={1.5} className="series-train" />}
              {b.length > 0 && <polyline points={line(b)} fill="none" stroke={c} strokeWidth={2} strokeDasharray="5 3" className="series-val" />}
            </g>
          );
        })}
      </svg>
      <ul className="legend">
        {runs.map((r, i) => (
          <li key={r.id}>
            <span className="swatch" style={{ background: PALETTE[i % PALETTE.length] }} /> {r.name}
            {r.diverged && ` (diverged at step ${r.diverged.step})`}
          </li>
        ))}
        {metric === 'loss' && <li className="help">solid: training, dashed: validation</li>}
      </ul>
    </div>
  );
}

function PlainLossVsPrefix({ points, refs }: LossVsPrefixProps) {
  if (!points.length) return <p className="help chart-empty">Finish prefix runs at a few lengths m to see the loss against m.</p>;
  const all = [...points.map((p) => p.valLoss), ...refs.map((r) => r.valLoss)];
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (hi - lo < 1e-9) {
    lo -= 0.1;
    hi += 0.1;
  }
  const maxX = Math.log2(Math.max(...points.map((p) => p.m)) + 1) || 1;
  const x = (m: number) => PAD.l + ((W - PAD.l - PAD.r) * Math.log2(m + 1)) / maxX;
  const y = (v: number) => PAD.t + (H - PAD.t - PAD.b) * (1 - (v - lo) / (hi - lo));
  return (
    <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`final validation loss at ${points.length} prefix length(s)`}>
      <line x1={PAD.l} y1={H - PAD.b} x2={W - PAD.r} y2={H - PAD.b} className="axis" />
      <line x1={PAD.l} y1={PAD.t} x2={PAD.l} y2={H - PAD.b} className="axis" />
      {refs.map((r, i) => (
        <g key={i}>
          <line x1={PAD.l} x2={W - PAD.r} y1={y(r.valLoss)} y2={y(r.valLoss)} stroke={PALETTE[(i + 1) % PALETTE.length]} strokeDasharray="4 4" />
          <text x={W - PAD.r} y={y(r.valLoss) - 4} textAnchor="end" className="tick">
            {r.label}
          </text>
        </g>
      ))}
      <polyline points={points.map((p) => `${x(p.m)},${y(p.valLoss)}`).join(' ')} fill="none" stroke={PALETTE[0]} />
      {points.map((p) => (
        <g key={p.m}>
          <circle cx={x(p.m)} cy={y(p.valLoss)} r={4} fill={PALETTE[0]} />
          <text x={x(p.m)} y={H - 10} textAnchor="middle" className="tick">
            {p.m}
          </text>
        </g>
      ))}
      <text x={PAD.l - 6} y={y(hi) + 4} textAnchor="end" className="tick">
        {hi.toFixed(2)}
      </text>
      <text x={PAD.l - 6} y={y(lo) + 4} textAnchor="end" className="tick">
        {lo.toFixed(2)}
      </text>
    </svg>
  );
}

export function LossCurvesSlot(p: LossCurvesProps) {
  return RealLossCurves ? <RealLossCurves {...p} /> : <PlainLossCurves {...p} />;
}

export function LossVsPrefixSlot(p: LossVsPrefixProps) {
  return RealLossVsPrefix ? <RealLossVsPrefix {...p} /> : <PlainLossVsPrefix {...p} />;
}
