// LM head backward, per block, in place: a logits block L [rc, vc] (rows r0.., columns
// v0.., recomputed by the matmul kernel) becomes g = (e^{z − lse} − [v0 + j == t])·k with
// k = scale / max(count, 1), i.e. ∂(scale·mean loss)/∂z, using the forward's lse.
// Ignored rows give 0; a target outside [0, V) that is not ignored gives NaN (loud). The
// wrapper then adds g·wte into dx and gᵀ·x into dwte with the matmul kernels.
// Each invocation rewrites only the elements it reads.
struct Params { rc: u32, vc: u32, r0: u32, v0: u32, V: u32, ignore_index: i32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> L: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read> lse: array<f32>;
@group(0) @binding(4) var<storage, read> stats: array<f32>;

const WG: u32 = 256u;
#include "crossentropy_row" // the gradient element and its ignore / NaN rules

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
  let i = wid.x + wid.y * nwg.x; // one workgroup per row of the block
  if (i >= p.rc) { return; }
  let row = p.r0 + i;
  let base = i * p.vc;
  let t = targets[row];
  let ignored = t == p.ignore_index;
  let valid = xent_target_valid(t, p.V);
  let l = lse[row];
  let k = p.scale / max(stats[1], 1.0);
  for (var j = tid; j < p.vc; j += WG) {
    L[base + j] = xent_grad(exp(L[base + j] - l), p.v0 + j == u32(t), ignored, valid, k);
  }
}
