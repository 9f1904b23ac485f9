// Prefix attention backward, query-parallel part:
//
//   dq_i = c·Σ_j dS_ij k̂_j over the prefix keys and the visible sequence keys,
//   dS_ij = P_ij (dO_i·v̂_j − Δ_i),  P_ij = e^{c·q_i·k̂_j − lse_i} (recomputed).
//
// One invocation owns one query row (q_i, dO_i and the dq accumulator in private
// arrays); a workgroup owns BR rows of one (b, h) and walks the prefix, then the sequence
// keys up to its last row (causal), BC keys at a time with workgroup-uniform key/value
// addresses (loop over d outside, the tile's keys inside; see the forward).
struct Params {
  H: u32,
  L: u32,
  m: u32,
  d: u32,
  causal: u32,
  scale: f32,
  accumulate: u32, // 1: dq += …
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>; // [B, H, L, d]
@group(0) @binding(2) var<storage, read> k: array<f32>; // [B, H, L, d]
@group(0) @binding(3) var<storage, read> v: array<f32>; // [B, H, L, d]
@group(0) @binding(4) var<storage, read> pk: array<f32>; // [H, m, d]
@group(0) @binding(5) var<storage, read> pv: array<f32>; // [H, m, d]
@group(0) @binding(6) var<storage, read> dO: array<f32>; // [B, H, L, d]
@group(0) @binding(7) var<storage, read> stats: array<f32>; // [B, H, L, 2]: lse, Δ
@group(0) @binding(8) var<storage, read_write> dq: array<f32>; // [B, H, L, d]

const DMAX: u32 = 128u;
const BR: u32 = 64u; // query rows per workgroup (= invocations)
const BC: u32 = 16u; // keys per step

var<private> qi: array<f32, DMAX>;
var<private> gi: array<f32, DMAX>;
var<private> acc: array<f32, DMAX>;
var<private> rowLse: f32;
var<private> delta: f32;

// Keys j0 … j0+BC−1 of a key set starting at element `base` of pk/pv (fromPrefix) or
// k/v; keys ≥ n are clamped for the loads and masked, as are keys j > visibleTo.
fn tile(fromPrefix: bool, base: u32, j0: u32, n: u32, visibleTo: u32) {
  let D = p.d;
  var off: array<u32, BC>;
  var s: array<f32, BC>;
  var dp: array<f32, BC>;
  for (var jj = 0u; jj < BC; jj++) {
    off[jj] = base + min(j0 + jj, n - 1u) * D;
    s[jj] = 0.0;
    dp[jj] = 0.0;
  }
  for (var e = 0u; e < D; e++) {
    let qe = qi[e];
    let ge = gi[e];
    if (fromPrefix) {
      for (var jj = 0u; jj < BC; jj++) {
        s[jj] = fma(qe, pk[off[jj] + e], s[jj]);
        dp[jj] = fma(ge, pv[off[jj] + e], dp[jj]);
      }
    } else {
      for (var jj = 0u; jj < BC; jj++) {
        s[jj] = fma(qe, k[off[jj] + e], s[jj]);
        dp[jj] = fma(ge, v[off[jj] + e], dp[jj]);
      }
    }
  }
  var ds: array<f32, BC>;
  for (var jj = 0u; jj < BC; jj++) {
    let j = j0 + jj;
    let pr = select(0.0, exp(p.scale * s[jj] - rowLse), j < n && j <= visibleTo);
    ds[jj] = pr * (dp[jj] - delta);
  }
  for (var e = 0u; e < D; e++) {
    var a = acc[e];
    if (fromPrefix) {
      for (var jj = 0u; jj < BC; jj++) { a = fma(ds[jj], pk[off[jj] + e], a); }
    } else {
      for (var jj = 0u; jj < BC; jj++) { a = fma(ds[jj], k[off[jj] + e], a); }
    }
    acc[e] = a;
  }
}

@compute @workgroup_size(BR)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let D = p.d;
  let bh = wg.y;
  let h = bh % p.H;
  let row0 = wg.x * BR;
  let row = row0 + lid.x;
  let i = min(row, p.L - 1u); // rows past L compute a copy of row L−1, store nothing
  let r = bh * p.L + i;
  for (var e = 0u; e < D; e++) {
    qi[e] = q[r * D + e];
    gi[e] = dO[r * D + e];
    acc[e] = 0.0;
  }
  rowLse = stats[2u * r];
  delta = stats[2u * r + 1u];

  let pBase = h * p.m * D;
  for (var j0 = 0u; j0 < p.m; j0 += BC) {
    tile(true, pBase, j0, p.m, 0xffffffffu);
  }
  var kEnd = p.L;
  var visibleTo = 0xffffffffu;
  if (p.causal != 0u) {
    kEnd = min(p.L, row0 + BR);
    visibleTo = i;
  }
  let kBase = bh * p.L * D;
  for (var j0 = 0u; j0 < kEnd; j0 += BC) {
    tile(false, kBase, j0, kEnd, visibleTo);
  }

  if (row < p.L) {
    for (var e = 0u; e < D; e++) {
      var a = p.scale * acc[e];
      if (p.accumulate != 0u) { a += dq[r * D + e]; }
      dq[r * D + e] = a;
    }
  }
}
