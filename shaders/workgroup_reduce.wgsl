// Deterministic reductions of one f32 per invocation over a workgroup: a tree over
// workgroup memory (halves folded in fixed order), so the result is the same bits on every
// run. The including shader declares WG (a power of two: its workgroup size, `const` or
// `override`); this file declares the scratch `red`. Call from uniform control flow (the
// functions hold barriers); each returns the result to every invocation and ends with a
// barrier, so `red` may be reused by the next call at once.
var<workgroup> red: array<f32, WG>;

fn wg_max(v: f32, tid: u32) -> f32 {
  red[tid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] = max(red[tid], red[tid + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier(); // every invocation has read red[0] before it is overwritten
  return r;
}

fn wg_sum(v: f32, tid: u32) -> f32 {
  red[tid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] += red[tid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
