// NTK-Attention forward (docs/ntk-attention.md §6), one invocation per query row (b, h, i):
//   o_i = (Σ_j M_ij e^{S_ij} v_j + φ(q_i)ᵀZ) / (Σ_j M_ij e^{S_ij} + φ(q_i)ᵀk̃),  S = c·QKᵀ.
// φ(q_i) is computed on the fly one feature at a time (taylor2: the r' = 1 + d + d(d+1)/2
// folded features, ntk_feature_map.wgsl), so nothing of size r is stored. Writes O, stats (a'_i, D_i) for backward and β_i.
//
// Stability: a_i is the row max over *unmasked* keys, and both parts are scaled by
// e^{−a'} with a' = max(a_i, log φᵀk̃) when φᵀk̃ > 0. e^{−a'} is computed directly (never
// 1/e^{a'}, which overflows to inf and turns the prefix term into 0·inf or a zero with zero
// gradient). When scores are large, e^{−a'} is tiny but the prefix term is then genuinely
// negligible next to e^{S−a} = 1 for the top key, unless φᵀk̃ is comparably large, in
// which case a' = log φᵀk̃ keeps the prefix term at O(1) and the sequence terms shrink.
#include "ntk_feature_map" // φ and its FEATURE_MAP override (0 = elu1, 1 = taylor2)
const MAXD: u32 = 64u;

struct Params { B: u32, H: u32, L: u32, d: u32, r: u32, causal: u32, scale: f32, has_beta: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> z: array<f32>;   // [H, r, d] (taylor2: folded, r = r')
@group(0) @binding(5) var<storage, read> kt: array<f32>;  // k̃ [H, r] (taylor2: folded)
@group(0) @binding(6) var<storage, read_write> o: array<f32>;
@group(0) @binding(7) var<storage, read_write> stats: array<f32>; // [B, H, L, 2] = (a', D)
@group(0) @binding(8) var<storage, read_write> beta: array<f32>;  // [B, H, L] (written if has_beta)

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let n = (wg.x + wg.y * nwg.x) * 64u + li;
  let rows = p.B * p.H * p.L;
  if (n >= rows) { return; }
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
  for (var a = 0u; a < d; a++) { x[a] = q[base + i * d + a]; }
  var jmax = p.L - 1u;
  if (p.causal != 0u) { jmax = i; }
  // Sequence part with an online softmax.
  var acc: array<f32, 64>;
  var mx = -3.0e38;
  var den = 0.0;
  for (var j = 0u; j <= jmax; j++) {
    var dot = 0.0;
    for (var a = 0u; a < d; a++) { dot += x[a] * k[base + j * d + a]; }
    let sc = p.scale * dot;
    let nm = max(mx, sc);
    let corr = exp(mx - nm);
    let e = exp(sc - nm);
    den = den * corr + e;
    for (var a = 0u; a < d; a++) { acc[a] = acc[a] * corr + e * v[base + j * d + a]; }
    mx = nm;
  }
  // Prefix part: φ(q)ᵀk̃ and φ(q)ᵀZ.
  var num: array<f32, 64>;
  var pz = 0.0;
  var ab = vec2<u32>(0u, 0u); // feature t's reads (p.r: taylor2's folded count)
  for (var t = 0u; t < p.r; t++) {
    let f = phi_value(t, d, x[ab.x], x[ab.y]);
    pz += f * kt[h * p.r + t];
    let zo = (h * p.r + t) * d;
    for (var a = 0u; a < d; a++) { num[a] += f * z[zo + a]; }
    ab = phi_next(t, ab, d);
  }
  var ap = mx;
  if (pz > 0.0) { ap = max(mx, log(pz)); }
  let cs = exp(mx - ap); // rescales the sequence part from max mx to ap
  let ep = exp(-ap);     // e^{−a'} directly
  let D = den * cs + ep * pz;
  for (var a = 0u; a < d; a++) { o[base + i * d + a] = (acc[a] * cs + ep * num[a]) / D; }
  stats[2u * n] = ap;
  stats[2u * n + 1u] = D;
  if (p.has_beta != 0u) { beta[n] = ep * pz / D; }
}
