// LayerNorm backward, input gradient. With n̂ = (x − μ)·rstd and g = dy ⊙ w:
//   dx = rstd · (g − mean(g) − n̂ · mean(g ⊙ n̂))
// written, or added to dx when accumulate != 0 (dx is then the residual-stream gradient).
// μ and rstd are the forward pass's saved values. One workgroup per row, rows grid-strided.
struct Params { n: u32, c: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> rstd: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;

const WG: u32 = 64u;
var<workgroup> red: array<f32, WG>;

fn block_sum(tid: u32, v: f32) -> f32 {
  red[tid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] += red[tid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
  let inv_c = 1.0 / f32(p.c);
  for (var row = wid.x; row < p.n; row += nwg.x) {
    let base = row * p.c;
    let mu = mean[row];
    let r = rstd[row];
    var sg = 0.0;
    var sgn = 0.0;
    for (var i = tid; i < p.c; i += WG) {
      let g = dy[base + i] * w[i];
      sg += g;
      sgn += g * (x[base + i] - mu) * r;
    }
    let mg = block_sum(tid, sg) * inv_c;
    let mgn = block_sum(tid, sgn) * inv_c;
    for (var i = tid; i < p.c; i += WG) {
      let nh = (x[base + i] - mu) * r;
      var v = r * (dy[base + i] * w[i] - mg - nh * mgn);
      if (p.accumulate != 0u) { v += dx[base + i]; }
      dx[base + i] = v;
    }
  }
}
