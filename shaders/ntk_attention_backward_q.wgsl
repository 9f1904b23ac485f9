// NTK-Attention backward, query-parallel: one invocation per row (b, h, i). Writes
// Δ_i = g_i·o_i (used by the key and (Z, k̃) passes) and dQ_i (= or +=):
//   dQ_i = c Σ_j dS_ij k_j + J_φ(q_i)ᵀ dΦ_i,   dS_ij = P_ij (g_i·v_j − Δ_i),
//   dΦ_i = w_i (Z g_i − Δ_i k̃),  P_ij = e^{S_ij − a'_i}/D_i,  w_i = e^{−a'_i}/D_i.
#include "ntk_feature_map" // φ and its FEATURE_MAP override (0 = elu1, 1 = taylor2)
// 0: skip the sequence keys (the split path: the prefix-attention backward did them, and dq
// is accumulated); 1: the whole dQ (the fused path).
override SEQ: u32 = 1u;

struct Params { B: u32, H: u32, L: u32, d: u32, r: u32, causal: u32, scale: f32, accumulate: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> z: array<f32>;
@group(0) @binding(5) var<storage, read> kt: array<f32>;
@group(0) @binding(6) var<storage, read> o: array<f32>;
@group(0) @binding(7) var<storage, read> stats: array<f32>;
@group(0) @binding(8) var<storage, read> g: array<f32>;   // dO
@group(0) @binding(9) var<storage, read_write> delta: array<f32>; // [B, H, L]
@group(0) @binding(10) var<storage, read_write> dq: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let n = (wg.x + wg.y * nwg.x) * 64u + li;
  if (n >= p.B * p.H * p.L) { return; }
#if HEAD_D
  let d = ${HEAD_D}u; // d as a constant: loops over it unroll and the row arrays stay in registers
#else
  let d = p.d;
#endif
  let i = n % p.L;
  let bh = n / p.L;
  let h = bh % p.H;
  let base = bh * p.L * d;
  var x: array<f32, 64>;
  var gi: array<f32, 64>;
  var dx: array<f32, 64>;
  var dl = 0.0;
  for (var a = 0u; a < d; a++) {
    x[a] = q[base + i * d + a];
    gi[a] = g[base + i * d + a];
    dl += gi[a] * o[base + i * d + a];
  }
  delta[n] = dl;
  let ap = stats[2u * n];
  let D = stats[2u * n + 1u];
  var jmax = p.L - 1u;
  if (p.causal != 0u) { jmax = i; }
  for (var j = 0u; j <= jmax && SEQ != 0u; j++) {
    var dot = 0.0;
    var gv = 0.0;
    for (var a = 0u; a < d; a++) {
      dot += x[a] * k[base + j * d + a];
      gv += gi[a] * v[base + j * d + a];
    }
    let pr = exp(p.scale * dot - ap) / D;
    let ds = pr * (gv - dl) * p.scale;
    for (var a = 0u; a < d; a++) { dx[a] += ds * k[base + j * d + a]; }
  }
  // dΦ_t = w (Z_t·g − Δ k̃_t), pushed through φ's Jacobian one feature at a time.
  let w = exp(-ap) / D;
  // taylor2: folded features (p.r = r'), whose dΦ is the pair's sum through the folded Z, k̃.
  var ab = vec2<u32>(0u, 0u);
  for (var t = 0u; t < p.r; t++) {
    let zo = (h * p.r + t) * d;
    var zg = 0.0;
    for (var a = 0u; a < d; a++) { zg += z[zo + a] * gi[a]; }
    let dphi = w * (zg - dl * kt[h * p.r + t]);
    let dphi_dx = phi_grads(t, d, x[ab.x], x[ab.y]);
    dx[ab.x] += dphi * dphi_dx.x;
    dx[ab.y] += dphi * dphi_dx.y;
    ab = phi_next(t, ab, d);
  }
  for (var a = 0u; a < d; a++) {
    var r = dx[a];
    if (p.accumulate != 0u) { r += dq[base + i * d + a]; }
    dq[base + i * d + a] = r;
  }
}
