// The combined log-denominator a' + log D of NTK-Attention's rows, from the stats (a', D):
// the lse that the prefix-attention backward takes when it does NTK-Attention's sequence
// part (the "split" path of ntk_attention.ts).
struct Params { rows: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> stats: array<f32>; // [rows, 2] = (a', D)
@group(0) @binding(2) var<storage, read_write> lse: array<f32>; // [rows]

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let n = (wg.x + wg.y * nwg.x) * 64u + li;
  if (n >= p.rows) { return; }
  lse[n] = stats[2u * n] + log(stats[2u * n + 1u]);
}
