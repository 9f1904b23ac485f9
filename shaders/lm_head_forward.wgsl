// LM head forward, per block: for each row of a logits block L [rc, vc] (rows r0.., the
// vocabulary columns v0..v0+vc, computed by the matmul kernel just before), the block's
// (max, Σ e^{z − max}) into partial[row, blk], and the target's logit into zt[row] when
// the target is one of the block's columns (exactly one block writes it). The block is
// scratch reused for the next one: the [N, V] logits never exist. lm_head_combine folds
// the partials of a row in block order.
// One workgroup per row, max-subtracted two passes with strided sums and a tree (as
// crossentropy_fused, both from workgroup_reduce), so the result is the same bits on every
// run. The strided loops stay written out here and there: they read different buffers,
// and WGSL cannot pass a storage buffer to a function.
struct Params { rc: u32, vc: u32, r0: u32, v0: u32, blk: u32, nblk: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> L: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read_write> partial: array<vec2<f32>>; // [N, nblk]
@group(0) @binding(4) var<storage, read_write> zt: array<f32>;            // [N]

// Threads per row: a power of two chosen by the wrapper from vc.
override WG: u32 = 256u;
#include "workgroup_reduce" // wg_max, wg_sum over `red`
#include "crossentropy_row" // LOWEST

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
  // `i` is workgroup-uniform, so the early return keeps the barriers in uniform control flow.
  let i = wid.x + wid.y * nwg.x;
  if (i >= p.rc) { return; }
  let base = i * p.vc;
  let row = p.r0 + i;

  var mx = LOWEST;
  for (var j = tid; j < p.vc; j += WG) { mx = max(mx, L[base + j]); }
  mx = wg_max(mx, tid);

  var sum = 0.0;
  for (var j = tid; j < p.vc; j += WG) { sum += exp(L[base + j] - mx); }
  let total = wg_sum(sum, tid);
  if (tid == 0u) {
    partial[row * p.nblk + p.blk] = vec2(mx, total);
    let t = targets[row];
    if (t >= 0 && u32(t) >= p.v0 && u32(t) - p.v0 < p.vc) { zt[row] = L[base + u32(t) - p.v0]; }
  }
}
