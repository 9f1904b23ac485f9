// GELU, GPT-2's tanh form: y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
// Grid-stride loop so any n fits in the 65535-workgroup dispatch limit.
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;

// 0.5·(1 + tanh(u)) = σ(2u) = 1/(1 + e^{−2u}): no cancellation for negative x (1 + tanh
// loses all digits there), and e^{−2u} overflowing to +inf still gives the right 0.
fn sigmoid2(u: f32) -> f32 {
  return 1.0 / (1.0 + exp(-2.0 * u));
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < p.n; i += stride) {
    let v = x[i];
    let u = SQRT_2_OVER_PI * (v + 0.044715 * v * v * v);
    y[i] = v * sigmoid2(u);
  }
}
