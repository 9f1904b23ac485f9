// Position-embedding gradient without atomics: dwpe[t, c] = Σ_b dout[b, t, c] (batch
// order, deterministic) for t < T, and 0 for the rows t ≥ T that this sequence length
// did not use (so a [maxT, C] gradient buffer is fully written). One thread per element
// of dwpe, grid-stride. Written, or added when accumulate != 0.
struct Params { n: u32, b: u32, t: u32, c: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read_write> dwpe: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * 256u;
  let tc = p.t * p.c;
  for (var i = gid.x; i < p.n; i += stride) {
    var s = 0.0;
    if (i < tc) {
      for (var b = 0u; b < p.b; b++) { s += dout[b * tc + i]; }
    }
    if (p.accumulate != 0u) { s += dwpe[i]; }
    dwpe[i] = s;
  }
}
