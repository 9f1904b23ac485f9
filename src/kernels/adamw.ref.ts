// float64 reference for one AdamW step (Loshchilov & Hutter's decoupled weight decay, the
// form PyTorch's AdamW uses): with g' = gradScale·g,
//   m ← β1·m + (1−β1)·g'          v ← β2·v + (1−β2)·g'²
//   p ← p − lr·( (m/(1−β1^t)) / (sqrt(v/(1−β2^t)) + eps) + wd·p )
// where wd is the weight decay when this tensor decays, else 0. Updates p, m, v in place.

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export function adamwRef(
  p: Float64Array,
  g: ArrayLike<number>,
  m: Float64Array,
  v: Float64Array,
  hp: AdamWHyper,
  step: number,
  decay: boolean,
  gradScale = 1,
) {
  const bc1 = 1 - Math.pow(hp.beta1, step);
  const bc2 = 1 - Math.pow(hp.beta2, step);
  const wd = decay ? hp.weightDecay : 0;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] * gradScale;
    m[i] = hp.beta1 * m[i] + (1 - hp.beta1) * gi;
    v[i] = hp.beta2 * v[i] + (1 - hp.beta2) * gi * gi;
    const mhat = m[i] / bc1;
    const vhat = v[i] / bc2;
    p[i] -= hp.lr * (mhat / (Math.sqrt(vhat) + hp.eps) + wd * p[i]);
  }
}
