// Unfused prefix attention (the benchmark's baseline), step 1 of 3: the whole score matrix
// S [B, H, L, N] with N = m + L, columns [prefix keys; sequence keys], masked entries
// −1e30. Same inner structure as the fused kernel (one query row per invocation, keys
// read at workgroup-uniform addresses, d loop outside a 16-key tile), so that the
// benchmark compares fusion, not loop tricks. Wrapper: src/kernels/attention_unfused.ts.
struct Params {
  H: u32,
  L: u32,
  m: u32,
  d: u32,
  causal: u32,
  scale: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>; // [B, H, L, d]
@group(0) @binding(2) var<storage, read> k: array<f32>; // [B, H, L, d]
@group(0) @binding(3) var<storage, read> pk: array<f32>; // [H, m, d]
@group(0) @binding(4) var<storage, read_write> S: array<f32>; // [B, H, L, m + L]

const DMAX: u32 = 128u;
const BR: u32 = 64u; // rows per workgroup
const KT: u32 = 64u; // columns per workgroup
const BC: u32 = 16u; // columns per step
const NEG: f32 = -1.0e30;

var<private> qs: array<f32, DMAX>;

// Scores of keys j0 … min(j0 + BC, jEnd) − 1 of one key set (pk from element pBase, or k
// from kBase), written to columns col0 + (j − j0) of this invocation's row.
fn tile(fromPrefix: bool, base: u32, j0: u32, jEnd: u32, rowOff: u32, col0: u32, store: bool, i: u32) {
  let D = p.d;
  var off: array<u32, BC>;
  var s: array<f32, BC>;
  // Zeroed explicitly: lavapipe's Tint build did not re-zero a function's local array on
  // every call once inlined into a loop (seen in the fused kernels too).
  for (var jj = 0u; jj < BC; jj++) {
    off[jj] = base + min(j0 + jj, jEnd - 1u) * D;
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
  if (store) {
    for (var jj = 0u; jj < BC; jj++) {
      let j = j0 + jj;
      if (j < jEnd) {
        let masked = !fromPrefix && p.causal != 0u && j > i;
        S[rowOff + col0 + jj] = select(s[jj], NEG, masked);
      }
    }
  }
}

@compute @workgroup_size(BR)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let D = p.d;
  let N = p.m + p.L;
  let bh = wg.z;
  let h = bh % p.H;
  let row = wg.y * BR + lid.x;
  let i = min(row, p.L - 1u);
  for (var e = 0u; e < D; e++) { qs[e] = p.scale * q[(bh * p.L + i) * D + e]; }
  let rowOff = (bh * p.L + i) * N;
  let store = row < p.L;
  // This workgroup's columns [cBegin, cEnd): the prefix part, then the sequence part.
  let cBegin = wg.x * KT;
  let cEnd = min(N, cBegin + KT);
  let pEnd = min(cEnd, p.m);
  for (var j0 = cBegin; j0 < pEnd; j0 += BC) {
    tile(true, h * p.m * D, j0, pEnd, rowOff, j0, store, i);
  }
  let sBegin = max(cBegin, p.m) - p.m;
  let sEnd = cEnd - min(cEnd, p.m);
  for (var j0 = sBegin; j0 < sEnd; j0 += BC) {
    tile(false, bh * p.L * D, j0, sEnd, rowOff, p.m + j0, store, i);
  }
}
