// NTK-Attention backward for the adapter: one invocation per (h, t), writing the whole row
//   dZ[h, t, :] = Σ_{b,i} w_i φ_t(q_i) g_i   and   dk̃[h, t] = −Σ_{b,i} w_i φ_t(q_i) Δ_i,
// so w_i φ_t(q_i) is computed once per row for all d + 1 outputs (one invocation per output
// recomputed it d + 1 times: that dominated taylor2's backward). Each output sums over the
// whole batch in a fixed order: deterministic without atomics. taylor2: one invocation per
// folded feature (a ≤ b, p.r = r'), whose sums are those of (a, b) and (b, a) alike: both
// rows of dZ and dk̃ (p.r_full = r) get them.
#include "ntk_feature_map" // φ and its FEATURE_MAP override (0 = elu1, 1 = taylor2)
const MAXD: u32 = 64u;

struct Params { B: u32, H: u32, L: u32, d: u32, r: u32, accumulate: u32, r_full: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read> delta: array<f32>;
@group(0) @binding(5) var<storage, read_write> dz: array<f32>;  // [H, r, d]
@group(0) @binding(6) var<storage, read_write> dkt: array<f32>; // [H, r] (gradient w.r.t. k̃)


@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let n = (wg.x + wg.y * nwg.x) * 64u + li;
#if HEAD_D
  let d = ${HEAD_D}u; // d as a constant: loops over it unroll and the row arrays stay in registers
#else
  let d = p.d;
#endif
  if (n >= p.H * p.r) { return; }
  let t = n % p.r;
  let h = n / p.r;
  let ab = phi_reads_folded(t, d);
  // The unfolded feature indices this one stands for: t itself, and (b, a)'s for a < b.
  var tf = t;
  var tm = t;
  if (p.r != p.r_full && t > d) {
    tf = 1u + d + ab.x * d + ab.y;
    tm = 1u + d + ab.y * d + ab.x;
  }
  var acc: array<f32, MAXD>;
  // Zeroed explicitly: a lavapipe Tint build left function-local arrays unzeroed.
  for (var a = 0u; a < d; a++) { acc[a] = 0.0; }
  var accK = 0.0;
  for (var b = 0u; b < p.B; b++) {
    let bh = b * p.H + h;
    for (var i = 0u; i < p.L; i++) {
      let row = bh * p.L + i;
      let wf = exp(-stats[2u * row]) / stats[2u * row + 1u] * phi_value(t, d, q[row * d + ab.x], q[row * d + ab.y]);
      for (var a = 0u; a < d; a++) { acc[a] += wf * g[row * d + a]; }
      accK -= wf * delta[row];
    }
  }
  for (var a = 0u; a < d; a++) {
    let idx = (h * p.r_full + tf) * d + a;
    let idm = (h * p.r_full + tm) * d + a;
    var v = acc[a];
    var vm = acc[a];
    if (p.accumulate != 0u) { v += dz[idx]; vm += dz[idm]; }
    dz[idx] = v;
    dz[idm] = vm;
  }
  var k = accK;
  var km = accK;
  if (p.accumulate != 0u) { k += dkt[h * p.r_full + tf]; km += dkt[h * p.r_full + tm]; }
  dkt[h * p.r_full + tf] = k;
  dkt[h * p.r_full + tm] = km;
}
