// Fused prefix attention, forward: O, the row log-sum-exp lse and (HAS_BETA) the prefix
// mass β, streaming over the m prefix keys and then the sequence keys with an online
// softmax. No score matrix is stored: memory is O(B·H·L·d) beyond the prefix for any m.
//
// One invocation owns one query row (b, h, i): c·q_i and the output accumulator live in
// private arrays. A workgroup owns BR consecutive rows of one (b, h) and walks the keys
// in tiles of BC: the tile's BC scores (loop over the head dim outside, over the tile's
// keys inside), the tile max, one rescale of the running sum and accumulator, then the
// tile's values (again dim outside, keys inside).
//
// Why this shape: every key/value address depends only on the workgroup and loop
// counters, so all invocations read the same address: on software adapters (lavapipe,
// SwiftShader) that is one scalar load and a broadcast, on GPUs a broadcast within the
// warp; staging keys through workgroup memory would only add a copy and barriers on CPU
// adapters. The head dim d is a runtime value (one pipeline for every d: unrolled
// per-d variants cost seconds of LLVM time each on lavapipe); only the tile loops have
// constant trip counts and unroll, so the private arrays are indexed by a uniform d-loop
// counter once per BC multiply-adds.
//
// Wrapper: src/kernels/prefix_attention.ts. Reference: prefix_attention.ref.ts.
struct Params {
  H: u32,
  L: u32,
  m: u32,
  d: u32,
  causal: u32, // 1: query i sees sequence keys j ≤ i (and the whole prefix)
  scale: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>; // [B, H, L, d]
@group(0) @binding(2) var<storage, read> k: array<f32>; // [B, H, L, d]
@group(0) @binding(3) var<storage, read> v: array<f32>; // [B, H, L, d]
@group(0) @binding(4) var<storage, read> pk: array<f32>; // [H, m, d]
@group(0) @binding(5) var<storage, read> pv: array<f32>; // [H, m, d]
@group(0) @binding(6) var<storage, read_write> o: array<f32>; // [B, H, L, d]
@group(0) @binding(7) var<storage, read_write> lse: array<f32>; // [B, H, L]
#if HAS_BETA
@group(0) @binding(8) var<storage, read_write> beta: array<f32>; // [B, H, L]
#endif

const DMAX: u32 = 128u; // largest head dim (MAX_HEAD_DIM in the wrapper)
const BR: u32 = 64u; // query rows per workgroup (= invocations)
const BC: u32 = 16u; // keys per online-softmax tile
// Stands in for −∞ (WGSL has no infinity literal): e^{NEG − x} = 0 for any real score x.
const NEG: f32 = -1.0e30;

// One row's online-softmax state: running max mx, l = Σ e^{s − mx}, acc = Σ e^{s − mx}·v.
var<private> qs: array<f32, DMAX>; // c·q_i (the scale folded in once)
var<private> acc: array<f32, DMAX>;
var<private> mx: f32;
var<private> l: f32;

// Keys j0 … j0+BC−1 of a key set whose key 0 starts at element `base` of pk/pv
// (fromPrefix) or k/v. Keys ≥ n are clamped to n−1 for the loads and masked, as are keys
// j > visibleTo (the causal mask; 0xffffffff for none). Everything but visibleTo is
// workgroup-uniform.
fn tile(fromPrefix: bool, base: u32, j0: u32, n: u32, visibleTo: u32) {
  let D = p.d;
  var off: array<u32, BC>;
  var s: array<f32, BC>;
  for (var jj = 0u; jj < BC; jj++) {
    off[jj] = base + min(j0 + jj, n - 1u) * D;
    s[jj] = 0.0;
  }
  for (var e = 0u; e < D; e++) {
    let qe = qs[e];
    if (fromPrefix) {
      for (var jj = 0u; jj < BC; jj++) { s[jj] = fma(qe, pk[off[jj] + e], s[jj]); }
    } else {
      for (var jj = 0u; jj < BC; jj++) { s[jj] = fma(qe, k[off[jj] + e], s[jj]); }
    }
  }
  var tmax = NEG;
  for (var jj = 0u; jj < BC; jj++) {
    let j = j0 + jj;
    s[jj] = select(NEG, s[jj], j < n && j <= visibleTo);
    tmax = max(tmax, s[jj]);
  }
  let mnew = max(mx, tmax);
  // Before the first visible key mx = NEG: corr is 0 or 1 there, and l, acc are still 0.
  let corr = exp(mx - mnew);
  var w: array<f32, BC>;
  var lt = 0.0;
  for (var jj = 0u; jj < BC; jj++) {
    let j = j0 + jj;
    w[jj] = select(0.0, exp(s[jj] - mnew), j < n && j <= visibleTo);
    lt += w[jj];
  }
  l = l * corr + lt;
  mx = mnew;
  for (var e = 0u; e < D; e++) {
    var a = acc[e] * corr;
    if (fromPrefix) {
      for (var jj = 0u; jj < BC; jj++) { a = fma(w[jj], pv[off[jj] + e], a); }
    } else {
      for (var jj = 0u; jj < BC; jj++) { a = fma(w[jj], v[off[jj] + e], a); }
    }
    acc[e] = a;
  }
}

@compute @workgroup_size(BR)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let D = p.d;
  let bh = wg.y; // b·H + h
  let h = bh % p.H;
  let row0 = wg.x * BR;
  let row = row0 + lid.x;
  // Rows past L compute a copy of row L−1 (keeps every load in bounds and the control
  // flow uniform) and store nothing.
  let i = min(row, p.L - 1u);
  let qOff = (bh * p.L + i) * D;
  for (var e = 0u; e < D; e++) {
    qs[e] = p.scale * q[qOff + e];
    acc[e] = 0.0;
  }
  mx = NEG;
  l = 0.0;

  // The prefix: seen by every query.
  let pBase = h * p.m * D;
  for (var j0 = 0u; j0 < p.m; j0 += BC) {
    tile(true, pBase, j0, p.m, 0xffffffffu);
  }
  // log of the prefix's part of the denominator (β = e^{lseP − lse}); unused when m = 0.
  let lseP = mx + log(l);

  // The sequence: under the causal mask, keys past this workgroup's last row are unseen.
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
    let r = bh * p.L + row;
    let inv = 1.0 / l;
    for (var e = 0u; e < D; e++) { o[r * D + e] = acc[e] * inv; }
    let rowLse = mx + log(l);
    lse[r] = rowLse;
#if HAS_BETA
    beta[r] = select(0.0, exp(lseP - rowLse), p.m > 0u);
#endif
  }
}
