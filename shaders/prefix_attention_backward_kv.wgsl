// Prefix attention backward, key/value-parallel part: dK, dV of one key set, either the
// sequence keys of one (b, h) or the prefix keys of one head h summed over the whole batch.
// The same shader serves both (two dispatches; the wrapper binds k/v or pk/pv):
//
//   dv_j = Σ_i P_ij dO_i,   dk_j = c·Σ_i dS_ij q_i,   dS_ij = P_ij (dO_i·v_j − Δ_i),
//   P_ij = e^{c·q_i·k_j − lse_i} (recomputed from the forward's lse; masked keys 0).
//
// Each invocation owns R keys (k, v and both accumulators in private arrays); a workgroup
// of WG invocations owns BK = WG·R consecutive keys (key j0 + r·WG + lid) of one key
// group (wg.y: b·H + h for the sequence, h for the prefix) and walks the query rows in
// order, RT at a time: every sum has a fixed order (deterministic, no atomics; for the
// prefix the workgroup loops over every batch entry itself). Query rows are read at
// workgroup-uniform addresses (a broadcast), loop over d outside, rows and keys inside;
// see the forward for why, and for the R / WG / RT choices per adapter.
struct Params {
  H: u32,
  L: u32,
  d: u32,
  nKeys: u32, // keys in the set: L (sequence) or m (prefix)
  prefix: u32, // 1: key group = h, rows of every batch entry; 0: key group = b·H + h
  B: u32,
  causal: u32, // sequence only: row i sees keys j ≤ i
  scale: f32,
  accumulate: u32, // 1: dk += …, dv += …
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>; // [B, H, L, d]
@group(0) @binding(2) var<storage, read> keys: array<f32>; // [groups, nKeys, d]
@group(0) @binding(3) var<storage, read> vals: array<f32>; // [groups, nKeys, d]
@group(0) @binding(4) var<storage, read> dO: array<f32>; // [B, H, L, d]
@group(0) @binding(5) var<storage, read> stats: array<f32>; // [B, H, L, 2]: lse, Δ
@group(0) @binding(6) var<storage, read_write> dk: array<f32>; // like keys
@group(0) @binding(7) var<storage, read_write> dv: array<f32>; // like vals

const DMAX: u32 = 128u;
const R: u32 = ${R}u; // keys per invocation
const WG: u32 = ${WG}u; // invocations per workgroup
const BK: u32 = WG * R; // keys per workgroup
const RT: u32 = ${BC}u; // query rows per step

var<private> kj: array<array<f32, R>, DMAX>;
var<private> vj: array<array<f32, R>, DMAX>;
var<private> dkj: array<array<f32, R>, DMAX>;
var<private> dvj: array<array<f32, R>, DMAX>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let D = p.d;
  let group = wg.y;
  let h = group % p.H;
  let j0 = wg.x * BK;
  // Keys past the set compute a copy of the last key and store nothing.
  var jRaw: array<u32, R>;
  var j: array<u32, R>;
  for (var r = 0u; r < R; r++) {
    jRaw[r] = j0 + r * WG + lid.x;
    j[r] = min(jRaw[r], p.nKeys - 1u);
  }
  for (var e = 0u; e < D; e++) {
    for (var r = 0u; r < R; r++) {
      let kOff = (group * p.nKeys + j[r]) * D;
      kj[e][r] = keys[kOff + e];
      vj[e][r] = vals[kOff + e];
      dkj[e][r] = 0.0;
      dvj[e][r] = 0.0;
    }
  }
  var bFirst = group / p.H;
  var bEnd = bFirst + 1u;
  if (p.prefix != 0u) {
    bFirst = 0u;
    bEnd = p.B;
  }
  // Under the causal mask, rows before this workgroup's first key see none of its keys.
  let causal = p.prefix == 0u && p.causal != 0u;
  var iFirst = 0u;
  if (causal) { iFirst = j0; }
  for (var b = bFirst; b < bEnd; b++) {
    let rowBase = (b * p.H + h) * p.L;
    for (var i0 = iFirst; i0 < p.L; i0 += RT) {
      // Rows past L are clamped for the loads and masked.
      var ro: array<u32, RT>;
      for (var t = 0u; t < RT; t++) { ro[t] = rowBase + min(i0 + t, p.L - 1u); }
      // Explicitly zeroed: a declaration inside a loop was not re-zeroed per iteration on
      // lavapipe (Dawn/Tint 2025), though WGSL says it should be.
      var s: array<array<f32, RT>, R>;
      var dp: array<array<f32, RT>, R>;
      for (var r = 0u; r < R; r++) {
        for (var t = 0u; t < RT; t++) {
          s[r][t] = 0.0;
          dp[r][t] = 0.0;
        }
      }
      for (var e = 0u; e < D; e++) {
        let ke = kj[e];
        let ve = vj[e];
        for (var t = 0u; t < RT; t++) {
          let qv = q[ro[t] * D + e];
          let gv = dO[ro[t] * D + e];
          for (var r = 0u; r < R; r++) {
            s[r][t] = fma(qv, ke[r], s[r][t]);
            dp[r][t] = fma(gv, ve[r], dp[r][t]);
          }
        }
      }
      var pr: array<array<f32, RT>, R>;
      var ds: array<array<f32, RT>, R>;
      for (var t = 0u; t < RT; t++) {
        let i = i0 + t;
        let rowLse = stats[2u * ro[t]];
        let delta = stats[2u * ro[t] + 1u];
        for (var r = 0u; r < R; r++) {
          let seen = i < p.L && (!causal || j[r] <= i);
          pr[r][t] = select(0.0, exp(p.scale * s[r][t] - rowLse), seen);
          ds[r][t] = pr[r][t] * (dp[r][t] - delta);
        }
      }
      for (var e = 0u; e < D; e++) {
        var a = dvj[e];
        var c = dkj[e];
        for (var t = 0u; t < RT; t++) {
          let gv = dO[ro[t] * D + e];
          let qv = q[ro[t] * D + e];
          for (var r = 0u; r < R; r++) {
            a[r] = fma(pr[r][t], gv, a[r]);
            c[r] = fma(ds[r][t], qv, c[r]);
          }
        }
        dvj[e] = a;
        dkj[e] = c;
      }
    }
  }
  for (var r = 0u; r < R; r++) {
    if (jRaw[r] < p.nKeys) {
      let kOff = (group * p.nKeys + j[r]) * D;
      for (var e = 0u; e < D; e++) {
        var a = p.scale * dkj[e][r];
        var c = dvj[e][r];
        if (p.accumulate != 0u) {
          a += dk[kOff + e];
          c += dv[kOff + e];
        }
        dk[kOff + e] = a;
        dv[kOff + e] = c;
      }
    }
  }
}
