// Token + learned position embedding:
//   out[b, t, :] = wte[tokens[b, t], :] + wpe[t, :]
// tokens [B·T] u32, wte [V, C], wpe [P ≥ T, C], out [B·T, C]. One thread per output
// element, grid-stride. A token ≥ V writes a NaN row, so a bad token id is loud, not a
// silent clamped read. wte may be bound as rows [v0, v0 + vc) only (a vocabulary chunk,
// when the whole table exceeds the binding limit): a dispatch then writes just the rows
// whose token falls in its chunk, and the wrapper covers the vocabulary chunk by chunk.
struct Params { n: u32, t: u32, c: u32, v: u32, v0: u32, vc: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(2) var<storage, read> wte: array<f32>;
@group(0) @binding(3) var<storage, read> wpe: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

// A quiet NaN built at run time (a constant NaN is a WGSL compile error).
fn nan() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < p.n; i += stride) {
    let row = i / p.c;
    let col = i % p.c;
    let pos = row % p.t;
    let tok = tokens[row];
    if (tok >= p.v) {
      out[i] = nan();
    } else if (tok >= p.v0 && tok - p.v0 < p.vc) {
      out[i] = wte[(tok - p.v0) * p.c + col] + wpe[pos * p.c + col];
    }
  }
}
