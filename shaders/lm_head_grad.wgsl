// LM head backward, the gradient tile: for rows r0 .. r0+rc and the bound vocabulary range
// (vc columns from global column v0), g[r − r0, j] = (e^{z − lse_r} − [v0 + j == t_r])·k
// with k = scale / max(count, 1): ∂(scale·mean loss)/∂z, recomputing z with the forward's
// exact tile code (lm_head_tile) so softmax matches the forward's lse. Ignored rows give
// 0, a target outside [0, V) that is not ignored gives NaN. The wrapper then multiplies g
// into dx (g·wte) and dwte (gᵀ·x) with the matmul kernels; g is one chunk, never [N, V].
struct Params {
  N: u32,
  r0: u32,
  rc: u32,
  C: u32,
  vc: u32,
  v0: u32,
  V: u32,
  ignore_index: i32,
  scale: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
#if VEC
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
#else
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
#endif
@group(0) @binding(3) var<storage, read> targets: array<i32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read> stats: array<f32>;
@group(0) @binding(6) var<storage, read_write> g: array<f32>; // [rc, vc]

#include "lm_head_tile"

fn nan() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

fn lm_store(r: u32, c0: u32, z: vec4<f32>, k: f32) {
  if (r >= p.r0 + p.rc) { return; }
  let t = targets[r];
  var d = vec4(0.0);
  if (t != p.ignore_index) {
    if (t >= 0 && u32(t) < p.V) {
      let gc = vec4(p.v0 + c0) + vec4(0u, 1u, 2u, 3u);
      d = (exp(z - vec4(lse[r])) - select(vec4(0.0), vec4(1.0), gc == vec4(u32(t)))) * k;
    } else {
      d = vec4(nan());
    }
  }
  let o = (r - p.r0) * p.vc + c0;
  g[o] = d.x;
  if (c0 + 1u < p.vc) { g[o + 1u] = d.y; }
  if (c0 + 2u < p.vc) { g[o + 2u] = d.z; }
  if (c0 + 3u < p.vc) { g[o + 3u] = d.w; }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row0 = p.r0 + wid.y * 8u;
  let c0 = wid.x * 256u + lid * 4u;
  if (c0 >= p.vc) { return; }
  let z = lm_tile(row0, min(p.r0 + p.rc, p.N) - 1u, c0, p.vc - 1u, p.C);
  let k = p.scale / max(stats[1], 1.0);
  lm_store(row0, c0, z.r0, k); lm_store(row0 + 1u, c0, z.r1, k);
  lm_store(row0 + 2u, c0, z.r2, k); lm_store(row0 + 3u, c0, z.r3, k);
  lm_store(row0 + 4u, c0, z.r4, k); lm_store(row0 + 5u, c0, z.r5, k);
  lm_store(row0 + 6u, c0, z.r6, k); lm_store(row0 + 7u, c0, z.r7, k);
}
