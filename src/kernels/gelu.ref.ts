// float64 references for GELU (GPT-2's tanh form).
const C = Math.sqrt(2 / Math.PI);

export function geluRef(x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    y[i] = 0.5 * v * (1 + Math.tanh(C * (v + 0.044715 * v * v * v)));
  }
  return y;
}

export function geluBackwardRef(x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const t = Math.tanh(C * (v + 0.044715 * v * v * v));
    const du = C * (1 + 3 * 0.044715 * v * v);
    dx[i] = dy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du);
  }
  return dx;
}
