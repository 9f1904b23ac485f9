// float64 references for the token + position embedding.

/** out [B, T, C] = wte[tokens] + wpe[t]; a token outside [0, V) gives a NaN row (as the kernel). */
export function embeddingRef(tokens: ArrayLike<number>, wte: ArrayLike<number>, wpe: ArrayLike<number>, B: number, T: number, C: number): Float64Array {
  const V = wte.length / C;
  const out = new Float64Array(B * T * C);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      const n = b * T + t;
      const tok = tokens[n];
      for (let c = 0; c < C; c++) out[n * C + c] = tok < V ? wte[tok * C + c] + wpe[t * C + c] : NaN;
    }
  return out;
}

/**
 * Gradients of Σ dout ⊙ embedding(tokens; wte, wpe): dwte [V, C] sums dout over every
 * position holding each token; dwpe [P, C] sums over the batch (rows ≥ T are 0).
 */
export function embeddingBackwardRef(tokens: ArrayLike<number>, dout: ArrayLike<number>, B: number, T: number, C: number, V: number, P = T) {
  const dwte = new Float64Array(V * C);
  const dwpe = new Float64Array(P * C);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      const n = b * T + t;
      const tok = tokens[n];
      for (let c = 0; c < C; c++) {
        if (tok < V) dwte[tok * C + c] += dout[n * C + c];
        dwpe[t * C + c] += dout[n * C + c];
      }
    }
  return { dwte, dwpe };
}
