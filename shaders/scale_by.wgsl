// x[i] *= s[index]: applies a GPU-resident scalar (e.g. the clip factor from
// gradnorm_finalize) to a tensor in place, for optimizers other than the fused AdamW.
struct Params { n: u32, index: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> s: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = s[p.index];
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < p.n; i += stride) { x[i] = x[i] * k; }
}
