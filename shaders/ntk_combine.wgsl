// NTK-Attention as attention plus one virtual key (the "split" path of ntk_attention.ts):
// the sequence part comes from the fused prefix-attention kernel with m = 0 (o_seq and its
// log-sum-exp ℓ = log Σ_j e^{S_ij}), and this kernel adds the φ terms per row:
//   o_i = (e^{ℓ} o_seq + φ(q_i)ᵀZ) / (e^{ℓ} + φ(q_i)ᵀk̃).
// Stability as in ntk_attention_forward.wgsl: both parts are scaled by e^{−a'} with
// a' = max(ℓ, log φᵀk̃) when φᵀk̃ > 0 (else a' = ℓ), e^{−a'} computed directly. Writes the
// same stats (a', D) as the fused forward, and β.
#include "ntk_feature_map" // φ and its FEATURE_MAP override (0 = elu1, 1 = taylor2)

struct Params { B: u32, H: u32, L: u32, d: u32, r: u32, has_beta: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;      // [B, H, L, d]
@group(0) @binding(2) var<storage, read> oseq: array<f32>;   // [B, H, L, d]
@group(0) @binding(3) var<storage, read> lseq: array<f32>;   // [B, H, L]
@group(0) @binding(4) var<storage, read> z: array<f32>;      // [H, r, d]
@group(0) @binding(5) var<storage, read> kt: array<f32>;     // k̃ [H, r]
@group(0) @binding(6) var<storage, read_write> o: array<f32>;
@group(0) @binding(7) var<storage, read_write> stats: array<f32>; // [B, H, L, 2] = (a', D)
@group(0) @binding(8) var<storage, read_write> beta: array<f32>;  // [B, H, L] (if has_beta)

fn phi_at(t: u32, x: ptr<function, array<f32, 64>>, d: u32) -> f32 {
  let ab = phi_reads(t, d);
  return phi_value(t, d, (*x)[ab.x], (*x)[ab.y]);
}

fn row(wg: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
  return (wg.x + wg.y * nwg.x) * 64u + li;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let n = row(wg, nwg, li);
  if (n >= p.B * p.H * p.L) { return; }
#if HEAD_D
  let d = ${HEAD_D}u; // d as a constant: loops over it unroll and the row arrays stay in registers
#else
  let d = p.d;
#endif
  let h = (n / p.L) % p.H;
  let off = n * d;
  var x: array<f32, 64>;
  for (var a = 0u; a < d; a++) { x[a] = q[off + a]; }
  var num: array<f32, 64>;
  for (var a = 0u; a < d; a++) { num[a] = 0.0; }
  var pz = 0.0;
  for (var t = 0u; t < p.r; t++) {
    let f = phi_at(t, &x, d);
    pz += f * kt[h * p.r + t];
    let zo = (h * p.r + t) * d;
    for (var a = 0u; a < d; a++) { num[a] += f * z[zo + a]; }
  }
  let l = lseq[n];
  var ap = l;
  if (pz > 0.0) { ap = max(l, log(pz)); }
  let cs = exp(l - ap);
  let ep = exp(-ap);
  let D = cs + ep * pz;
  for (var a = 0u; a < d; a++) { o[off + a] = (cs * oseq[off + a] + ep * num[a]) / D; }
  stats[2u * n] = ap;
  stats[2u * n + 1u] = D;
  if (p.has_beta != 0u) { beta[n] = ep * pz / D; }
}
