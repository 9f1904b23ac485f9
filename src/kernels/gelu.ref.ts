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

// Rounding scales for the float32 kernels (src/kernels/scaled.ts: a kernel is within
// k·2⁻²⁴ of each scale, k a few, whatever its exp). Written along the shaders' steps:
// u = C(v + a·v³) has no cancellation (both terms share v's sign), so its scale is |u|;
// e = e^{−2u} is off by ~|2u| ulps relatively (its argument's rounding, and WGSL's exp
// allows 3 + 2|t| ulps); s = 1/(1 + e) inherits e's error weighted by e/(1 + e) = 1 − s:
// sScale = s·(1 + 2|u|(1 − s)). 1 − s cancels as s → 1 (large x): its scale is
// sScale + (1 − s), not 1 − s. The products and the final sum then add their factors'
// scales (g = s + 2v·s(1 − s)·u' cancels near x ≈ −0.75, GELU's minimum).
//
// Floors: s below float32's least normal 2⁻¹²⁶ (x < −10.00) is subnormal (WGSL lets a
// driver flush it to 0; lavapipe keeps it), and 0 outright once e overflows (x < −10.06,
// y = −0 on lavapipe against a reference ~−2e-38): s is then off by up to 2⁻¹²⁶
// absolutely, whatever its size, so y is off by |v|·2⁻¹²⁶ and g by that times its
// multipliers (each product of 2v·s·(1 − s)·u' may flush too). Differences up to the
// floor are underflow, not error; the check counts them as equal.

/** float32's least normal number, 2⁻¹²⁶. */
export const F32_MIN_NORMAL = 2 ** -126;

export interface GeluRounding {
  /** Rounding scale of each output element. */
  scale: Float64Array;
  /** Absolute difference per element that float32 underflow alone can make. */
  floor: Float64Array;
}

function sigmoidParts(v: number) {
  const u = C * (v + 0.044715 * v * v * v);
  const s = sigmoid2(u);
  return { u, s, sScale: s * (1 + 2 * Math.abs(u) * (1 - s)) };
}

export function geluRounding(x: ArrayLike<number>): GeluRounding {
  const scale = new Float64Array(x.length);
  const floor = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = Math.abs(x[i]);
    scale[i] = v * sigmoidParts(x[i]).sScale;
    floor[i] = 2 * F32_MIN_NORMAL * (1 + v);
  }
  return { scale, floor };
}

/** Scales of dx = dy·g; with `before` (the earlier dx's), of dx += dy·g. */
export function geluBackwardRounding(x: ArrayLike<number>, dy: ArrayLike<number>, before?: GeluRounding): GeluRounding {
  const scale = new Float64Array(x.length);
  const floor = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = Math.abs(x[i]);
    const { s, sScale } = sigmoidParts(x[i]);
    const du = C * (1 + 3 * 0.044715 * v * v);
    const oneMinusScale = sScale + (1 - s);
    const gScale = sScale + 2 * v * du * (sScale * (1 - s) + s * oneMinusScale);
    const d = Math.abs(dy[i]);
    scale[i] = d * gScale + (before ? before.scale[i] : 0);
    floor[i] = 4 * F32_MIN_NORMAL * d * (1 + v) * (1 + du) + (before ? before.floor[i] : 0);
  }
  return { scale, floor };
}
