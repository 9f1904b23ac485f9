// float64 references for GELU (GPT-2's tanh form). 0.5·(1 + tanh u) is written σ(2u) =
// 1/(1 + e^{−2u}) and 0.5·(1 − tanh² u) as 2σ(2u)(1 − σ(2u)): the same numbers, but 1 + tanh u
// cancels for negative x even in float64 (x = −7: all digits lost), which made the check
// fail correct kernels (the shaders use σ(2u)) by 1e-3…8e-3 at n = 1.
const C = Math.sqrt(2 / Math.PI);

const sigmoid2 = (u: number) => 1 / (1 + Math.exp(-2 * u));

export function geluRef(x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    y[i] = v * sigmoid2(C * (v + 0.044715 * v * v * v));
  }
  return y;
}

export function geluBackwardRef(x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const s = sigmoid2(C * (v + 0.044715 * v * v * v));
    const du = C * (1 + 3 * 0.044715 * v * v);
    dx[i] = dy[i] * (s + 2 * v * s * (1 - s) * du);
  }
  return dx;
}
