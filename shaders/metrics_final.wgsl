// Error metrics, pass 2 of 2: one workgroup combines the `groups` partial triples of
// metrics_partial (fixed order: strided by thread, then a tree) into
// out[0] = Σ (a − b)², out[1] = Σ b², out[2] = max |a − b|.
struct Params { groups: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const WG: u32 = 256u;
var<workgroup> r_sq: array<f32, WG>;
var<workgroup> r_ref: array<f32, WG>;
var<workgroup> r_max: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32) {
  var sq = 0.0;
  var rf = 0.0;
  var mx = 0.0;
  for (var g = tid; g < p.groups; g += WG) {
    sq += partials[3u * g];
    rf += partials[3u * g + 1u];
    mx = max(mx, partials[3u * g + 2u]);
  }
  r_sq[tid] = sq;
  r_ref[tid] = rf;
  r_max[tid] = mx;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) {
      r_sq[tid] += r_sq[tid + s];
      r_ref[tid] += r_ref[tid + s];
      r_max[tid] = max(r_max[tid], r_max[tid + s]);
    }
    workgroupBarrier();
  }
  if (tid == 0u) {
    out[0] = r_sq[0];
    out[1] = r_ref[0];
    out[2] = r_max[0];
  }
}
