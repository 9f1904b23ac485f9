// float64 reference for the residual connection out = a + b. Its backward is the
// identity into both inputs: (da, db) = (dout, dout).
export function addRef(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

/** Gradients of Σ dout ⊙ (a + b) with respect to a and b. */
export function addBackwardRef(dout: ArrayLike<number>): { da: Float64Array; db: Float64Array } {
  return { da: Float64Array.from(dout), db: Float64Array.from(dout) };
}
