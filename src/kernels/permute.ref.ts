// float64 references for the attention layout permutations (index maps written out).
import type { PermuteDims } from './permute';

/** qkv [B, T, 3, H, d] → q, k, v [B, H, T, d]. */
export function permuteQkvRef(qkv: ArrayLike<number>, { B, T, H, d }: PermuteDims) {
  const n = B * H * T * d;
  const out = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let s = 0; s < 3; s++)
        for (let h = 0; h < H; h++)
          for (let e = 0; e < d; e++) out[s][((b * H + h) * T + t) * d + e] = qkv[(((b * T + t) * 3 + s) * H + h) * d + e];
  return { q: out[0], k: out[1], v: out[2] };
}

/** Gradient of Σ (dq⊙q + dk⊙k + dv⊙v) with respect to qkv: dqkv [B, T, 3, H, d]. */
export function permuteQkvBackwardRef(dq: ArrayLike<number>, dk: ArrayLike<number>, dv: ArrayLike<number>, { B, T, H, d }: PermuteDims) {
  const g = [dq, dk, dv];
  const dqkv = new Float64Array(3 * B * T * H * d);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let s = 0; s < 3; s++)
        for (let h = 0; h < H; h++)
          for (let e = 0; e < d; e++) dqkv[(((b * T + t) * 3 + s) * H + h) * d + e] = g[s][((b * H + h) * T + t) * d + e];
  return dqkv;
}

/** o [B, H, T, d] → [B, T, H, d]. */
export function unpermuteRef(o: ArrayLike<number>, { B, T, H, d }: PermuteDims) {
  const out = new Float64Array(B * T * H * d);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++)
        for (let e = 0; e < d; e++) out[((b * T + t) * H + h) * d + e] = o[((b * H + h) * T + t) * d + e];
  return out;
}

/** Gradient of Σ dout ⊙ unpermute(o) with respect to o: [B, H, T, d]. */
export function unpermuteBackwardRef(dout: ArrayLike<number>, { B, T, H, d }: PermuteDims) {
  const dO = new Float64Array(B * T * H * d);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++)
        for (let e = 0; e < d; e++) dO[((b * H + h) * T + t) * d + e] = dout[((b * T + t) * H + h) * d + e];
  return dO;
}
