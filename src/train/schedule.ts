// Learning-rate schedule: linear warm-up to `lr`, then cosine decay to `minLr` at `steps`.
export interface Schedule {
  lr: number;
  minLr: number;
  warmup: number;
  steps: number;
}

export function learningRate(s: Schedule, step: number): number {
  if (step < s.warmup) return (s.lr * (step + 1)) / s.warmup;
  if (step >= s.steps) return s.minLr;
  const span = Math.max(1, s.steps - s.warmup);
  const progress = (step - s.warmup) / span;
  return s.minLr + 0.5 * (s.lr - s.minLr) * (1 + Math.cos(Math.PI * progress));
}
