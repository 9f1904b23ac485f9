// The NTK-Attention feature map φ (docs/ntk-attention.md §4), included by every NTK kernel so the
// kernels cannot drift apart. With u = x / d^{1/4}:
//   elu1:    φ_t(x) = elu(u_t) + 1                         r = d (the authors' map)
//   taylor2: φ(x) = [1, u, vec(x xᵀ) / (√2·√d)]           r = 1 + d + d²
// φ_t reads at most two entries of the row: phi_reads names them and phi_value computes
// φ_t from them, so each kernel fetches the entries from wherever its row lives (private
// memory or a storage buffer) and nothing of size r is ever stored.
override FEATURE_MAP: u32 = 0u; // 0 = elu1, 1 = taylor2

fn phi_reads(t: u32, d: u32) -> vec2<u32> {
  if (FEATURE_MAP == 0u) { return vec2<u32>(t, t); }
  if (t == 0u) { return vec2<u32>(0u, 0u); }
  if (t <= d) { return vec2<u32>(t - 1u, t - 1u); }
  let e = t - 1u - d;
  return vec2<u32>(e / d, e % d);
}

fn phi_value(t: u32, d: u32, xa: f32, xb: f32) -> f32 {
  if (FEATURE_MAP == 0u) {
    let u = xa * inverseSqrt(sqrt(f32(d)));
    return select(exp(u), u + 1.0, u > 0.0);
  }
  if (t == 0u) { return 1.0; }
  if (t <= d) { return xa * inverseSqrt(sqrt(f32(d))); }
  return xa * xb * inverseSqrt(2.0 * f32(d));
}

// taylor2's quadratic features are symmetric (φ_ab = φ_ba), so the per-row kernels fold each
// pair into one feature: r' = 1 + d + d(d+1)/2 (a ≤ b, row-major), with Z's and k̃'s rows
// (a,b) + (b,a) summed beforehand (ntk_taylor2_fold.wgsl) and dZ, dk̃ written to both. That
// is 153 features instead of 273 at d = 16. phi_value and phi_grads are the same for a
// folded feature; elu1 (r' = r) reads as before.
// phi_next walks the folded features in order: from feature t's reads (feature 0's are
// (0, 0)), the reads of feature t + 1.
fn phi_next(t: u32, ab: vec2<u32>, d: u32) -> vec2<u32> {
  if (FEATURE_MAP == 0u) { return vec2<u32>(t + 1u, t + 1u); }
  if (t < d) { return vec2<u32>(t, t); }        // feature t + 1 ≤ d reads x[t]
  if (t == d) { return vec2<u32>(0u, 0u); }     // the first quadratic feature, (0, 0)
  if (ab.y + 1u < d) { return vec2<u32>(ab.x, ab.y + 1u); }
  return vec2<u32>(ab.x + 1u, ab.x + 1u);
}

// The reads of folded feature t directly (a per-invocation feature: the (Z, k̃) kernels).
fn phi_reads_folded(t: u32, d: u32) -> vec2<u32> {
  if (FEATURE_MAP == 0u || t <= d) { return phi_reads(t, d); }
  var e = t - 1u - d;
  var a = 0u;
  while (e >= d - a) { e -= d - a; a++; }
  return vec2<u32>(a, a + e);
}

// ∂φ_t/∂x at the two entries phi_reads names: add .x at the first and .y at the second
// (they may be the same entry: taylor2's x_a² gets 2·x_a/√(2d), elu1 gets .y = 0).
fn phi_grads(t: u32, d: u32, xa: f32, xb: f32) -> vec2<f32> {
  if (FEATURE_MAP == 0u) {
    let s = inverseSqrt(sqrt(f32(d)));
    let u = xa * s;
    return vec2<f32>(select(exp(u) * s, s, u > 0.0), 0.0);
  }
  if (t == 0u) { return vec2<f32>(0.0, 0.0); }
  if (t <= d) { return vec2<f32>(inverseSqrt(sqrt(f32(d))), 0.0); }
  let c = inverseSqrt(2.0 * f32(d));
  return vec2<f32>(xb * c, xa * c);
}
