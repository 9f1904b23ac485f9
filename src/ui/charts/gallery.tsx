// Dev-only gallery of every chart on synthetic data (npm run dev, then open
// /src/ui/charts/gallery.html; add ?theme=dark or ?theme=light to force a scheme).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApproxChart, ChartCard, CostChart, LossCurves, LossVsPrefix, NtkRegimeChart, PrefixMassHeatmap, lossCurvesRows, type RunSeries } from './index';

const theme = new URLSearchParams(location.search).get('theme');
if (theme === 'dark' || theme === 'light') document.documentElement.style.colorScheme = theme;

const runs: RunSeries[] = ['prefix m=16', 'NTK-Attention', 'LoRA r=4'].map((name, r) => ({
  id: `run${r}`,
  name,
  points: Array.from({ length: 41 }, (_, i) => {
    const step = i * 10;
    const base = 0.6 + r * 0.15 + 3.2 * Math.exp(-step / (60 + 30 * r));
    return { step, train: base + 0.08 * Math.sin(i * 1.7 + r), val: i % 5 === 0 ? base + 0.1 : undefined, acc: i % 5 === 0 ? 1 - base / 4.4 : null };
  }),
}));
runs.push({
  id: 'run3',
  name: 'prefix m=256, lr=1e-1',
  points: Array.from({ length: 13 }, (_, i) => ({ step: i * 10, train: 3.9 - 0.1 * i, val: i % 5 === 0 ? 3.95 - 0.1 * i : undefined })),
  diverged: { step: 125, message: 'loss is NaN (gradient norm 3.1e+07)' },
});

const ms = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256];
const prefixPoints = ms.map((m) => ({ m, valLoss: 1.1 + 0.9 / Math.sqrt(m + 1), params: m * 2 * 4 * 64 * 2 }));
const refs = [
  { label: 'NTK-Attention (∞ prefix)', valLoss: 1.12, params: 2 * 4 * 16 * 17 },
  { label: 'LoRA r=4', valLoss: 1.2, params: 2 * 4 * 4 * (64 + 192) },
  { label: 'full fine-tuning', valLoss: 1.05, params: 120_000 },
  { label: 'base', valLoss: 2.0, params: 0 },
];

const approx = [8, 16, 32, 64, 128, 256, 512].flatMap((m) =>
  ['elu1', 'taylor2'].flatMap((map, k) =>
    [0, 1, 2].map((seed) => {
      const rel = (k ? 2 : 0.7) * m ** (k ? -0.5 : -0.25) * (1 + 0.15 * Math.sin(seed * 3 + m));
      return { m, method: 'ntk', map, rel, maxAbs: rel * 3, seed };
    }),
  ),
);

const cost = [
  ...[1, 4, 16, 64, 256, 1024].map((m) => ({ method: 'prefix' as const, m, msPerStep: 12 + m * 0.05, peakBytes: 40e6 + m * 9e4 })),
  { method: 'ntk' as const, m: 0, msPerStep: 14.5, peakBytes: 41e6 },
  { method: 'base' as const, m: 0, msPerStep: 11.2, peakBytes: 38e6 },
];

const mass = Array.from({ length: 4 }, (_, l) => Array.from({ length: 6 }, (_, h) => Math.min(1, Math.max(0, 0.15 + 0.2 * l - 0.07 * h + 0.05 * ((l * 7 + h * 3) % 4)))));

const curves = [16, 64, 256].flatMap((m) =>
  (['ntk', 'naive'] as const).map((scaling) => ({
    m,
    scaling,
    points: Array.from({ length: 30 }, (_, i) => ({ step: i * 5, loss: 0.4 + 2 * Math.exp(-i / (scaling === 'ntk' ? 6 : 3 + m / 64)) })),
  })),
);
const movement = [16, 32, 64, 128, 256].flatMap((m) => [
  { m, scaling: 'ntk' as const, relMove: 0.9 / Math.sqrt(m) },
  { m, scaling: 'naive' as const, relMove: 0.3 * m ** 0.1 },
]);

function Gallery() {
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 1100, margin: '0 auto', padding: 16, display: 'grid', gap: 16 }}>
      <h1>Chart gallery</h1>
      <ChartCard title="Loss curves" description="Train (thin) and validation (bold) loss per run." filename="loss-curves" rows={lossCurvesRows(runs)}>
        <LossCurves runs={runs} logScale metric="loss" />
      </ChartCard>
      <ChartCard title="Accuracy" filename="accuracy" rows={lossCurvesRows(runs)}>
        <LossCurves runs={runs} logScale={false} metric="accuracy" />
      </ChartCard>
      <ChartCard title="Final loss vs prefix length" filename="loss-vs-prefix" rows={prefixPoints}>
        <LossVsPrefix points={prefixPoints} refs={refs} />
      </ChartCard>
      <ChartCard title="Approximation error" filename="approx" rows={approx}>
        <ApproxChart points={approx} metric="rel" />
      </ChartCard>
      <ChartCard title="Cost" filename="cost" rows={cost}>
        <CostChart points={cost} />
      </ChartCard>
      <ChartCard title="Prefix attention share" filename="prefix-mass" rows={mass.flatMap((row, l) => row.map((v, h) => ({ layer: l, head: h, mass: v })))}>
        <PrefixMassHeatmap layers={4} heads={6} mass={mass} m={64} />
      </ChartCard>
      <ChartCard title="NTK regime" filename="ntk-regime" rows={movement}>
        <NtkRegimeChart curves={curves} movement={movement} />
      </ChartCard>
      <ChartCard title="Empty" filename="empty" rows={[]}>
        <LossCurves runs={[]} logScale={false} metric="loss" />
      </ChartCard>
    </main>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Gallery />
  </StrictMode>,
);
