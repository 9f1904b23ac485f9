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
#include "workgroup_reduce" // wg_sum over `red`

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32) {
  var acc = 0.0;
  for (var i = tid; i < p.n; i += WG) { acc += losses[i]; }
  let total = wg_sum(acc, tid);
  if (tid == 0u) { stats[0] = total / max(stats[1], 1.0); }
}
