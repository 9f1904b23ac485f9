// NTK-Attention backward for the adapter: one invocation per (h, t), writing the whole row
//   dZ[h, t, :] = Σ_{b,i} w_i φ_t(q_i) g_i   and   dk̃[h, t] = −Σ_{b,i} w_i φ_t(q_i) Δ_i,
// so w_i φ_t(q_i) is computed once per row for all d + 1 outputs (one invocation per output
// recomputed it d + 1 times: that dominated taylor2's backward). Each output sums over the
// whole batch in a fixed order: deterministic without atomics. taylor2: one invocation per
// folded feature (a ≤ b, p.r = r'), whose sums are those of (a, b) and (b, a) alike: both
// rows of dZ and dk̃ (p.r_full = r) get them. Each invocation does FB consecutive features,
// so a row's g, Δ and weight are loaded once for FB of them (the loads, done lane by lane
// on software adapters, cost more than the FMAs); workgroups of 16 keep enough of them.
#include "ntk_feature_map" // φ and its FEATURE_MAP override (0 = elu1, 1 = taylor2)
const MAXD: u32 = 64u;
const FB: u32 = 4u;

struct Params { B: u32, H: u32, L: u32, d: u32, r: u32, accumulate: u32, r_full: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read> delta: array<f32>;
@group(0) @binding(5) var<storage, read_write> dz: array<f32>;  // [H, r, d]
@group(0) @binding(6) var<storage, read_write> dkt: array<f32>; // [H, r] (gradient w.r.t. k̃)


@compute @workgroup_size(16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let n = (wg.x + wg.y * nwg.x) * 16u + li;
#if HEAD_D
  let d = ${HEAD_D}u; // d as a constant: loops over it unroll and the row arrays stay in registers
#else
  let d = p.d;
#endif
  let blocks = (p.r + FB - 1u) / FB;
  if (n >= p.H * blocks) { return; }
  let t0 = (n % blocks) * FB;
  let h = n / blocks;
  // Feature t0 + f's reads, and the unfolded features it stands for: itself, and (b, a)'s for a < b.
  var ab: array<vec2<u32>, FB>;
  var tf: array<u32, FB>;
  var tm: array<u32, FB>;
  for (var f = 0u; f < FB; f++) {
    let t = min(t0 + f, p.r - 1u); // past the end: a valid feature, never written
    ab[f] = phi_reads_folded(t, d);
    tf[f] = t;
    tm[f] = t;
    if (p.r != p.r_full && t > d) {
      tf[f] = 1u + d + ab[f].x * d + ab[f].y;
      tm[f] = 1u + d + ab[f].y * d + ab[f].x;
    }
  }
  var acc: array<f32, 256>; // [FB, MAXD]
  // Zeroed explicitly: a lavapipe Tint build left function-local arrays unzeroed.
  for (var e = 0u; e < FB * d; e++) { acc[e] = 0.0; }
  var accK: array<f32, FB>;
  for (var f = 0u; f < FB; f++) { accK[f] = 0.0; }
  for (var b = 0u; b < p.B; b++) {
    let bh = b * p.H + h;
    for (var i = 0u; i < p.L; i++) {
      let row = bh * p.L + i;
      let w = exp(-stats[2u * row]) / stats[2u * row + 1u];
      let dl = delta[row];
      var wf: array<f32, FB>;
      for (var f = 0u; f < FB; f++) {
        wf[f] = w * phi_value(min(t0 + f, p.r - 1u), d, q[row * d + ab[f].x], q[row * d + ab[f].y]);
        accK[f] -= wf[f] * dl;
      }
      for (var a = 0u; a < d; a++) {
        let ga = g[row * d + a];
        for (var f = 0u; f < FB; f++) { acc[f * d + a] += wf[f] * ga; }
      }
    }
  }
  for (var f = 0u; f < FB; f++) {
    if (t0 + f >= p.r) { break; }
    for (var a = 0u; a < d; a++) {
      let idx = (h * p.r_full + tf[f]) * d + a;
      let idm = (h * p.r_full + tm[f]) * d + a;
      var v = acc[f * d + a];
      var vm = v;
      if (p.accumulate != 0u) { v += dz[idx]; vm += dz[idm]; }
      dz[idx] = v;
      dz[idm] = vm;
    }
    var k = accK[f];
    var km = k;
    if (p.accumulate != 0u) { k += dkt[h * p.r_full + tf[f]]; km += dkt[h * p.r_full + tm[f]]; }
    dkt[h * p.r_full + tf[f]] = k;
    dkt[h * p.r_full + tm[f]] = km;
  }
}
