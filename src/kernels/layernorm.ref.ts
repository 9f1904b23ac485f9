// float64 references for LayerNorm over the last dimension (biased variance, eps inside
// the square root, as GPT-2 / PyTorch).
import { LN_EPS } from './layernorm';

export interface LayerNormRefOut {
  y: Float64Array;
  mean: Float64Array;
  rstd: Float64Array;
  /**
   * Rounding scales (src/kernels/scaled.ts). μ's error is relative to mean|x| (rows offset
   * far from 0), and n̂ = (x − μ)·rstd inherits it: n̂'s scale is s = (|x| + mean|x|)·rstd +
   * |n̂| (x, μ, and the product with rstd), so yScale = s·|w| + |b|, meanScale = mean|x|.
   */
  yScale: Float64Array;
  meanScale: Float64Array;
}

/** The rounding scale of n̂ = (x − μ)·r for one element (see LayerNormRefOut). */
function nhScale(x: number, mu: number, meanAbsX: number, r: number): number {
  return (Math.abs(x) + meanAbsX) * r + Math.abs(x - mu) * r;
}

export function layerNormRef(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, N: number, C: number, eps = LN_EPS): LayerNormRefOut {
  const y = new Float64Array(N * C);
  const mean = new Float64Array(N);
  const rstd = new Float64Array(N);
  const yScale = new Float64Array(N * C);
  const meanScale = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let s = 0;
    let sAbs = 0;
    for (let c = 0; c < C; c++) {
      s += x[n * C + c];
      sAbs += Math.abs(x[n * C + c]);
    }
    const mu = s / C;
    let q = 0;
    for (let c = 0; c < C; c++) q += (x[n * C + c] - mu) ** 2;
    const r = 1 / Math.sqrt(q / C + eps);
    for (let c = 0; c < C; c++) {
      y[n * C + c] = (x[n * C + c] - mu) * r * w[c] + b[c];
      yScale[n * C + c] = nhScale(x[n * C + c], mu, sAbs / C, r) * Math.abs(w[c]) + Math.abs(b[c]);
    }
    mean[n] = mu;
    rstd[n] = r;
    meanScale[n] = sAbs / C;
  }
  return { y, mean, rstd, yScale, meanScale };
}

export interface LayerNormBackwardRefOut {
  dx: Float64Array;
  dw: Float64Array;
  db: Float64Array;
  /**
   * Rounding scales (src/kernels/scaled.ts): what float32 rounding of each output's
   * computation is relative to. dx = r·(g − mean g − n̂·mean(g·n̂)) can cancel to almost
   * nothing (C = 2: a factor eps/(δ² + eps)) while its terms stay O(|g|), and n̂ inherits
   * the error of μ, which is relative to |x| (rows offset far from 0), not to x − μ. So
   * dxScale = r·(|g| + mean|g| + s·|mean(g·n̂)| + |n̂|·mean(|g|·s)) with s = (|x| + mean|x|)·r + |n̂|
   * the scale of n̂ (x, μ and the product with r). dwScale = Σ_n |dy|·s, dbScale = Σ_n |dy|.
   */
  dxScale: Float64Array;
  dwScale: Float64Array;
  dbScale: Float64Array;
}

/** Gradients of Σ dy ⊙ LayerNorm(x; w, b) with respect to x, w and b, with their rounding scales. */
export function layerNormBackwardRef(dy: ArrayLike<number>, x: ArrayLike<number>, w: ArrayLike<number>, N: number, C: number, eps = LN_EPS): LayerNormBackwardRefOut {
  const dx = new Float64Array(N * C);
  const dw = new Float64Array(C);
  const db = new Float64Array(C);
  const dxScale = new Float64Array(N * C);
  const dwScale = new Float64Array(C);
  const dbScale = new Float64Array(C);
  const { mean, rstd } = layerNormRef(x, w, new Float64Array(C), N, C, eps);
  for (let n = 0; n < N; n++) {
    const mu = mean[n];
    const r = rstd[n];
    // n̂ = (x − μ)·r, g = dy·w; dx = r·(g − mean(g) − n̂·mean(g·n̂)).
    let sg = 0;
    let sgn = 0;
    let sAbsX = 0;
    for (let c = 0; c < C; c++) {
      const i = n * C + c;
      const nh = (x[i] - mu) * r;
      const g = dy[i] * w[c];
      sg += g;
      sgn += g * nh;
      sAbsX += Math.abs(x[i]);
      dw[c] += dy[i] * nh;
      db[c] += dy[i];
      dbScale[c] += Math.abs(dy[i]);
    }
    // Scales of n̂ per element, then of the row's two means.
    const meanAbsX = sAbsX / C;
    let sAbsG = 0;
    let sAbsGn = 0;
    for (let c = 0; c < C; c++) {
      const i = n * C + c;
      const g = Math.abs(dy[i] * w[c]);
      const sn = nhScale(x[i], mu, meanAbsX, r);
      sAbsG += g;
      sAbsGn += g * sn;
      dwScale[c] += Math.abs(dy[i]) * sn;
    }
    for (let c = 0; c < C; c++) {
      const i = n * C + c;
      const nh = (x[i] - mu) * r;
      dx[i] = r * (dy[i] * w[c] - sg / C - (nh * sgn) / C);
      dxScale[i] = r * (Math.abs(dy[i] * w[c]) + sAbsG / C + nhScale(x[i], mu, meanAbsX, r) * Math.abs(sgn / C) + (Math.abs(nh) * sAbsGn) / C);
    }
  }
  return { dx, dw, db, dxScale, dwScale, dbScale };
}
