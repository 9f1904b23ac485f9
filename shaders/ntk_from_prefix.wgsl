// Closed-form NTK parameters from a prefix: one invocation per (h, t, col):
//   Z[h, t, col] = Σ_p φ_t(pk_p) pv_p[col] (col < d),   k[h, t] = Σ_p φ_t(pk_p) (col = d).
// A reduction over m in a fixed order, so any prefix length costs memory O(H·r·d).
#include "ntk_feature_map" // φ and its FEATURE_MAP override (0 = elu1, 1 = taylor2)
struct Params { H: u32, m: u32, d: u32, r: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pk: array<f32>; // [H, m, d]
@group(0) @binding(2) var<storage, read> pv: array<f32>; // [H, m, d]
@group(0) @binding(3) var<storage, read_write> z: array<f32>;  // [H, r, d]
@group(0) @binding(4) var<storage, read_write> kk: array<f32>; // [H, r]

fn phi_row(t: u32, off: u32, d: u32) -> f32 {
  let ab = phi_reads(t, d);
  return phi_value(t, d, pk[off + ab.x], pk[off + ab.y]);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let n = (wg.x + wg.y * nwg.x) * 64u + li;
  let d = p.d;
  if (n >= p.H * p.r * (d + 1u)) { return; }
  let col = n % (d + 1u);
  let ht = n / (d + 1u);
  let t = ht % p.r;
  let h = ht / p.r;
  var acc = 0.0;
  for (var i = 0u; i < p.m; i++) {
    let off = (h * p.m + i) * d;
    let f = phi_row(t, off, d);
    if (col < d) { acc += f * pv[off + col]; } else { acc += f; }
  }
  if (col < d) { z[(h * p.r + t) * d + col] = acc; } else { kk[h * p.r + t] = acc; }
}
