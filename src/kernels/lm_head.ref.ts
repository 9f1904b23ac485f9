// float64 reference for the fused LM head + cross-entropy (lm_head.ts): the definition of
// what it computes, with the logits written out.
//   z[n, v] = Σ_c x[n, c]·wte[v, c]            lse[n] = log Σ_v e^{z[n, v]}
//   loss[n] = lse[n] − z[n, t_n] (0 if ignored) mean = Σ loss / count (0 if count = 0)
//   g[n, v] = (e^{z − lse} − [v = t_n])·scale/count on counted rows, 0 on ignored rows
//   dx = g·wte,  dwte = gᵀ·x
// A target outside [0, V) that is not the ignore index gives NaN (loss, gradient rows).

export interface LmHeadRef {
  logits: Float64Array;
  lse: Float64Array;
  losses: Float64Array;
  mean: number;
  count: number;
  dx: Float64Array;
  dwte: Float64Array;
}

export function lmHeadRef(
  x: ArrayLike<number>,
  wte: ArrayLike<number>,
  targets: ArrayLike<number>,
  N: number,
  C: number,
  V: number,
  ignoreIndex = -1,
  scale = 1,
): LmHeadRef {
  const logits = new Float64Array(N * V);
  for (let n = 0; n < N; n++) {
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += x[n * C + c] * wte[v * C + c];
      logits[n * V + v] = s;
    }
  }
  let count = 0;
  for (let n = 0; n < N; n++) if (targets[n] !== ignoreIndex) count++;
  const k = scale / Math.max(count, 1);
  const lse = new Float64Array(N);
  const losses = new Float64Array(N);
  const g = new Float64Array(N * V);
  let sum = 0;
  for (let n = 0; n < N; n++) {
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, logits[n * V + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[n * V + v] - m);
    lse[n] = m + Math.log(s);
    const t = targets[n];
    if (t === ignoreIndex) continue;
    if (!(Number.isInteger(t) && t >= 0 && t < V)) {
      losses[n] = NaN;
      g.fill(NaN, n * V, (n + 1) * V);
      sum = NaN;
      continue;
    }
    losses[n] = lse[n] - logits[n * V + t];
    sum += losses[n];
    for (let v = 0; v < V; v++) g[n * V + v] = (Math.exp(logits[n * V + v] - lse[n]) - (v === t ? 1 : 0)) * k;
  }
  const dx = new Float64Array(N * C);
  const dwte = new Float64Array(V * C);
  for (let n = 0; n < N; n++) {
    for (let v = 0; v < V; v++) {
      const gv = g[n * V + v];
      if (gv === 0) continue;
      for (let c = 0; c < C; c++) {
        dx[n * C + c] += gv * wte[v * C + c];
        dwte[v * C + c] += gv * x[n * C + c];
      }
    }
  }
  return { logits, lse, losses, mean: count > 0 ? sum / count : 0, count, dx, dwte };
}
