// Backward of permute_unpermute_forward (its inverse permutation):
//   dout [B, T, H, d] → do [B, H, T, d],  do[b, h, t, e] = dout[b, t, h, e].
// One thread per element of do (coalesced writes), grid-stride. Written, not accumulated.
struct Params { n: u32, t: u32, h: u32, d: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read_write> d_o: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < p.n; i += stride) {
    // i = ((b·H + h)·T + t)·d + e
    let e = i % p.d;
    let t = (i / p.d) % p.t;
    let bh = i / (p.d * p.t);
    let h = bh % p.h;
    let b = bh / p.h;
    d_o[i] = dout[((b * p.t + t) * p.h + h) * p.d + e];
  }
}
