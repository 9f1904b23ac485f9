// float64 reference for the fused softmax + cross-entropy over a vocabulary.
// logits [N, V] row-major, targets [N] (integers; `ignoreIndex` marks a row that does not
// count). The loss is the mean over counted rows; ignored rows have loss 0 and zero
// gradient. A target outside [0, V) that is not the ignore index gives NaN (a loud bug).

export interface CrossEntropyRef {
  /** Per-row loss [N]: log Σ_j e^{x_j} − x_target, 0 for ignored rows. */
  losses: Float64Array;
  /** Mean of the counted rows' losses (0 when every row is ignored). */
  mean: number;
  /** Number of rows whose target is not the ignore index. */
  count: number;
  /** ∂mean/∂logits [N, V] times `scale`: (softmax − onehot)·scale/count, 0 for ignored rows. */
  dlogits: Float64Array;
}

export function crossEntropyRef(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  n: number,
  v: number,
  ignoreIndex = -1,
  scale = 1,
): CrossEntropyRef {
  const losses = new Float64Array(n);
  const dlogits = new Float64Array(n * v);
  let count = 0;
  for (let i = 0; i < n; i++) if (targets[i] !== ignoreIndex) count++;
  const inv = scale / Math.max(count, 1);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const t = targets[i];
    if (t === ignoreIndex) continue;
    if (!(t >= 0 && t < v)) {
      losses[i] = NaN;
      dlogits.fill(NaN, i * v, (i + 1) * v);
      sum = NaN;
      continue;
    }
    let m = -Infinity;
    for (let j = 0; j < v; j++) m = Math.max(m, logits[i * v + j]);
    let s = 0;
    for (let j = 0; j < v; j++) s += Math.exp(logits[i * v + j] - m);
    losses[i] = m + Math.log(s) - logits[i * v + t];
    sum += losses[i];
    for (let j = 0; j < v; j++) dlogits[i * v + j] = (Math.exp(logits[i * v + j] - m) / s - (j === t ? 1 : 0)) * inv;
  }
  return { losses, mean: count > 0 ? sum / count : 0, count, dlogits };
}
