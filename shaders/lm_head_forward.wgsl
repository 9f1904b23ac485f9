// LM head forward, pass 1 of 2: per (row, vocabulary sub-chunk) the running maximum and
// Σ e^{z − max} of the logits z = x·wᵀ over that sub-chunk (an online log-sum-exp), plus
// the target's logit for the one invocation whose columns hold it. The logits themselves
// are never stored. Pass 2 (lm_head_combine) folds the partials per row.
//
// Workgroup (sub, row block): 8 rows (uniform across the workgroup, see lm_head_tile),
// 64 invocations x 4 columns = 256 columns per step, `steps` steps per sub-chunk. Each
// invocation keeps (max, sum) per row; the 64 are then folded in invocation order by one
// invocation per row, so the partials are the same bits on every run.
struct Params {
  N: u32,       // rows of x
  C: u32,
  vc: u32,      // columns in the bound wte range (this chunk)
  v0: u32,      // global index of the range's first column
  steps: u32,   // 256-column steps per sub-chunk
  sub0: u32,    // index of this chunk's first sub-chunk
  nsub: u32,    // sub-chunks per row in `partial` (all chunks)
  ignore_index: i32,
}
@group(0) @binding(0) var<uniform> p: Params;
#if VEC
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
#else
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
#endif
@group(0) @binding(3) var<storage, read> targets: array<i32>;
@group(0) @binding(4) var<storage, read_write> partial: array<vec2<f32>>; // [N, nsub] (max, sum)
@group(0) @binding(5) var<storage, read_write> zt: array<f32>;            // [N] target logit

#include "lm_head_tile"

const LOWEST: f32 = -3.4028234663852886e38;
const WG: u32 = 64u;
var<workgroup> red: array<vec2<f32>, 512>; // [8 rows][64 invocations], 4 KiB

// (max, sum) after adding the columns of z that `ok` keeps. Every exponent is ≤ 0.
fn lm_update(ms: vec2<f32>, z: vec4<f32>, ok: vec4<bool>) -> vec2<f32> {
  let zm = select(vec4(LOWEST), z, ok);
  let mn = max(ms.x, max(max(zm.x, zm.y), max(zm.z, zm.w)));
  let e = select(vec4(0.0), exp(z - vec4(mn)), ok);
  return vec2(mn, ms.y * exp(ms.x - mn) + lm_hsum(e));
}

// The target's logit, if the target of row r is one of the global columns g .. g+3.
fn lm_target(r: u32, t: i32, g: u32, z: vec4<f32>, ok: vec4<bool>) {
  if (r >= p.N || t < 0) { return; }
  let j = u32(t) - g;
  if (u32(t) < g || j >= 4u || !ok[j]) { return; }
  zt[r] = z[j];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row0 = wid.y * 8u;
  let last = p.N - 1u;
  var t: array<i32, 8>;
  for (var i = 0u; i < 8u; i++) {
    let r = min(row0 + i, last);
    t[i] = targets[r];
  }
  var m0 = vec2(LOWEST, 0.0); var m1 = m0; var m2 = m0; var m3 = m0;
  var m4 = m0; var m5 = m0; var m6 = m0; var m7 = m0;
  let base = wid.x * p.steps * 256u;
  for (var s = 0u; s < p.steps; s++) {
    let c0 = base + s * 256u + lid * 4u;
    if (c0 >= p.vc) { break; }
    let z = lm_tile(row0, last, c0, p.vc - 1u, p.C);
    let ok = vec4(c0, c0 + 1u, c0 + 2u, c0 + 3u) < vec4(p.vc);
    m0 = lm_update(m0, z.r0, ok); m1 = lm_update(m1, z.r1, ok);
    m2 = lm_update(m2, z.r2, ok); m3 = lm_update(m3, z.r3, ok);
    m4 = lm_update(m4, z.r4, ok); m5 = lm_update(m5, z.r5, ok);
    m6 = lm_update(m6, z.r6, ok); m7 = lm_update(m7, z.r7, ok);
    let g = p.v0 + c0;
    lm_target(row0, t[0], g, z.r0, ok); lm_target(row0 + 1u, t[1], g, z.r1, ok);
    lm_target(row0 + 2u, t[2], g, z.r2, ok); lm_target(row0 + 3u, t[3], g, z.r3, ok);
    lm_target(row0 + 4u, t[4], g, z.r4, ok); lm_target(row0 + 5u, t[5], g, z.r5, ok);
    lm_target(row0 + 6u, t[6], g, z.r6, ok); lm_target(row0 + 7u, t[7], g, z.r7, ok);
  }
  red[lid] = m0; red[64u + lid] = m1; red[128u + lid] = m2; red[192u + lid] = m3;
  red[256u + lid] = m4; red[320u + lid] = m5; red[384u + lid] = m6; red[448u + lid] = m7;
  workgroupBarrier();
  let r = row0 + lid;
  if (lid < 8u && r < p.N) {
    var acc = vec2(LOWEST, 0.0);
    for (var i = 0u; i < WG; i++) {
      let q = red[lid * WG + i];
      let mn = max(acc.x, q.x);
      acc = vec2(mn, acc.y * exp(acc.x - mn) + q.y * exp(q.x - mn));
    }
    partial[r * p.nsub + p.sub0 + wid.x] = acc;
  }
}
