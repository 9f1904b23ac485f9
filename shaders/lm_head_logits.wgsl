// LM head logits for a few rows (generation, exact-match evaluation): out[i, v0 + j] =
// x[r0 + i] · w[j] for i < rows and the bound vocabulary range, with the same tile code
// (lm_head_tile) as the loss kernels, so these are the logits the loss was computed from.
struct Params {
  r0: u32,
  rows: u32,
  C: u32,
  vc: u32,
  v0: u32,
  V: u32, // row stride of out
}
@group(0) @binding(0) var<uniform> p: Params;
#if VEC
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
#else
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
#endif
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // [rows, V]

#include "lm_head_tile"

fn lm_store(i: u32, c0: u32, z: vec4<f32>) {
  if (i >= p.rows) { return; }
  let o = i * p.V + p.v0 + c0;
  out[o] = z.x;
  if (c0 + 1u < p.vc) { out[o + 1u] = z.y; }
  if (c0 + 2u < p.vc) { out[o + 2u] = z.z; }
  if (c0 + 3u < p.vc) { out[o + 3u] = z.w; }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i0 = wid.y * 8u;
  let c0 = wid.x * 256u + lid * 4u;
  if (c0 >= p.vc) { return; }
  let z = lm_tile(p.r0 + i0, p.r0 + p.rows - 1u, c0, p.vc - 1u, p.C);
  lm_store(i0, c0, z.r0); lm_store(i0 + 1u, c0, z.r1);
  lm_store(i0 + 2u, c0, z.r2); lm_store(i0 + 3u, c0, z.r3);
  lm_store(i0 + 4u, c0, z.r4); lm_store(i0 + 5u, c0, z.r5);
  lm_store(i0 + 6u, c0, z.r6); lm_store(i0 + 7u, c0, z.r7);
}
