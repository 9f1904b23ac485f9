// LayerNorm over the last dimension of x [N, C]: y = (x − μ)·rstd·w + b with
// rstd = 1/√(σ² + eps), σ² the biased variance (GPT-2 / PyTorch). μ and rstd are saved per
// row for the backward pass. One workgroup per row; rows are grid-strided so any N fits
// the 65535-workgroup limit. Two passes over the row (μ, then Σ(x−μ)²) instead of
// E[x²] − μ², which cancels catastrophically when |μ| ≫ σ.
struct Params { n: u32, c: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>;

const WG: u32 = 64u;
var<workgroup> red: array<f32, WG>;

// Tree sum over the workgroup; every thread gets the total. Must be called from
// workgroup-uniform control flow.
fn block_sum(tid: u32, v: f32) -> f32 {
  red[tid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] += red[tid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  // Everyone has read red[0] before the next call overwrites it.
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
  let inv_c = 1.0 / f32(p.c);
  // `row` is workgroup-uniform, so the barriers inside block_sum are in uniform flow.
  for (var row = wid.x; row < p.n; row += nwg.x) {
    let base = row * p.c;
    var s = 0.0;
    for (var i = tid; i < p.c; i += WG) { s += x[base + i]; }
    let mu = block_sum(tid, s) * inv_c;
    var q = 0.0;
    for (var i = tid; i < p.c; i += WG) {
      let d = x[base + i] - mu;
      q += d * d;
    }
    let r = inverseSqrt(block_sum(tid, q) * inv_c + p.eps);
    for (var i = tid; i < p.c; i += WG) {
      y[base + i] = (x[base + i] - mu) * r * w[i] + b[i];
    }
    if (tid == 0u) {
      mean[row] = mu;
      rstd[row] = r;
    }
  }
}
