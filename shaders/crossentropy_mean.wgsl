// Mean of the per-row losses over the counted rows: stats[0] = Σ losses / max(count, 1)
// with count = stats[1] (from crossentropy_count; ignored rows hold loss 0, so summing all
// rows is the same as summing the counted ones; an all-ignored batch gives 0, not NaN).
// One workgroup, fixed summation order (strided per-thread sums, then a tree), so the
// result is identical run to run: the training loop reads back only this float.
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> losses: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;

const WG: u32 = 256u;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32) {
  var acc = 0.0;
  for (var i = tid; i < p.n; i += WG) { acc += losses[i]; }
  red[tid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] += red[tid + s]; }
    workgroupBarrier();
  }
  if (tid == 0u) { stats[0] = red[0] / max(stats[1], 1.0); }
}
