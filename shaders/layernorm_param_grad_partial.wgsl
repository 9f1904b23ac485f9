// LayerNorm backward, parameter gradients, pass 1 of 2 (deterministic, no float atomics):
// workgroup (cx, k) owns columns [64·cx, 64·cx + 64) of row chunk k = rows
// [k·rows_per_chunk, (k+1)·rows_per_chunk) and writes, per column c,
//   partials[k·2C + c]     = Σ_rows dy·n̂      (dw's share)
//   partials[k·2C + C + c] = Σ_rows dy        (db's share)
// Neighbouring threads read neighbouring columns of the same row (coalesced).
struct Params { n: u32, c: u32, rows_per_chunk: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> rstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;

const WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let col = wid.x * WG + tid;
  if (col >= p.c) { return; }
  let r0 = wid.y * p.rows_per_chunk;
  let r1 = min(p.n, r0 + p.rows_per_chunk);
  var sw = 0.0;
  var sb = 0.0;
  for (var row = r0; row < r1; row++) {
    let i = row * p.c + col;
    let g = dy[i];
    sw += g * (x[i] - mean[row]) * rstd[row];
    sb += g;
  }
  let out = wid.y * 2u * p.c + col;
  partials[out] = sw;
  partials[out + p.c] = sb;
}
