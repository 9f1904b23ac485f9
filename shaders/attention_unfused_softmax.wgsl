// Unfused prefix attention (benchmark baseline), step 2 of 3: softmax of each row of S in
// place, and the row's log-sum-exp. One workgroup per row (64 invocations striding over
// the columns, tree reductions in workgroup memory); rows fold into y past 65535.
struct Params {
  rows: u32,
  N: u32,
  rowsPerY: u32, // workgroups in x: row = wg.y·rowsPerY + wg.x
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> S: array<f32>; // [rows, N]
@group(0) @binding(2) var<storage, read_write> lse: array<f32>; // [rows]

const WG: u32 = 64u;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.y * p.rowsPerY + wg.x;
  // Uniform per workgroup, so the barriers below are reached by all or none.
  if (row >= p.rows) { return; }
  let base = row * p.N;
  var mx = -3.0e38;
  for (var c = lid.x; c < p.N; c += WG) { mx = max(mx, S[base + c]); }
  red[lid.x] = mx;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w /= 2u) {
    if (lid.x < w) { red[lid.x] = max(red[lid.x], red[lid.x + w]); }
    workgroupBarrier();
  }
  let rmax = red[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var c = lid.x; c < p.N; c += WG) { sum += exp(S[base + c] - rmax); }
  red[lid.x] = sum;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w /= 2u) {
    if (lid.x < w) { red[lid.x] += red[lid.x + w]; }
    workgroupBarrier();
  }
  let total = red[0];
  let inv = 1.0 / total;
  for (var c = lid.x; c < p.N; c += WG) { S[base + c] = exp(S[base + c] - rmax) * inv; }
  if (lid.x == 0u) { lse[row] = rmax + log(total); }
}
