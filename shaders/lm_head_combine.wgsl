// LM head forward, pass 2 of 2: one invocation per row folds the row's (max, sum)
// partials in sub-chunk order into lse = max + log Σ (kept for the backward) and the loss
// (max − z_target) + log Σ (both terms ≥ 0, so no cancellation). Ignored rows: loss 0;
// a target outside [0, V) that is not the ignore index: NaN (a loud bug, as crossentropy).
struct Params { N: u32, nsub: u32, V: u32, ignore_index: i32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partial: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> zt: array<f32>;
@group(0) @binding(3) var<storage, read> targets: array<i32>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
@group(0) @binding(5) var<storage, read_write> losses: array<f32>;

#include "crossentropy_row" // LOWEST, the loss and its ignore / NaN rules

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.x + gid.y * nwg.x * 64u; // rows past 65535 groups are folded into y
  if (row >= p.N) { return; }
  var m = LOWEST;
  var s = 0.0;
  for (var j = 0u; j < p.nsub; j++) {
    let q = partial[row * p.nsub + j];
    let mn = max(m, q.x);
    s = s * exp(m - mn) + q.y * exp(q.x - mn);
    m = mn;
  }
  let ls = log(s);
  lse[row] = m + ls;
  let t = targets[row];
  let valid = xent_target_valid(t, p.V);
  var z_target = 0.0;
  if (valid) { z_target = zt[row]; } // written by the one block holding the target
  losses[row] = xent_loss(m, z_target, ls, t == p.ignore_index, valid);
}
