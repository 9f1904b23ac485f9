// Prefix attention backward, step 1: per query row, the statistics both gradient kernels
// need, interleaved so that each reads them as one pair: stats[2r] = lse_r (copied from
// the forward) and stats[2r+1] = Δ_r = dO_r·O_r (= Σ_j P_rj·(dO_r·v_j), the softmax
// Jacobian's correction term). One invocation per row, grid-stride over B·H·L rows.
struct Params { rows: u32, d: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> o: array<f32>; // [rows, d]
@group(0) @binding(2) var<storage, read> dO: array<f32>; // [rows, d]
@group(0) @binding(3) var<storage, read> lse: array<f32>; // [rows]
@group(0) @binding(4) var<storage, read_write> stats: array<f32>; // [rows, 2]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * 64u;
  for (var r = gid.x; r < p.rows; r += stride) {
    var t = 0.0;
    for (var e = 0u; e < p.d; e++) { t = fma(dO[r * p.d + e], o[r * p.d + e], t); }
    stats[2u * r] = lse[r];
    stats[2u * r + 1u] = t;
  }
}
