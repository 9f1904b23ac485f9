// float64 references for LayerNorm over the last dimension (biased variance, eps inside
// the square root, as GPT-2 / PyTorch).
import { LN_EPS } from './layernorm';

export interface LayerNormRefOut {
  y: Float64Array;
  mean: Float64Array;
  rstd: Float64Array;
}

export function layerNormRef(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, N: number, C: number, eps = LN_EPS): LayerNormRefOut {
  const y = new Float64Array(N * C);
  const mean = new Float64Array(N);
  const rstd = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += x[n * C + c];
    const mu = s / C;
    let q = 0;
    for (let c = 0; c < C; c++) q += (x[n * C + c] - mu) ** 2;
    const r = 1 / Math.sqrt(q / C + eps);
    for (let c = 0; c < C; c++) y[n * C + c] = (x[n * C + c] - mu) * r * w[c] + b[c];
    mean[n] = mu;
    rstd[n] = r;
  }
  return { y, mean, rstd };
}

export interface LayerNormBackwardRefOut {
  dx: Float64Array;
  dw: Float64Array;
  db: Float64Array;
}

/** Gradients of Σ dy ⊙ LayerNorm(x; w, b) with respect to x, w and b. */
export function layerNormBackwardRef(dy: ArrayLike<number>, x: ArrayLike<number>, w: ArrayLike<number>, N: number, C: number, eps = LN_EPS): LayerNormBackwardRefOut {
  const dx = new Float64Array(N * C);
  const dw = new Float64Array(C);
  const db = new Float64Array(C);
  const { mean, rstd } = layerNormRef(x, w, new Float64Array(C), N, C, eps);
  for (let n = 0; n < N; n++) {
    const mu = mean[n];
    const r = rstd[n];
    // n̂ = (x − μ)·r, g = dy·w; dx = r·(g − mean(g) − n̂·mean(g·n̂)).
    let sg = 0;
    let sgn = 0;
    for (let c = 0; c < C; c++) {
      const i = n * C + c;
      const nh = (x[i] - mu) * r;
      const g = dy[i] * w[c];
      sg += g;
      sgn += g * nh;
      dw[c] += dy[i] * nh;
      db[c] += dy[i];
    }
    for (let c = 0; c < C; c++) {
      const i = n * C + c;
      const nh = (x[i] - mu) * r;
      dx[i] = r * (dy[i] * w[c] - sg / C - (nh * sgn) / C);
    }
  }
  return { dx, dw, db };
}
