// float64 references for prefix attention (docs/ntk-attention.md §2 forward, §3 backward).
//
// One layer, per batch b and head h, with t_ip = c·q_i·p_p (prefix keys Pk[h]) and
// S_ij = c·q_i·k_j (sequence keys K[b,h]):
//
//   o_i = (Σ_p e^{t_ip} w_p + Σ_{j visible} e^{S_ij} v_j) / (Σ_p e^{t_ip} + Σ_{j visible} e^{S_ij})
//
// where "visible" is j ≤ i (causal) or every j (non-causal); every query sees the whole
// prefix. lse_i is the log of the denominator, β_i the prefix's share of it.
// Layouts: Q, K, V, O, dO [B, H, L, d]; Pk, Pv [H, m, d]; lse, β [B, H, L].

export interface PrefixAttentionDims {
  B: number;
  H: number;
  L: number;
  d: number;
  /** Prefix length (0 allowed). */
  m: number;
  /** Query i sees sequence keys j ≤ i only (the prefix always). Default true. */
  causal?: boolean;
  /** Score scale c; default 1/√d. */
  scale?: number;
}

/**
 * The score scale the wrappers (prefix_attention.ts, attention_unfused.ts) pass their kernels.
 * The references below do not use it: they compute c from d themselves, so that a wrong
 * scale in the wrappers' path shows up as a mismatch instead of being shared by both sides.
 */
export const attnScale = (dims: PrefixAttentionDims) => dims.scale ?? 1 / Math.sqrt(dims.d);

export interface PrefixAttentionInputs {
  q: ArrayLike<number>;
  k: ArrayLike<number>;
  v: ArrayLike<number>;
  pk: ArrayLike<number>;
  pv: ArrayLike<number>;
}

/**
 * The softmax row of query (b, h, i) over [prefix; sequence] (length m + L, masked keys
 * 0), with its log-sum-exp. Max-shifted so that large scores do not overflow.
 */
function probRow(x: PrefixAttentionInputs, dims: PrefixAttentionDims, b: number, h: number, i: number): { p: Float64Array; lse: number } {
  const { H, L, d, m } = dims;
  const causal = dims.causal ?? true;
  const c = dims.scale ?? 1 / Math.sqrt(d);
  const qo = ((b * H + h) * L + i) * d;
  const s = new Float64Array(m + L).fill(-Infinity);
  for (let p = 0; p < m; p++) {
    let t = 0;
    for (let e = 0; e < d; e++) t += x.q[qo + e] * x.pk[(h * m + p) * d + e];
    s[p] = c * t;
  }
  for (let j = 0; j < L; j++) {
    if (causal && j > i) continue;
    let t = 0;
    for (let e = 0; e < d; e++) t += x.q[qo + e] * x.k[((b * H + h) * L + j) * d + e];
    s[m + j] = c * t;
  }
  let mx = -Infinity;
  for (const t of s) mx = Math.max(mx, t);
  let sum = 0;
  for (const t of s) sum += Math.exp(t - mx);
  const p = s.map((t) => Math.exp(t - mx) / sum);
  return { p, lse: mx + Math.log(sum) };
}

/** The value row of key index r of [prefix; sequence] for (b, h), as an offset into pv or v. */
function valueAt(x: PrefixAttentionInputs, dims: PrefixAttentionDims, b: number, h: number, r: number): { arr: ArrayLike<number>; off: number } {
  const { H, L, d, m } = dims;
  return r < m ? { arr: x.pv, off: (h * m + r) * d } : { arr: x.v, off: ((b * H + h) * L + (r - m)) * d };
}

export function prefixAttentionRef(x: PrefixAttentionInputs, dims: PrefixAttentionDims): { o: Float64Array; lse: Float64Array; beta: Float64Array } {
  const { B, H, L, d, m } = dims;
  const o = new Float64Array(B * H * L * d);
  const lse = new Float64Array(B * H * L);
  const beta = new Float64Array(B * H * L);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < L; i++) {
        const row = (b * H + h) * L + i;
        const r = probRow(x, dims, b, h, i);
        lse[row] = r.lse;
        let bsum = 0;
        for (let p = 0; p < m; p++) bsum += r.p[p];
        beta[row] = bsum;
        for (let jj = 0; jj < m + L; jj++) {
          if (r.p[jj] === 0) continue;
          const { arr, off } = valueAt(x, dims, b, h, jj);
          for (let e = 0; e < d; e++) o[row * d + e] += r.p[jj] * arr[off + e];
        }
      }
  return { o, lse, beta };
}

export interface PrefixAttentionGrads {
  dq: Float64Array;
  dk: Float64Array;
  dv: Float64Array;
  /** Summed over the batch (the prefix is shared). */
  dpk: Float64Array;
  dpv: Float64Array;
}

/**
 * Gradients of Σ dO ⊙ O with respect to Q, K, V, Pk, Pv, written from the definitions:
 * P̂ the softmax row over [prefix; sequence], Δ_i = Σ_r P̂_ir (dO_i·v̂_r) (= dO_i·o_i),
 * dŜ = P̂ ⊙ (dO·V̂ᵀ − Δ), dV̂ = P̂ᵀ dO, dK̂ = c·dŜᵀ Q, dQ = c·dŜ K̂.
 */
export function prefixAttentionBackwardRef(x: PrefixAttentionInputs, dO: ArrayLike<number>, dims: PrefixAttentionDims): PrefixAttentionGrads {
  const { B, H, L, d, m } = dims;
  const c = dims.scale ?? 1 / Math.sqrt(d);
  const g: PrefixAttentionGrads = {
    dq: new Float64Array(B * H * L * d),
    dk: new Float64Array(B * H * L * d),
    dv: new Float64Array(B * H * L * d),
    dpk: new Float64Array(H * m * d),
    dpv: new Float64Array(H * m * d),
  };
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < L; i++) {
        const row = (b * H + h) * L + i;
        const { p } = probRow(x, dims, b, h, i);
        // dP_ir = dO_i·v̂_r, Δ_i = Σ_r P_ir dP_ir
        const dp = new Float64Array(m + L);
        let delta = 0;
        for (let r = 0; r < m + L; r++) {
          if (p[r] === 0) continue;
          const { arr, off } = valueAt(x, dims, b, h, r);
          let t = 0;
          for (let e = 0; e < d; e++) t += dO[row * d + e] * arr[off + e];
          dp[r] = t;
          delta += p[r] * t;
        }
        for (let r = 0; r < m + L; r++) {
          if (p[r] === 0) continue;
          const ds = p[r] * (dp[r] - delta);
          const keyOff = r < m ? (h * m + r) * d : ((b * H + h) * L + (r - m)) * d;
          const keys = r < m ? x.pk : x.k;
          const dKeys = r < m ? g.dpk : g.dk;
          const dVals = r < m ? g.dpv : g.dv;
          for (let e = 0; e < d; e++) {
            g.dq[row * d + e] += c * ds * keys[keyOff + e];
            dKeys[keyOff + e] += c * ds * x.q[row * d + e];
            dVals[keyOff + e] += p[r] * dO[row * d + e];
          }
        }
      }
  return g;
}
