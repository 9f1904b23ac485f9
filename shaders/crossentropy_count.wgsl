// Counts the rows whose target is not the ignore index (the mean loss's denominator),
// so dlogits can be normalised without reading targets back to the CPU.
// One workgroup: each thread counts a strided subset, then a tree reduction (integer, so
// exact and order-free). Writes stats[1] = count as f32 (exact while N < 2^24, which the
// wrapper checks).
struct Params { n: u32, ignore_index: i32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;

const WG: u32 = 256u;
var<workgroup> red: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32) {
  var c = 0u;
  for (var i = tid; i < p.n; i += WG) {
    if (targets[i] != p.ignore_index) { c += 1u; }
  }
  red[tid] = c;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] += red[tid + s]; }
    workgroupBarrier();
  }
  if (tid == 0u) { stats[1] = f32(red[0]); }
}
