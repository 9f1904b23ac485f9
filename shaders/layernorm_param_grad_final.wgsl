// LayerNorm backward, parameter gradients, pass 2 of 2: one thread per column sums the
// chunk partials of layernorm_param_grad_partial in chunk order (deterministic) and
// writes dw[c], db[c], or adds to them when accumulate != 0.
struct Params { c: u32, chunks: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
@group(0) @binding(3) var<storage, read_write> db: array<f32>;

const WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  if (col >= p.c) { return; }
  var sw = 0.0;
  var sb = 0.0;
  for (var k = 0u; k < p.chunks; k++) {
    sw += partials[k * 2u * p.c + col];
    sb += partials[k * 2u * p.c + p.c + col];
  }
  if (p.accumulate != 0u) {
    sw += dw[col];
    sb += db[col];
  }
  dw[col] = sw;
  db[col] = sb;
}
