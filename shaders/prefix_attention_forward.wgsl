// Fused prefix attention, forward: O, the row log-sum-exp lse and (wantBeta) the prefix
// mass β, streaming over the m prefix keys and then the sequence keys with an online
// softmax. No score matrix is stored: memory is O(B·H·L·d) beyond the prefix for any m.
//
// Each invocation owns R query rows of one (b, h) (c·q and the output accumulators in
// private arrays); a workgroup of WG invocations owns BR = WG·R consecutive rows (row
// row0 + r·WG + lid). Keys are walked in tiles of BC: the tile's scores (loop over the
// head dim outside, the BC keys and R rows inside), per row the tile max and one rescale
// of the running sum and accumulator, then the tile's values (dim outside again).
//
// Why this shape: every key/value address depends only on the workgroup and loop
// counters, so all invocations read the same address: on software adapters (lavapipe,
// SwiftShader) that is one scalar load and a broadcast, on GPUs a broadcast within the
// warp; staging keys through workgroup memory would only add a copy and barriers on CPU
// adapters. Each key value loaded feeds R multiply-adds. The head dim d is a runtime
// value (one pipeline for every d: per-d unrolled variants cost seconds of LLVM time
// each on lavapipe); only the tile loops have constant trip counts and unroll.
// Defines (the wrapper picks them per adapter): R, WG, BC. Software adapters: R = 8,
// WG = 8 (one SIMD batch per workgroup; measured 3-4x faster than R = 1 on lavapipe);
// GPUs: R = 1, WG = 64 (registers are scarce there).
//
// Wrapper: src/kernels/prefix_attention.ts. Reference: prefix_attention.ref.ts.
struct Params {
  H: u32,
  L: u32,
  m: u32,
  d: u32,
  causal: u32, // 1: query i sees sequence keys j ≤ i (and the whole prefix)
  scale: f32,
  wantBeta: u32, // 0: the beta binding is a placeholder
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>; // [B, H, L, d]
@group(0) @binding(2) var<storage, read> k: array<f32>; // [B, H, L, d]
@group(0) @binding(3) var<storage, read> v: array<f32>; // [B, H, L, d]
@group(0) @binding(4) var<storage, read> pk: array<f32>; // [H, m, d]
@group(0) @binding(5) var<storage, read> pv: array<f32>; // [H, m, d]
@group(0) @binding(6) var<storage, read_write> o: array<f32>; // [B, H, L, d]
@group(0) @binding(7) var<storage, read_write> lse: array<f32>; // [B, H, L]
@group(0) @binding(8) var<storage, read_write> beta: array<f32>; // [B, H, L]

const DMAX: u32 = 128u; // largest head dim (MAX_HEAD_DIM in the wrapper)
const R: u32 = ${R}u; // query rows per invocation
const WG: u32 = ${WG}u; // invocations per workgroup
const BR: u32 = WG * R; // query rows per workgroup
const BC: u32 = ${BC}u; // keys per online-softmax tile
const ALL: u32 = 0xffffffffu;
// Stands in for −∞ (WGSL has no infinity literal): e^{NEG − x} = 0 for any real score x.
const NEG: f32 = -1.0e30;

// Per row r: c·q (the scale folded in once) and the online-softmax state: running max
// mx, l = Σ e^{s − mx}, acc = Σ e^{s − mx}·v.
var<private> qs: array<array<f32, R>, DMAX>;
var<private> acc: array<array<f32, R>, DMAX>;
var<private> mx: array<f32, R>;
var<private> l: array<f32, R>;

// Keys j0 … j0+BC−1 of a key set whose key 0 starts at element `base` of pk/pv
// (fromPrefix) or k/v. Keys ≥ n are clamped to n−1 for the loads and masked, as are
// keys j > visibleTo[r] for row r (the causal mask; ALL for none). All but visibleTo
// are workgroup-uniform.
fn tile(fromPrefix: bool, base: u32, j0: u32, n: u32, visibleTo: array<u32, R>) {
  let D = p.d;
  var off: array<u32, BC>;
  for (var jj = 0u; jj < BC; jj++) { off[jj] = base + min(j0 + jj, n - 1u) * D; }
  var s: array<array<f32, BC>, R>;
  // The source branch is outside the loops (uniform; the loops are written twice).
  if (fromPrefix) {
    for (var e = 0u; e < D; e++) {
      let qe = qs[e];
      for (var jj = 0u; jj < BC; jj++) {
        let kv = pk[off[jj] + e];
        for (var r = 0u; r < R; r++) { s[r][jj] = fma(qe[r], kv, s[r][jj]); }
      }
    }
  } else {
    for (var e = 0u; e < D; e++) {
      let qe = qs[e];
      for (var jj = 0u; jj < BC; jj++) {
        let kv = k[off[jj] + e];
        for (var r = 0u; r < R; r++) { s[r][jj] = fma(qe[r], kv, s[r][jj]); }
      }
    }
  }
  var w: array<array<f32, BC>, R>;
  var corr: array<f32, R>;
  for (var r = 0u; r < R; r++) {
    var tmax = NEG;
    for (var jj = 0u; jj < BC; jj++) {
      let j = j0 + jj;
      s[r][jj] = select(NEG, s[r][jj], j < n && j <= visibleTo[r]);
      tmax = max(tmax, s[r][jj]);
    }
    let mnew = max(mx[r], tmax);
    // Before the row's first visible key mx = NEG: corr is 0 or 1, and l, acc are still 0.
    corr[r] = exp(mx[r] - mnew);
    var lt = 0.0;
    for (var jj = 0u; jj < BC; jj++) {
      let j = j0 + jj;
      w[r][jj] = select(0.0, exp(s[r][jj] - mnew), j < n && j <= visibleTo[r]);
      lt += w[r][jj];
    }
    l[r] = l[r] * corr[r] + lt;
    mx[r] = mnew;
  }
  if (fromPrefix) {
    for (var e = 0u; e < D; e++) {
      var a = acc[e];
      for (var r = 0u; r < R; r++) { a[r] *= corr[r]; }
      for (var jj = 0u; jj < BC; jj++) {
        let vv = pv[off[jj] + e];
        for (var r = 0u; r < R; r++) { a[r] = fma(w[r][jj], vv, a[r]); }
      }
      acc[e] = a;
    }
  } else {
    for (var e = 0u; e < D; e++) {
      var a = acc[e];
      for (var r = 0u; r < R; r++) { a[r] *= corr[r]; }
      for (var jj = 0u; jj < BC; jj++) {
        let vv = v[off[jj] + e];
        for (var r = 0u; r < R; r++) { a[r] = fma(w[r][jj], vv, a[r]); }
      }
      acc[e] = a;
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let D = p.d;
  let bh = wg.y; // b·H + h
  let h = bh % p.H;
  let row0 = wg.x * BR;
  // Rows past L compute a copy of row L−1 (keeps every load in bounds and the control
  // flow uniform) and store nothing.
  var row: array<u32, R>;
  var i: array<u32, R>;
  var visibleTo: array<u32, R>;
  var everything: array<u32, R>;
  for (var r = 0u; r < R; r++) {
    row[r] = row0 + r * WG + lid.x;
    i[r] = min(row[r], p.L - 1u);
    visibleTo[r] = select(ALL, i[r], p.causal != 0u);
    everything[r] = ALL;
    mx[r] = NEG;
    l[r] = 0.0;
  }
  for (var e = 0u; e < D; e++) {
    for (var r = 0u; r < R; r++) {
      qs[e][r] = p.scale * q[(bh * p.L + i[r]) * D + e];
      acc[e][r] = 0.0;
    }
  }

  // Tiles of the prefix (seen by every query), then of the sequence (under the causal
  // mask only keys up to this workgroup's last row). One call site for tile(): it is
  // inlined, and each copy costs LLVM time on software adapters.
  let pTiles = (p.m + BC - 1u) / BC;
  var kEnd = p.L;
  if (p.causal != 0u) { kEnd = min(p.L, row0 + BR); }
  let nTiles = pTiles + (kEnd + BC - 1u) / BC;
  // log of each row's prefix part of the denominator (β = e^{lseP − lse}); unused if m = 0.
  var lseP: array<f32, R>;
  for (var t = 0u; t < nTiles; t++) {
    if (t == pTiles) {
      for (var r = 0u; r < R; r++) { lseP[r] = mx[r] + log(l[r]); }
    }
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
      let out = bh * p.L + row[r];
      let inv = 1.0 / l[r];
      for (var e = 0u; e < D; e++) { o[out * D + e] = acc[e][r] * inv; }
      let rowLse = mx[r] + log(l[r]);
      lse[out] = rowLse;
      if (p.wantBeta != 0u) { beta[out] = select(0.0, exp(lseP[r] - rowLse), p.m > 0u); }
    }
  }
}
