// Error metrics, pass 1 of 2 (deterministic two-stage reduction, no atomics): workgroup g
// reduces its grid-stride share of a [n] (and b [n] when HAS_B) into
//   partials[3g + 0] = Σ (a − b)²   (Σ a² without b)
//   partials[3g + 1] = Σ b²         (0 without b)
//   partials[3g + 2] = max |a − b|  (max |a| without b)
// The number of workgroups depends only on n, so the summation order is fixed.
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
#if HAS_B
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;
#else
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;
#endif

const WG: u32 = 256u;
var<workgroup> r_sq: array<f32, WG>;
var<workgroup> r_ref: array<f32, WG>;
var<workgroup> r_max: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  var sq = 0.0;
  var rf = 0.0;
  var mx = 0.0;
  let stride = nwg.x * WG;
  for (var i = gid.x; i < p.n; i += stride) {
#if HAS_B
    let bv = b[i];
    let d = a[i] - bv;
    rf += bv * bv;
#else
    let d = a[i];
#endif
    sq += d * d;
    mx = max(mx, abs(d));
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
    partials[3u * wid.x] = r_sq[0];
    partials[3u * wid.x + 1u] = r_ref[0];
    partials[3u * wid.x + 2u] = r_max[0];
  }
}
