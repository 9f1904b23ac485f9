// KV cache append for incremental decoding (one sequence, B = 1): the fused qkv rows of
// the n new positions, [n, 3, H, d] (= [n, 3C], the output of x·W_qkv), become
//   q [H, n, d]                      (the new queries, head-major as attention reads them)
//   kc, vc [H, Tmax, d] rows pos … pos+n−1   (appended to the layer's cache; other rows kept)
// One thread per element of q (three gathers, three writes), grid-stride.
struct Params { n: u32, H: u32, d: u32, Tmax: u32, pos: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> q: array<f32>;
@group(0) @binding(3) var<storage, read_write> kc: array<f32>;
@group(0) @binding(4) var<storage, read_write> vc: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let total = p.n * p.H * p.d;
  let c = p.H * p.d;
  for (var x = gid.x; x < total; x += nwg.x * 256u) {
    // x = (h·n + i)·d + e
    let e = x % p.d;
    let i = (x / p.d) % p.n;
    let h = x / (p.d * p.n);
    let src = i * 3u * c + h * p.d + e;
    q[x] = qkv[src];
    let dst = (h * p.Tmax + p.pos + i) * p.d + e;
    kc[dst] = qkv[src + c];
    vc[dst] = qkv[src + 2u * c];
  }
}
