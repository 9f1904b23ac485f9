// float64 reference for NTK-Attention (docs/ntk-attention.md §4-§7), forward and backward, and the
// closed form (Z, k) from a prefix (§10). Plain loops: this file is the definition.
//
//   o_i = ( Σ_j M_ij e^{S_ij} v_j + φ(q_i)ᵀ Z ) / ( Σ_j M_ij e^{S_ij} + φ(q_i)ᵀ k̃ ),  S = c·Q Kᵀ
//
// Layouts: Q, K, V, O [B, H, L, d]; Z [H, r, d]; κ and k̃ [H, r].
import type { FeatureMapName, KParam } from './ntk_types';

export interface NtkDims {
  B: number;
  H: number;
  L: number;
  d: number;
  featureMap: FeatureMapName;
  kParam: KParam;
  causal?: boolean;
  /** Score scale c (default 1/√d). */
  scale?: number;
}

export function featureDim(map: FeatureMapName, d: number): number {
  return map === 'elu1' ? d : 1 + d + d * d;
}

/** φ(x) with u = x / d^{1/4}: elu1 → elu(u)+1; taylor2 → [1, u, vec(x xᵀ)/(√2·√d)]. */
export function phi(map: FeatureMapName, x: ArrayLike<number>): Float64Array {
  const d = x.length;
  const s = Math.pow(d, -0.25);
  if (map === 'elu1') return Float64Array.from(x, (v) => (v * s > 0 ? v * s + 1 : Math.exp(v * s)));
  const out = new Float64Array(1 + d + d * d);
  out[0] = 1;
  for (let a = 0; a < d; a++) out[1 + a] = x[a] * s;
  const q = 1 / (Math.SQRT2 * Math.sqrt(d));
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) out[1 + d + a * d + b] = x[a] * x[b] * q;
  return out;
}

/** Vector-Jacobian product of φ at x: returns J_φ(x)ᵀ g. */
export function phiVjp(map: FeatureMapName, x: ArrayLike<number>, g: ArrayLike<number>): Float64Array {
  const d = x.length;
  const s = Math.pow(d, -0.25);
  const dx = new Float64Array(d);
  if (map === 'elu1') {
    for (let a = 0; a < d; a++) dx[a] = g[a] * (x[a] * s > 0 ? s : Math.exp(x[a] * s) * s);
    return dx;
  }
  const q = 1 / (Math.SQRT2 * Math.sqrt(d));
  for (let a = 0; a < d; a++) {
    let v = g[1 + a] * s;
    for (let b = 0; b < d; b++) v += (g[1 + d + a * d + b] + g[1 + d + b * d + a]) * x[b] * q;
    dx[a] = v;
  }
  return dx;
}

export function kTilde(kp: KParam, kappa: number): number {
  switch (kp) {
    case 'abs':
      return Math.abs(kappa);
    case 'exp':
      return Math.exp(kappa);
    case 'softplus':
      return kappa > 20 ? kappa : Math.log1p(Math.exp(kappa));
    case 'identity':
      return kappa;
  }
}
export function kTildeGrad(kp: KParam, kappa: number): number {
  switch (kp) {
    case 'abs':
      return Math.sign(kappa);
    case 'exp':
      return Math.exp(kappa);
    case 'softplus':
      return 1 / (1 + Math.exp(-kappa));
    case 'identity':
      return 1;
  }
}

const row = (t: ArrayLike<number>, off: number, d: number) => Array.from({ length: d }, (_, i) => t[off + i]);

export interface NtkForwardRef {
  o: Float64Array;
  /** Prefix mass β_i = φ(q_i)ᵀk̃ / denominator. */
  beta: Float64Array;
  /**
   * Per row, (Σ_j e^{S_ij} + Σ_t |φ_t k̃_t|) / |denominator|: how much the denominator's sum
   * cancels. Float32 rounding is amplified by about this factor, so where φ(q)ᵀk̃ can be
   * negative (taylor2, identity k̃) a draw with a large value is ill-posed in float32,
   * whatever the kernel does; tests redraw such inputs instead of loosening their bounds.
   */
  cond: Float64Array;
}

export function ntkAttentionRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, z: ArrayLike<number>, kappa: ArrayLike<number>, dims: NtkDims): NtkForwardRef {
  const { B, H, L, d, featureMap } = dims;
  const causal = dims.causal ?? true;
  const c = dims.scale ?? 1 / Math.sqrt(d);
  const r = featureDim(featureMap, d);
  const o = new Float64Array(B * H * L * d);
  const beta = new Float64Array(B * H * L);
  const cond = new Float64Array(B * H * L);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const base = (b * H + h) * L * d;
      for (let i = 0; i < L; i++) {
        const qi = row(q, base + i * d, d);
        const jmax = causal ? i : L - 1;
        let mx = -Infinity;
        const s: number[] = [];
        for (let j = 0; j <= jmax; j++) {
          let dot = 0;
          for (let a = 0; a < d; a++) dot += qi[a] * k[base + j * d + a];
          s.push(c * dot);
          mx = Math.max(mx, c * dot);
        }
        const f = phi(featureMap, qi);
        let pz = 0, pzAbs = 0;
        const num = new Float64Array(d);
        for (let t = 0; t < r; t++) {
          const term = f[t] * kTilde(dims.kParam, kappa[h * r + t]);
          pz += term;
          pzAbs += Math.abs(term);
          for (let a = 0; a < d; a++) num[a] += f[t] * z[(h * r + t) * d + a];
        }
        let den = 0;
        const acc = new Float64Array(d);
        for (let j = 0; j <= jmax; j++) {
          const e = Math.exp(s[j] - mx);
          den += e;
          for (let a = 0; a < d; a++) acc[a] += e * v[base + j * d + a];
        }
        const ea = Math.exp(-mx);
        const D = den + ea * pz;
        for (let a = 0; a < d; a++) o[base + i * d + a] = (acc[a] + ea * num[a]) / D;
        beta[(b * H + h) * L + i] = (ea * pz) / D;
        cond[(b * H + h) * L + i] = (den + ea * pzAbs) / Math.abs(D);
      }
    }
  return { o, beta, cond };
}

export interface NtkGradsRef {
  dq: Float64Array;
  dk: Float64Array;
  dv: Float64Array;
  dz: Float64Array;
  dkappa: Float64Array;
  /**
   * ‖Σ |terms|‖ / ‖dK‖: how much dK's sums cancel. dS_ij = P_ij (g_i·v_j − Δ_i) nearly
   * cancels when one key dominates row i (then o_i ≈ v_j and Δ_i = g_i·o_i ≈ g_i·v_j), and
   * float32 rounding is amplified by about this factor (it is ~1/β for one key and one row).
   */
  dkCancel: number;
}

export function ntkAttentionBackwardRef(
  q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, z: ArrayLike<number>, kappa: ArrayLike<number>, dO: ArrayLike<number>, dims: NtkDims,
): NtkGradsRef {
  const { B, H, L, d, featureMap, kParam } = dims;
  const causal = dims.causal ?? true;
  const c = dims.scale ?? 1 / Math.sqrt(d);
  const r = featureDim(featureMap, d);
  const { o } = ntkAttentionRef(q, k, v, z, kappa, dims);
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  const dz = new Float64Array(z.length);
  const dkt = new Float64Array(H * r);
  const dkAbs = new Float64Array(k.length);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const base = (b * H + h) * L * d;
      for (let i = 0; i < L; i++) {
        const qi = row(q, base + i * d, d);
        const gi = row(dO, base + i * d, d);
        const oi = row(o, base + i * d, d);
        const jmax = causal ? i : L - 1;
        const s: number[] = [];
        let mx = -Infinity;
        for (let j = 0; j <= jmax; j++) {
          let dot = 0;
          for (let a = 0; a < d; a++) dot += qi[a] * k[base + j * d + a];
          s.push(c * dot);
          mx = Math.max(mx, c * dot);
        }
        const f = phi(featureMap, qi);
        let pz = 0;
        for (let t = 0; t < r; t++) pz += f[t] * kTilde(kParam, kappa[h * r + t]);
        let den = 0;
        for (let j = 0; j <= jmax; j++) den += Math.exp(s[j] - mx);
        const D = den + Math.exp(-mx) * pz;
        const w = Math.exp(-mx) / D;
        let delta = 0;
        for (let a = 0; a < d; a++) delta += gi[a] * oi[a];
        for (let j = 0; j <= jmax; j++) {
          const p = Math.exp(s[j] - mx) / D;
          let gv = 0;
          for (let a = 0; a < d; a++) gv += gi[a] * v[base + j * d + a];
          const ds = p * (gv - delta);
          for (let a = 0; a < d; a++) {
            dv[base + j * d + a] += p * gi[a];
            dq[base + i * d + a] += c * ds * k[base + j * d + a];
            dk[base + j * d + a] += c * ds * qi[a];
            dkAbs[base + j * d + a] += Math.abs(c * p * qi[a]) * (Math.abs(gv) + Math.abs(delta));
          }
        }
        const dphi = new Float64Array(r);
        for (let t = 0; t < r; t++) {
          let zg = 0;
          for (let a = 0; a < d; a++) {
            zg += z[(h * r + t) * d + a] * gi[a];
            dz[(h * r + t) * d + a] += w * f[t] * gi[a];
          }
          const kt = kTilde(kParam, kappa[h * r + t]);
          dphi[t] = w * (zg - delta * kt);
          dkt[h * r + t] -= w * f[t] * delta;
        }
        const dx = phiVjp(featureMap, qi, dphi);
        for (let a = 0; a < d; a++) dq[base + i * d + a] += dx[a];
      }
    }
  const dkappa = Float64Array.from(dkt, (g, idx) => g * kTildeGrad(kParam, kappa[idx]));
  const norm = (a: Float64Array) => Math.sqrt(a.reduce((acc, x) => acc + x * x, 0));
  const dkNorm = norm(dk);
  return { dq, dk, dv, dz, dkappa, dkCancel: dkNorm > 0 ? norm(dkAbs) / dkNorm : 1 };
}

/** Closed form from a prefix: k = Σ_p φ(p_p), Z = Σ_p φ(p_p) w_pᵀ (per head). */
export function ntkFromPrefixRef(pk: ArrayLike<number>, pv: ArrayLike<number>, H: number, m: number, d: number, map: FeatureMapName) {
  const r = featureDim(map, d);
  const z = new Float64Array(H * r * d);
  const kk = new Float64Array(H * r);
  for (let h = 0; h < H; h++)
    for (let p = 0; p < m; p++) {
      const f = phi(map, row(pk, (h * m + p) * d, d));
      for (let t = 0; t < r; t++) {
        kk[h * r + t] += f[t];
        for (let a = 0; a < d; a++) z[(h * r + t) * d + a] += f[t] * pv[(h * m + p) * d + a];
      }
    }
  return { z, k: kk };
}

/**
 * Prefix attention with e^{t} over the prefix replaced by 1 + t + t²/2 (t = c·q·p): what
 * NTK-Attention with the taylor2 map and the closed-form (Z, k) must equal exactly.
 */
export function taylorPrefixAttentionRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, pk: ArrayLike<number>, pv: ArrayLike<number>, B: number, H: number, L: number, d: number, m: number, causal = true) {
  const c = 1 / Math.sqrt(d);
  const o = new Float64Array(B * H * L * d);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const base = (b * H + h) * L * d;
      for (let i = 0; i < L; i++) {
        const num = new Float64Array(d);
        let den = 0;
        for (let p = 0; p < m; p++) {
          let t = 0;
          for (let a = 0; a < d; a++) t += q[base + i * d + a] * pk[(h * m + p) * d + a];
          t *= c;
          const e = 1 + t + (t * t) / 2;
          den += e;
          for (let a = 0; a < d; a++) num[a] += e * pv[(h * m + p) * d + a];
        }
        const jmax = causal ? i : L - 1;
        for (let j = 0; j <= jmax; j++) {
          let t = 0;
          for (let a = 0; a < d; a++) t += q[base + i * d + a] * k[base + j * d + a];
          const e = Math.exp(c * t);
          den += e;
          for (let a = 0; a < d; a++) num[a] += e * v[base + j * d + a];
        }
        for (let a = 0; a < d; a++) o[base + i * d + a] = num[a] / den;
      }
    }
  return o;
}
