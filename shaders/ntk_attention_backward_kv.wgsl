// NTK-Attention backward, key-parallel: one invocation per key row (b, h, j), looping over
// the queries that see it (deterministic, no atomics):
//   dV_j = Σ_i P_ij g_i,   dK_j = c Σ_i dS_ij q_i,   dS_ij = P_ij (g_i·v_j − Δ_i).
struct Params { B: u32, H: u32, L: u32, d: u32, r: u32, causal: u32, scale: f32, accumulate: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<storage, read> g: array<f32>;
@group(0) @binding(6) var<storage, read> delta: array<f32>;
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let n = (wg.x + wg.y * nwg.x) * 64u + li;
  if (n >= p.B * p.H * p.L) { return; }
#if HEAD_D
  let d = ${HEAD_D}u; // d as a constant: loops over it unroll and the row arrays stay in registers
#else
  let d = p.d;
#endif
  let j = n % p.L;
  let bh = n / p.L;
  let base = bh * p.L * d;
  var kj: array<f32, 64>;
  var vj: array<f32, 64>;
  var dkj: array<f32, 64>;
  var dvj: array<f32, 64>;
  for (var a = 0u; a < d; a++) { kj[a] = k[base + j * d + a]; vj[a] = v[base + j * d + a]; }
  var i0 = 0u;
  if (p.causal != 0u) { i0 = j; }
  for (var i = i0; i < p.L; i++) {
    let row = bh * p.L + i;
    var dot = 0.0;
    var gv = 0.0;
    for (var a = 0u; a < d; a++) {
      dot += q[base + i * d + a] * kj[a];
      gv += g[base + i * d + a] * vj[a];
    }
    let pr = exp(p.scale * dot - stats[2u * row]) / stats[2u * row + 1u];
    let ds = pr * (gv - delta[row]) * p.scale;
    for (var a = 0u; a < d; a++) {
      dvj[a] += pr * g[base + i * d + a];
      dkj[a] += ds * q[base + i * d + a];
    }
  }
  for (var a = 0u; a < d; a++) {
    var rk = dkj[a];
    var rv = dvj[a];
    if (p.accumulate != 0u) { rk += dk[base + j * d + a]; rv += dv[base + j * d + a]; }
    dk[base + j * d + a] = rk;
    dv[base + j * d + a] = rv;
  }
}
