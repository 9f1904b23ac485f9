// taylor2's Z and k̃ folded onto the symmetric features (ntk_feature_map.wgsl): one invocation
// per (h, t') with t' < r' = 1 + d + d(d+1)/2, writing
//   Zf[h, t', :] = Z[h, (a,b), :] + Z[h, (b,a), :]   and   k̃f[h, t'] = k̃[h, (a,b)] + k̃[h, (b,a)]
// for a quadratic feature (a, b) with a < b, and the row itself for a = b or t' ≤ d; since
// φ_ab = φ_ba, φᵀZ and φᵀk̃ over the r' folded features equal those over all r.
#include "ntk_feature_map" // φ's index maps (FEATURE_MAP = 1: taylor2)

struct Params { H: u32, d: u32, r: u32, rf: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;          // [H, r, d]
@group(0) @binding(2) var<storage, read> kt: array<f32>;         // [H, r]
@group(0) @binding(3) var<storage, read_write> zf: array<f32>;   // [H, r', d]
@group(0) @binding(4) var<storage, read_write> ktf: array<f32>;  // [H, r']

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= p.H * p.rf) { return; }
  let d = p.d;
  let t = n % p.rf;
  let h = n / p.rf;
  var ta = t; // the unfolded feature(s) t' stands for
  var tb = t;
  if (t > d) {
    let ab = phi_reads_folded(t, d);
    ta = 1u + d + ab.x * d + ab.y;
    tb = 1u + d + ab.y * d + ab.x;
  }
  let sa = h * p.r + ta;
  let sb = h * p.r + tb;
  if (ta == tb) {
    for (var a = 0u; a < d; a++) { zf[n * d + a] = z[sa * d + a]; }
    ktf[n] = kt[sa];
  } else {
    for (var a = 0u; a < d; a++) { zf[n * d + a] = z[sa * d + a] + z[sb * d + a]; }
    ktf[n] = kt[sa] + kt[sb];
  }
}
