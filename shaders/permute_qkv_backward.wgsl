// Backward of permute_qkv_forward (a pure permutation, so its adjoint is the inverse
// gather): dqkv[b, t, s, h, e] = (dq, dk, dv)[s][b, h, t, e]. One thread per element of
// dqkv (coalesced writes), grid-stride. Written, not accumulated.
struct Params { n: u32, t: u32, h: u32, d: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dq: array<f32>;
@group(0) @binding(2) var<storage, read> dk: array<f32>;
@group(0) @binding(3) var<storage, read> dv: array<f32>;
@group(0) @binding(4) var<storage, read_write> dqkv: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * 256u;
  let c = p.h * p.d;
  for (var i = gid.x; i < p.n; i += stride) {
    // i = (bt·3 + s)·C + h·d + e with bt = b·T + t
    let e = i % p.d;
    let h = (i / p.d) % p.h;
    let s = (i / c) % 3u;
    let bt = i / (3u * c);
    let t = bt % p.t;
    let b = bt / p.t;
    let src = ((b * p.h + h) * p.t + t) * p.d + e;
    var g: f32;
    if (s == 0u) { g = dq[src]; } else if (s == 1u) { g = dk[src]; } else { g = dv[src]; }
    dqkv[i] = g;
  }
}
