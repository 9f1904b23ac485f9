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

/**
 * taylor2's features folded onto their symmetric pairs (φ_ab = φ_ba): 1 + d + d(d+1)/2, the
 * count the per-row kernels loop over; elu1's r itself.
 */
export function foldedFeatureDim(map: FeatureMapName, d: number): number {
  return map === 'elu1' ? d : 1 + d + (d * (d + 1)) / 2;
}

/**
 * Z [H, r, d] and k̃ [H, r] folded the same way (ntk_taylor2_fold.wgsl): features 0 … d as
 * they are, then for a ≤ b row-major the rows (a, b) + (b, a) (one row when a = b).
 */
export function taylor2FoldRef(z: ArrayLike<number>, kt: ArrayLike<number>, H: number, d: number) {
  const r = featureDim('taylor2', d);
  const rf = foldedFeatureDim('taylor2', d);
  const zf = new Float64Array(H * rf * d);
  const ktf = new Float64Array(H * rf);
  for (let h = 0; h < H; h++) {
    const sources: number[][] = [];
    for (let t = 0; t <= d; t++) sources.push([t]);
    for (let a = 0; a < d; a++) for (let b = a; b < d; b++) sources.push(a === b ? [1 + d + a * d + a] : [1 + d + a * d + b, 1 + d + b * d + a]);
    sources.forEach((src, t) => {
      for (const u of src) {
        ktf[h * rf + t] += kt[h * r + u];
        for (let c = 0; c < d; c++) zf[(h * rf + t) * d + c] += z[(h * r + u) * d + c];
      }
    });
  }
  return { zf, ktf };
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

/**
 * |J_φ(x)|ᵀ g for g ≥ 0: phiVjp with every term's absolute value (the size of the terms the
 * vector-Jacobian product sums, for rounding scales).
 */
export function phiVjpAbs(map: FeatureMapName, x: ArrayLike<number>, g: ArrayLike<number>): Float64Array {
  // elu1's derivative is positive everywhere; taylor2's terms are products with x, so |x|.
  return map === 'elu1' ? phiVjp(map, x, g) : phiVjp(map, Array.from(x, Math.abs), g);
}

// Rounding scales. Next to each result the references return, element by element, the size
// M of what float32 rounding can do to it: every sum is replaced by the sum of its terms'
// absolute values, and every factor carries its own scale (M(a·b) = M(a)|b| + |a|M(b),
// M(a/D) = (M(a) + |a/D|·M(D))/|D|). An exp(x) is off by about |x| ulps of its argument on
// top of its own ulp, so each e^{s−max} weighs (1 + |s|-scale + |max| + |lse|). A float32
// computation in any summation order is then within about n·2⁻²⁴·M of the exact value (n:
// the longest chain of operations), however much the sums cancel: checks compare
// |gpu − ref| / M with a multiple of 2⁻²⁴ instead of a relative error, which a cancelling
// denominator φ(q)ᵀk̃ (taylor2, identity k̃), a dK whose terms cancel or a Δ = dO·o near 0
// would make fail by chance.

export interface NtkForwardRef {
  o: Float64Array;
  /** Prefix mass β_i = φ(q_i)ᵀk̃ / denominator. */
  beta: Float64Array;
  /** Rounding scales of o and β (see above). */
  oScale: Float64Array;
  betaScale: Float64Array;
}

export function ntkAttentionRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, z: ArrayLike<number>, kappa: ArrayLike<number>, dims: NtkDims): NtkForwardRef {
  const { B, H, L, d, featureMap } = dims;
  const r = featureDim(featureMap, d);
  const o = new Float64Array(B * H * L * d);
  const beta = new Float64Array(B * H * L);
  const oScale = new Float64Array(B * H * L * d);
  const betaScale = new Float64Array(B * H * L);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const base = (b * H + h) * L * d;
      for (let i = 0; i < L; i++) {
        const qi = row(q, base + i * d, d);
        const e = rowWeights(qi, k, base, i, dims);
        const f = phi(featureMap, qi);
        let pz = 0, pzAbs = 0;
        const num = new Float64Array(d);
        const numAbs = new Float64Array(d);
        for (let t = 0; t < r; t++) {
          const term = f[t] * kTilde(dims.kParam, kappa[h * r + t]);
          pz += term;
          pzAbs += Math.abs(term);
          for (let a = 0; a < d; a++) {
            num[a] += f[t] * z[(h * r + t) * d + a];
            numAbs[a] += Math.abs(f[t] * z[(h * r + t) * d + a]);
          }
        }
        const D = e.den + e.ea * pz;
        const ferr = e.expErr(D);
        const acc = new Float64Array(d);
        const accAbs = new Float64Array(d);
        let DAbs = e.ea * pzAbs * ferr;
        for (let j = 0; j < e.w.length; j++) {
          const we = e.w[j] * (ferr + e.sAbs[j]);
          DAbs += we;
          for (let a = 0; a < d; a++) {
            acc[a] += e.w[j] * v[base + j * d + a];
            accAbs[a] += we * Math.abs(v[base + j * d + a]);
          }
        }
        const rw = (b * H + h) * L + i;
        for (let a = 0; a < d; a++) {
          const oa = (acc[a] + e.ea * num[a]) / D;
          o[base + i * d + a] = oa;
          oScale[base + i * d + a] = (accAbs[a] + e.ea * numAbs[a] * ferr + Math.abs(oa) * DAbs) / Math.abs(D);
        }
        beta[rw] = (e.ea * pz) / D;
        betaScale[rw] = (e.ea * pzAbs * ferr + Math.abs(beta[rw]) * DAbs) / Math.abs(D);
      }
    }
  return { o, beta, oScale, betaScale };
}

/**
 * Row i's max-shifted softmax weights w_j = e^{S_ij − max} over its visible keys, their sum,
 * e^{−max} (the φ term's weight), the scale of each score (c·Σ|q·k|), and the exp error
 * factor given the row's shifted denominator D.
 */
function rowWeights(qi: number[], k: ArrayLike<number>, base: number, i: number, dims: NtkDims) {
  const { L, d } = dims;
  const c = dims.scale ?? 1 / Math.sqrt(d);
  const jmax = (dims.causal ?? true) ? i : L - 1;
  const s: number[] = [];
  const sAbs: number[] = [];
  let mx = -Infinity;
  for (let j = 0; j <= jmax; j++) {
    let dot = 0, dotAbs = 0;
    for (let a = 0; a < d; a++) {
      dot += qi[a] * k[base + j * d + a];
      dotAbs += Math.abs(qi[a] * k[base + j * d + a]);
    }
    s.push(c * dot);
    sAbs.push(c * dotAbs);
    mx = Math.max(mx, c * dot);
  }
  const w = s.map((x) => Math.exp(x - mx));
  const den = w.reduce((a, x) => a + x, 0);
  // 1 ulp for exp itself, |max| and |lse| = |max + log D| for the shift and log-sum-exp the
  // kernels may round (the split path goes through lse).
  const expErr = (D: number) => 1 + Math.abs(mx) + Math.abs(mx + Math.log(Math.abs(D)));
  return { w, den, ea: Math.exp(-mx), sAbs, expErr };
}

export interface NtkGradsRef {
  dq: Float64Array;
  dk: Float64Array;
  dv: Float64Array;
  dz: Float64Array;
  dkappa: Float64Array;
  /** Rounding scales of each gradient (see above). */
  scale: { dq: Float64Array; dk: Float64Array; dv: Float64Array; dz: Float64Array; dkappa: Float64Array };
}

export function ntkAttentionBackwardRef(
  q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, z: ArrayLike<number>, kappa: ArrayLike<number>, dO: ArrayLike<number>, dims: NtkDims,
): NtkGradsRef {
  const { B, H, L, d, featureMap, kParam } = dims;
  const c = dims.scale ?? 1 / Math.sqrt(d);
  const r = featureDim(featureMap, d);
  const { o, oScale } = ntkAttentionRef(q, k, v, z, kappa, dims);
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  const dz = new Float64Array(z.length);
  const dkt = new Float64Array(H * r);
  const sc = { dq: new Float64Array(q.length), dk: new Float64Array(k.length), dv: new Float64Array(v.length), dz: new Float64Array(z.length), dkt: new Float64Array(H * r) };
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const base = (b * H + h) * L * d;
      for (let i = 0; i < L; i++) {
        const qi = row(q, base + i * d, d);
        const gi = row(dO, base + i * d, d);
        const oi = row(o, base + i * d, d);
        const e = rowWeights(qi, k, base, i, dims);
        const f = phi(featureMap, qi);
        let pz = 0, pzAbs = 0;
        for (let t = 0; t < r; t++) {
          pz += f[t] * kTilde(kParam, kappa[h * r + t]);
          pzAbs += Math.abs(f[t] * kTilde(kParam, kappa[h * r + t]));
        }
        const D = e.den + e.ea * pz;
        const ferr = e.expErr(D);
        const DAbs = e.ea * pzAbs * ferr + e.w.reduce((acc, x, j) => acc + x * (ferr + e.sAbs[j]), 0);
        const w = e.ea / D;
        const wAbs = Math.abs(w) * (ferr + DAbs / Math.abs(D));
        let delta = 0, deltaAbs = 0;
        for (let a = 0; a < d; a++) {
          delta += gi[a] * oi[a];
          deltaAbs += Math.abs(gi[a]) * (oScale[base + i * d + a] + Math.abs(oi[a]));
        }
        for (let j = 0; j < e.w.length; j++) {
          const p = e.w[j] / D;
          const pAbs = Math.abs(p) * (ferr + e.sAbs[j] + DAbs / Math.abs(D));
          let gv = 0, gvAbs = 0;
          for (let a = 0; a < d; a++) {
            gv += gi[a] * v[base + j * d + a];
            gvAbs += Math.abs(gi[a] * v[base + j * d + a]);
          }
          const ds = p * (gv - delta);
          const dsAbs = pAbs * Math.abs(gv - delta) + Math.abs(p) * (gvAbs + deltaAbs) + Math.abs(ds);
          for (let a = 0; a < d; a++) {
            dv[base + j * d + a] += p * gi[a];
            dq[base + i * d + a] += c * ds * k[base + j * d + a];
            dk[base + j * d + a] += c * ds * qi[a];
            sc.dv[base + j * d + a] += pAbs * Math.abs(gi[a]);
            sc.dq[base + i * d + a] += c * dsAbs * Math.abs(k[base + j * d + a]);
            sc.dk[base + j * d + a] += c * dsAbs * Math.abs(qi[a]);
          }
        }
        const dphi = new Float64Array(r);
        const dphiAbs = new Float64Array(r);
        for (let t = 0; t < r; t++) {
          let zg = 0, zgAbs = 0;
          for (let a = 0; a < d; a++) {
            zg += z[(h * r + t) * d + a] * gi[a];
            zgAbs += Math.abs(z[(h * r + t) * d + a] * gi[a]);
            dz[(h * r + t) * d + a] += w * f[t] * gi[a];
            sc.dz[(h * r + t) * d + a] += wAbs * Math.abs(f[t] * gi[a]);
          }
          const kt = kTilde(kParam, kappa[h * r + t]);
          dphi[t] = w * (zg - delta * kt);
          dphiAbs[t] = wAbs * Math.abs(zg - delta * kt) + Math.abs(w) * (zgAbs + deltaAbs * Math.abs(kt)) + Math.abs(dphi[t]);
          dkt[h * r + t] -= w * f[t] * delta;
          sc.dkt[h * r + t] += wAbs * Math.abs(f[t] * delta) + Math.abs(w * f[t]) * deltaAbs;
        }
        const dx = phiVjp(featureMap, qi, dphi);
        const dxAbs = phiVjpAbs(featureMap, qi, dphiAbs);
        for (let a = 0; a < d; a++) {
          dq[base + i * d + a] += dx[a];
          sc.dq[base + i * d + a] += dxAbs[a];
        }
      }
    }
  const dkappa = Float64Array.from(dkt, (g, idx) => g * kTildeGrad(kParam, kappa[idx]));
  const dkappaScale = Float64Array.from(sc.dkt, (m, idx) => (m + Math.abs(dkt[idx])) * Math.abs(kTildeGrad(kParam, kappa[idx])));
  return { dq, dk, dv, dz, dkappa, scale: { dq: sc.dq, dk: sc.dk, dv: sc.dv, dz: sc.dz, dkappa: dkappaScale } };
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
