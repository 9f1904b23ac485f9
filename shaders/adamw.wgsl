// One AdamW step over a parameter tensor, element-wise (grid-stride):
//   g' = gradScale·g;  m ← β1·m + (1−β1)·g';  v ← β2·v + (1−β2)·g'²
//   p ← p − lr·( m/bc1 / (sqrt(v/bc2) + eps) + wd·p )
// bc1 = 1−β1^t and bc2 = 1−β2^t come from the CPU (float64 powers); wd is 0 for tensors
// that do not decay. With GRAD_SCALE, gradScale = scale[scale_index] is read from the GPU
// (the clip factor written by gradnorm_finalize), so clipping needs no readback.
struct Params {
  n: u32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  one_minus_beta1: f32,
  one_minus_beta2: f32,
  eps: f32,
  wd: f32,
  bc1: f32,
  bc2: f32,
  scale_index: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m1: array<f32>;
@group(0) @binding(4) var<storage, read_write> m2: array<f32>;
#if GRAD_SCALE
@group(0) @binding(5) var<storage, read> scale: array<f32>;
#endif

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
#if GRAD_SCALE
  let gs = scale[p.scale_index];
#else
  let gs = 1.0;
#endif
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < p.n; i += stride) {
    let g = grad[i] * gs;
    let m = p.beta1 * m1[i] + p.one_minus_beta1 * g;
    let v = p.beta2 * m2[i] + p.one_minus_beta2 * g * g;
    m1[i] = m;
    m2[i] = v;
    let w = param[i];
    // Decay uses the pre-step weight (decoupled, as in PyTorch's AdamW).
    param[i] = w - p.lr * ((m / p.bc1) / (sqrt(v / p.bc2) + p.eps) + p.wd * w);
  }
}
