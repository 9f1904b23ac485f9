// Prefix attention backward, query-parallel part:
//
//   dq_i = c·Σ_j dS_ij k̂_j over the prefix keys and the visible sequence keys,
//   dS_ij = P_ij (dO_i·v̂_j − Δ_i),  P_ij = e^{c·q_i·k̂_j − lse_i} (recomputed).
//
// Each invocation owns R query rows (q, dO and the dq accumulators in private arrays);
// a workgroup of WG invocations owns BR = WG·R rows of one (b, h) (row row0 + r·WG + lid)
// and walks the prefix, then the sequence keys up to its last row (causal), BC keys at a
// time with workgroup-uniform key/value addresses, loop over d outside, keys and rows
// inside. See the forward for why, and for the R / WG / BC choices per adapter.
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
const R: u32 = ${R}u; // query rows per invocation
const WG: u32 = ${WG}u; // invocations per workgroup
const BR: u32 = WG * R; // query rows per workgroup
const BC: u32 = ${BC}u; // keys per step
const ALL: u32 = 0xffffffffu;

var<private> qi: array<array<f32, R>, DMAX>;
var<private> gi: array<array<f32, R>, DMAX>;
var<private> acc: array<array<f32, R>, DMAX>;
var<private> rowLse: array<f32, R>;
var<private> delta: array<f32, R>;

// Keys j0 … j0+BC−1 of a key set starting at element `base` of pk/pv (fromPrefix) or
// k/v; keys ≥ n are clamped for the loads and masked, as are keys j > visibleTo[r].
fn tile(fromPrefix: bool, base: u32, j0: u32, n: u32, visibleTo: array<u32, R>) {
  let D = p.d;
  var off: array<u32, BC>;
  for (var jj = 0u; jj < BC; jj++) { off[jj] = base + min(j0 + jj, n - 1u) * D; }
  var s: array<array<f32, BC>, R>;
  var dp: array<array<f32, BC>, R>;
  // The source branch is outside the loops (uniform; the loops are written twice).
  if (fromPrefix) {
    for (var e = 0u; e < D; e++) {
      let qe = qi[e];
      let ge = gi[e];
      for (var jj = 0u; jj < BC; jj++) {
        let kv = pk[off[jj] + e];
        let vv = pv[off[jj] + e];
        for (var r = 0u; r < R; r++) {
          s[r][jj] = fma(qe[r], kv, s[r][jj]);
          dp[r][jj] = fma(ge[r], vv, dp[r][jj]);
        }
      }
    }
  } else {
    for (var e = 0u; e < D; e++) {
      let qe = qi[e];
      let ge = gi[e];
      for (var jj = 0u; jj < BC; jj++) {
        let kv = k[off[jj] + e];
        let vv = v[off[jj] + e];
        for (var r = 0u; r < R; r++) {
          s[r][jj] = fma(qe[r], kv, s[r][jj]);
          dp[r][jj] = fma(ge[r], vv, dp[r][jj]);
        }
      }
    }
  }
  var ds: array<array<f32, BC>, R>;
  for (var r = 0u; r < R; r++) {
    for (var jj = 0u; jj < BC; jj++) {
      let j = j0 + jj;
      let pr = select(0.0, exp(p.scale * s[r][jj] - rowLse[r]), j < n && j <= visibleTo[r]);
      ds[r][jj] = pr * (dp[r][jj] - delta[r]);
    }
  }
  if (fromPrefix) {
    for (var e = 0u; e < D; e++) {
      var a = acc[e];
      for (var jj = 0u; jj < BC; jj++) {
        let kv = pk[off[jj] + e];
        for (var r = 0u; r < R; r++) { a[r] = fma(ds[r][jj], kv, a[r]); }
      }
      acc[e] = a;
    }
  } else {
    for (var e = 0u; e < D; e++) {
      var a = acc[e];
      for (var jj = 0u; jj < BC; jj++) {
        let kv = k[off[jj] + e];
        for (var r = 0u; r < R; r++) { a[r] = fma(ds[r][jj], kv, a[r]); }
      }
      acc[e] = a;
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let D = p.d;
  let bh = wg.y;
  let h = bh % p.H;
  let row0 = wg.x * BR;
  // Rows past L compute a copy of row L−1 and store nothing.
  var row: array<u32, R>;
  var ro: array<u32, R>;
  var visibleTo: array<u32, R>;
  var everything: array<u32, R>;
  for (var r = 0u; r < R; r++) {
    row[r] = row0 + r * WG + lid.x;
    let i = min(row[r], p.L - 1u);
    ro[r] = bh * p.L + i;
    visibleTo[r] = select(ALL, i, p.causal != 0u);
    everything[r] = ALL;
    rowLse[r] = stats[2u * ro[r]];
    delta[r] = stats[2u * ro[r] + 1u];
  }
  for (var e = 0u; e < D; e++) {
    for (var r = 0u; r < R; r++) {
      qi[e][r] = q[ro[r] * D + e];
      gi[e][r] = dO[ro[r] * D + e];
      acc[e][r] = 0.0;
    }
  }

  // Tiles of the prefix, then of the sequence (causal: up to this workgroup's last row).
  // One call site for tile(): it is inlined, and each copy costs LLVM time on lavapipe.
  let pTiles = (p.m + BC - 1u) / BC;
  var kEnd = p.L;
  if (p.causal != 0u) { kEnd = min(p.L, row0 + BR); }
  let nTiles = pTiles + (kEnd + BC - 1u) / BC;
  for (var t = 0u; t < nTiles; t++) {
    let fromPrefix = t < pTiles;
    var base = bh * p.L * D;
    var j0 = (t - pTiles) * BC;
    var n = kEnd;
    var vis = visibleTo;
    if (fromPrefix) {
      base = h * p.m * D;
      j0 = t * BC;
      n = p.m;
      vis = everything;
    }
    tile(fromPrefix, base, j0, n, vis);
  }

  for (var r = 0u; r < R; r++) {
    if (row[r] < p.L) {
      for (var e = 0u; e < D; e++) {
        var a = p.scale * acc[e][r];
        if (p.accumulate != 0u) { a += dq[ro[r] * D + e]; }
        dq[ro[r] * D + e] = a;
      }
    }
  }
}
