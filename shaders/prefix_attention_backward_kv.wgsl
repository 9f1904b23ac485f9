// Prefix attention backward, key/value-parallel part: dK, dV of one key set, either the
// sequence keys of one (b, h) or the prefix keys of one head h summed over the whole batch.
// The same shader serves both (two dispatches; the wrapper binds k/v or pk/pv):
//
//   dv_j = Σ_i P_ij dO_i,   dk_j = c·Σ_i dS_ij q_i,   dS_ij = P_ij (dO_i·v_j − Δ_i),
//   P_ij = e^{c·q_i·k_j − lse_i} (recomputed from the forward's lse; masked keys 0).
//
// One invocation owns one key j (k_j, v_j and both accumulators in private arrays); a
// workgroup owns BK consecutive keys of one key group (wg.y: b·H + h for the sequence,
// h for the prefix) and walks the query rows in order, RT at a time: the sums have a
// fixed order (deterministic, no atomics; for the prefix the workgroup loops over every
// batch entry itself). Query rows are read at workgroup-uniform addresses (a broadcast)
// with the loop over d outside and the RT rows inside, as in the forward.
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
const BK: u32 = 64u; // keys per workgroup (= invocations)
const RT: u32 = 16u; // query rows per step

var<private> kj: array<f32, DMAX>;
var<private> vj: array<f32, DMAX>;
var<private> dkj: array<f32, DMAX>;
var<private> dvj: array<f32, DMAX>;

@compute @workgroup_size(BK)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let D = p.d;
  let group = wg.y;
  let h = group % p.H;
  let j0 = wg.x * BK;
  let jRaw = j0 + lid.x;
  // Keys past the set compute a copy of the last key and store nothing.
  let j = min(jRaw, p.nKeys - 1u);
  let kOff = (group * p.nKeys + j) * D;
  for (var e = 0u; e < D; e++) {
    kj[e] = keys[kOff + e];
    vj[e] = vals[kOff + e];
    dkj[e] = 0.0;
    dvj[e] = 0.0;
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
      var r: array<u32, RT>;
      var s: array<f32, RT>;
      var dp: array<f32, RT>;
      for (var t = 0u; t < RT; t++) {
        r[t] = rowBase + min(i0 + t, p.L - 1u);
        s[t] = 0.0;
        dp[t] = 0.0;
      }
      for (var e = 0u; e < D; e++) {
        let ke = kj[e];
        let ve = vj[e];
        for (var t = 0u; t < RT; t++) {
          s[t] = fma(q[r[t] * D + e], ke, s[t]);
          dp[t] = fma(dO[r[t] * D + e], ve, dp[t]);
        }
      }
      var pr: array<f32, RT>;
      var ds: array<f32, RT>;
      for (var t = 0u; t < RT; t++) {
        let i = i0 + t;
        let seen = i < p.L && (!causal || j <= i);
        pr[t] = select(0.0, exp(p.scale * s[t] - stats[2u * r[t]]), seen);
        ds[t] = pr[t] * (dp[t] - stats[2u * r[t] + 1u]);
      }
      for (var e = 0u; e < D; e++) {
        var a = dvj[e];
        var c = dkj[e];
        for (var t = 0u; t < RT; t++) {
          a = fma(pr[t], dO[r[t] * D + e], a);
          c = fma(ds[t], q[r[t] * D + e], c);
        }
        dvj[e] = a;
        dkj[e] = c;
      }
    }
  }
  if (jRaw < p.nKeys) {
    for (var e = 0u; e < D; e++) {
      var a = p.scale * dkj[e];
      var c = dvj[e];
      if (p.accumulate != 0u) {
        a += dk[kOff + e];
        c += dv[kOff + e];
      }
      dk[kOff + e] = a;
      dv[kOff + e] = c;
    }
  }
}
