// Splits the attention projection's output into head-major Q, K, V:
//   qkv [B, T, 3, H, d]  (= [B·T, 3C] with C = H·d, the output of x·W_qkv)
//   → q, k, v [B, H, T, d],   q[b, h, t, e] = qkv[b, t, 0, h, e] (k: 1, v: 2).
// One thread per element of q (three gathers, three coalesced writes), grid-stride.
struct Params { n: u32, t: u32, h: u32, d: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> q: array<f32>;
@group(0) @binding(3) var<storage, read_write> k: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * 256u;
  let c = p.h * p.d;
  for (var i = gid.x; i < p.n; i += stride) {
    // i = ((b·H + h)·T + t)·d + e
    let e = i % p.d;
    let t = (i / p.d) % p.t;
    let bh = i / (p.d * p.t);
    let h = bh % p.h;
    let b = bh / p.h;
    let src = (b * p.t + t) * 3u * c + h * p.d + e;
    q[i] = qkv[src];
    k[i] = qkv[src + c];
    v[i] = qkv[src + 2u * c];
  }
}
