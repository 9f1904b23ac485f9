// k̃ = f(κ) for NTK-Attention's denominator, and the chain rule back to κ.
// KPARAM: 0 = |κ| (the authors'), 1 = e^κ, 2 = softplus(κ), 3 = κ as is.
override KPARAM: u32 = 1u;
struct Params { n: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;  // forward: κ; backward: dk̃
@group(0) @binding(2) var<storage, read> kappa: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>; // forward: k̃; backward: dκ

fn softplus(x: f32) -> f32 {
  // log(1 + e^x) without overflow: x + log(1 + e^{−x}) for x > 0.
  return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.n) { return; }
  let x = src[i];
  var y = x;
  if (KPARAM == 0u) { y = abs(x); } else if (KPARAM == 1u) { y = exp(x); } else if (KPARAM == 2u) { y = softplus(x); }
  dst[i] = y;
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.n) { return; }
  let x = kappa[i];
  var gr = 1.0;
  if (KPARAM == 0u) { gr = sign(x); } else if (KPARAM == 1u) { gr = exp(x); } else if (KPARAM == 2u) { gr = 1.0 / (1.0 + exp(-x)); }
  var r = src[i] * gr;
  if (p.accumulate != 0u) { r += dst[i]; }
  dst[i] = r;
}
