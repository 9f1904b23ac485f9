// Merges heads back for the output projection:
//   o [B, H, T, d] → out [B, T, H, d] (= [B·T, C]),  out[b, t, h, e] = o[b, h, t, e].
// One thread per element of out (coalesced writes), grid-stride.
struct Params { n: u32, t: u32, h: u32, d: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> o: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < p.n; i += stride) {
    // i = ((b·T + t)·H + h)·d + e
    let e = i % p.d;
    let h = (i / p.d) % p.h;
    let bt = i / (p.d * p.h);
    let t = bt % p.t;
    let b = bt / p.t;
    out[i] = o[((b * p.h + h) * p.t + t) * p.d + e];
  }
}
