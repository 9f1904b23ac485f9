// Unfused prefix attention (benchmark baseline), step 3 of 3: O = P·[Pv; V] from the
// materialised probabilities P [B, H, L, m + L]. One output row per invocation, values
// read at workgroup-uniform addresses, d loop outside a 16-column step (as the fused
// kernel's accumulation).
struct Params {
  H: u32,
  L: u32,
  m: u32,
  d: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> P: array<f32>; // [B, H, L, m + L]
@group(0) @binding(2) var<storage, read> v: array<f32>; // [B, H, L, d]
@group(0) @binding(3) var<storage, read> pv: array<f32>; // [H, m, d]
@group(0) @binding(4) var<storage, read_write> o: array<f32>; // [B, H, L, d]

const DMAX: u32 = 128u;
const BR: u32 = 64u;
const BC: u32 = 16u;

var<private> acc: array<f32, DMAX>;

// Columns col0 … of this row of P against values j0 … min(j0 + BC, jEnd) − 1 of one set.
fn tile(fromPrefix: bool, base: u32, j0: u32, jEnd: u32, rowOff: u32, col0: u32) {
  let D = p.d;
  var off: array<u32, BC>;
  var w: array<f32, BC>;
  for (var jj = 0u; jj < BC; jj++) {
    let j = min(j0 + jj, jEnd - 1u);
    off[jj] = base + j * D;
    w[jj] = select(0.0, P[rowOff + col0 + j - j0], j0 + jj < jEnd);
  }
  for (var e = 0u; e < D; e++) {
    var a = acc[e];
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
  let N = p.m + p.L;
  let bh = wg.y;
  let h = bh % p.H;
  let row = wg.x * BR + lid.x;
  let i = min(row, p.L - 1u);
  let rowOff = (bh * p.L + i) * N;
  for (var e = 0u; e < D; e++) { acc[e] = 0.0; }
  for (var j0 = 0u; j0 < p.m; j0 += BC) {
    tile(true, h * p.m * D, j0, p.m, rowOff, j0);
  }
  for (var j0 = 0u; j0 < p.L; j0 += BC) {
    tile(false, bh * p.L * D, j0, p.L, rowOff, p.m + j0);
  }
  if (row < p.L) {
    for (var e = 0u; e < D; e++) { o[(bh * p.L + row) * D + e] = acc[e]; }
  }
}
