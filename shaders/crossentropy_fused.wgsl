// Fused softmax + cross-entropy, one workgroup per row of logits [N, V] (llm.c's fused
// classifier): loss[row] = log Σ_j e^{x_j} − x_target, and (GRAD != none)
// dlogits[row, j] = (softmax_j − [j == target])·scale/count, the gradient of the mean
// loss over counted rows (count = stats[1] from crossentropy_count).
// Max-subtracted: every exponent is ≤ 0, so no overflow for any logit magnitude.
// Ignored rows (target == ignore_index): loss 0, gradient 0. A target outside [0, V) that
// is not the ignore index writes NaN (loss and gradient row) so the bug is loud.
// GRAD == inplace overwrites logits with dlogits (saves an [N, V] buffer): each thread
// writes only the elements it read itself, and the one element read across threads
// (x_target) is read before the barriers that precede the writes.
struct Params { n: u32, v: u32, ignore_index: i32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
#if GRAD == inplace
@group(0) @binding(1) var<storage, read_write> logits: array<f32>;
#else
@group(0) @binding(1) var<storage, read> logits: array<f32>;
#endif
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read_write> losses: array<f32>;
#if GRAD == separate
@group(0) @binding(5) var<storage, read_write> dlogits: array<f32>;
#endif

// Threads per row: a power of two (tree reductions), chosen by the wrapper from V so that
// small vocabularies do not leave most of a 256-wide group idle.
override WG: u32 = 256u;
#include "workgroup_reduce" // wg_max, wg_sum over `red`
#include "crossentropy_row" // LOWEST, the loss and gradient element, their ignore / NaN rules

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
  // Rows beyond 65535 are folded into y by the wrapper. `row` is workgroup-uniform, so
  // this early return keeps the barriers below in uniform control flow.
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.n) { return; }
  let base = row * p.v;
  let t = targets[row];
  let ignored = t == p.ignore_index;
  let valid = xent_target_valid(t, p.v);

  // Pass 1: row max. (The strided loops read this shader's buffer, so they stay here:
  // WGSL cannot pass a storage buffer to a function.)
  var mx = LOWEST;
  for (var j = tid; j < p.v; j += WG) { mx = max(mx, logits[base + j]); }
  mx = wg_max(mx, tid);

  // Pass 2: Σ e^{x−max} (≥ 1: the max element contributes 1).
  var sum = 0.0;
  for (var j = tid; j < p.v; j += WG) { sum += exp(logits[base + j] - mx); }
  var xt = 0.0;
  if (valid) { xt = logits[base + u32(t)]; }
  let total = wg_sum(sum, tid);

  if (tid == 0u) { losses[row] = xent_loss(mx, xt, log(total), ignored, valid); }

#if GRAD != none
  // In place, x_target (read above by every thread) must not be overwritten before all
  // threads have read it.
  storageBarrier();
  workgroupBarrier();
  let k = p.scale / max(stats[1], 1.0);
  let inv = 1.0 / total;
  for (var j = tid; j < p.v; j += WG) {
    let d = xent_grad(exp(logits[base + j] - mx) * inv, j == u32(t), ignored, valid, k);
#if GRAD == inplace
    logits[base + j] = d;
#else
    dlogits[base + j] = d;
#endif
  }
#endif
}
