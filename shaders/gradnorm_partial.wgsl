// First pass of the global gradient norm: workgroup w of this dispatch writes the sum of
// squares of its grid-stride share of one gradient tensor into partials[slot + w].
// One dispatch per tensor, each with its own slots, so the later sum over slots has a
// fixed order (deterministic; no float atomics).
struct Params { n: u32, slot: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

const WG: u32 = 256u;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  var acc = 0.0;
  let stride = nwg.x * WG;
  for (var i = gid.x; i < p.n; i += stride) {
    let x = g[i];
    acc += x * x;
  }
  red[tid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] += red[tid + s]; }
    workgroupBarrier();
  }
  if (tid == 0u) { partials[p.slot + wid.x] = red[0]; }
}
