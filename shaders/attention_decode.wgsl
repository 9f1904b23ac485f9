// Attention for incremental decoding with a KV cache (one sequence, B = 1): the n new
// query rows sit at positions t … t+n−1, and row i attends to the layer's m prefix
// keys/values (all of them) and to the cached keys/values of positions 0 … t+i (causal).
// Writes o and each row's log-sum-exp lse over those keys (NTK-Attention's decode adds
// its φ terms from the two with ntk_combine.wgsl, as its split training path does).
//
// One workgroup per (row i, head h). A decode step has n = 1, so a row per invocation
// would leave H invocations for the whole step: the parallelism comes from the keys
// instead. Invocation w takes keys w, w+WG, … with its own online softmax (max, Σe^s,
// Σe^s·v); the WG states are then merged through workgroup memory (max over invocations,
// each state rescaled to it, sums added in invocation order: deterministic, no atomics).
// The output accumulators are merged CH dims at a time so workgroup memory stays at
// WG·CH floats for any d ≤ DMAX. Keys past t+i (the rest of the cache) are never read.
//
// Defines (the wrapper picks them per adapter): WG invocations, CH ≤ WG dims per merge
// round. Wrapper: src/kernels/attention_decode.ts. Reference: attention_decode.ref.ts.
struct Params { H: u32, n: u32, t: u32, Tmax: u32, m: u32, d: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;  // [H, n, d]
@group(0) @binding(2) var<storage, read> kc: array<f32>; // [H, Tmax, d]
@group(0) @binding(3) var<storage, read> vc: array<f32>; // [H, Tmax, d]
@group(0) @binding(4) var<storage, read> pk: array<f32>; // [H, m, d] (not read if m = 0)
@group(0) @binding(5) var<storage, read> pv: array<f32>; // [H, m, d]
@group(0) @binding(6) var<storage, read_write> o: array<f32>;   // [H, n, d]
@group(0) @binding(7) var<storage, read_write> lse: array<f32>; // [H, n]

const DMAX: u32 = 128u; // largest head dim (DECODE_MAX_HEAD_DIM in the wrapper)
const WG: u32 = ${WG}u;
const CH: u32 = ${CH}u;
// Stands in for −∞ (WGSL has no infinity literal): e^{NEG − x} = 0 for any real score x.
const NEG: f32 = -1.0e30;

var<workgroup> wmx: array<f32, WG>;
var<workgroup> wl: array<f32, WG>;
var<workgroup> wacc: array<f32, WG * CH>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let D = p.d;
  let i = wg.x;
  let h = wg.y;
  let row = h * p.n + i;
  var qs: array<f32, DMAX>; // c·q (the scale folded in once)
  var acc: array<f32, DMAX>;
  for (var e = 0u; e < D; e++) {
    qs[e] = p.scale * q[row * D + e];
    acc[e] = 0.0;
  }
  var mx = NEG;
  var l = 0.0;
  let nKeys = p.m + p.t + i + 1u; // prefix, then cache positions 0 … t+i
  for (var u = lid; u < nKeys; u += WG) {
    let fromPrefix = u < p.m;
    var off = (h * p.Tmax + u - p.m) * D;
    if (fromPrefix) { off = (h * p.m + u) * D; }
    var s = 0.0;
    // WGSL cannot pass a storage buffer to a function: the two sources are written out.
    if (fromPrefix) {
      for (var e = 0u; e < D; e++) { s = fma(qs[e], pk[off + e], s); }
    } else {
      for (var e = 0u; e < D; e++) { s = fma(qs[e], kc[off + e], s); }
    }
    let mnew = max(mx, s);
    let corr = exp(mx - mnew); // 0 before this invocation's first key
    let w = exp(s - mnew);
    l = l * corr + w;
    if (fromPrefix) {
      for (var e = 0u; e < D; e++) { acc[e] = fma(w, pv[off + e], acc[e] * corr); }
    } else {
      for (var e = 0u; e < D; e++) { acc[e] = fma(w, vc[off + e], acc[e] * corr); }
    }
    mx = mnew;
  }

  // Merge: the row max, every state rescaled to it (an invocation with no keys has
  // mx = NEG, l = 0, acc = 0 and contributes 0), then the sums.
  wmx[lid] = mx;
  workgroupBarrier();
  var rowMax = NEG;
  for (var w = 0u; w < WG; w++) { rowMax = max(rowMax, wmx[w]); }
  let sc = exp(mx - rowMax);
  wl[lid] = l * sc;
  workgroupBarrier();
  var total = 0.0;
  for (var w = 0u; w < WG; w++) { total += wl[w]; }
  if (lid == 0u) { lse[row] = rowMax + log(total); }
  let inv = 1.0 / total;
  for (var e0 = 0u; e0 < D; e0 += CH) {
    for (var c = 0u; c < CH; c++) {
      let e = e0 + c;
      wacc[lid * CH + c] = select(0.0, acc[min(e, DMAX - 1u)] * sc, e < D);
    }
    workgroupBarrier();
    if (lid < CH && e0 + lid < D) {
      var sum = 0.0;
      for (var w = 0u; w < WG; w++) { sum += wacc[w * CH + lid]; }
      o[row * D + e0 + lid] = sum * inv;
    }
    workgroupBarrier();
  }
}
