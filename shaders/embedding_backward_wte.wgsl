// Token-embedding gradient without atomics: dwte[v, c] = Σ_{n : tokens[n] = v} dout[n, c],
// summed in position order, so the result is deterministic. Thread (column c, vocabulary
// row v) scans all B·T tokens: every thread of a workgroup reads the same token (one
// broadcast load) and the matching rows of dout are read coalesced across columns.
// Cost O(V·B·T) compares, fine for the small vocabularies this project trains; rows beyond
// the dispatch's y extent are grid-strided (V > 65535). Written, or added when
// accumulate != 0 (the tied LM head has already written its share of dwte). dwte may be
// bound as rows [v0, v0 + v) of the whole table (a chunk under the binding limit).
struct Params { ntok: u32, c: u32, v: u32, accumulate: u32, v0: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read_write> dwte: array<f32>;

const WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
  let col = wid.x * WG + tid;
  if (col >= p.c) { return; }
  for (var row = wid.y; row < p.v; row += nwg.y) {
    var s = 0.0;
    for (var n = 0u; n < p.ntok; n++) {
      if (tokens[n] == row + p.v0) { s += dout[n * p.c + col]; }
    }
    let i = row * p.c + col;
    if (p.accumulate != 0u) { s += dwte[i]; }
    dwte[i] = s;
  }
}
