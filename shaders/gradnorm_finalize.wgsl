// Second pass of the global gradient norm: one workgroup sums every partial (fixed order),
// then out[0] = norm = sqrt(Σ), out[1] = clip scale = min(1, max_norm/(norm + 1e-6)),
// or 1 when clipping is off (clip == 0). AdamW reads out[1] as its gradScale.
// A non-finite gradient makes norm non-finite: callers can read out[0] to skip the step.
struct Params { count: u32, max_norm: f32, clip: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const WG: u32 = 256u;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32) {
  var acc = 0.0;
  for (var i = tid; i < p.count; i += WG) { acc += partials[i]; }
  red[tid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] += red[tid + s]; }
    workgroupBarrier();
  }
  if (tid == 0u) {
    let norm = sqrt(red[0]);
    out[0] = norm;
    var scale = 1.0;
    if (p.clip != 0u) { scale = min(1.0, p.max_norm / (norm + 1e-6)); }
    out[1] = scale;
  }
}
