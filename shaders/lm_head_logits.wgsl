// LM head logits for a few rows (generation, exact-match evaluation): out[i, v0 + j] =
// x[r0 + i] · w[j] for i < rows and the bound vocabulary range w (vc rows of wte from
// global row v0). Writes straight into the [rows, V] output at column v0, which the
// matmul kernels (packed output) cannot do for several rows.
//
// A workgroup takes 8 rows (1 with ONE_ROW) (uniform across it, so their loads are uniform) and 64
// invocations x 4 columns; both operands are read along C as vec4 when C % 4 == 0 (VEC),
// so no transposed copy of wte is made; rows and columns past the end are clamped (the
// stores drop the duplicates), so the k loop has no branches. Accumulators are named,
// not arrays: SwiftShader keeps neither unrolled loops nor indexed arrays in registers.
struct Params {
  r0: u32,
  rows: u32,
  C: u32,
  vc: u32,
  v0: u32,
  V: u32, // row stride of out
}
@group(0) @binding(0) var<uniform> p: Params;
#if VEC
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
#else
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
#endif
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // [rows, V]

struct LmTile {
  r0: vec4<f32>, // row i, columns col0 .. col0 + 3
  r1: vec4<f32>, // row i, columns col0 .. col0 + 3
  r2: vec4<f32>, // row i, columns col0 .. col0 + 3
  r3: vec4<f32>, // row i, columns col0 .. col0 + 3
  r4: vec4<f32>, // row i, columns col0 .. col0 + 3
  r5: vec4<f32>, // row i, columns col0 .. col0 + 3
  r6: vec4<f32>, // row i, columns col0 .. col0 + 3
  r7: vec4<f32>, // row i, columns col0 .. col0 + 3
}

// 4 consecutive elements k4·4 .. k4·4+3 of row r (zero past C on the scalar path).
fn lm_x4(r: u32, k4: u32, C: u32) -> vec4<f32> {
#if VEC
  return x[r * (C / 4u) + k4];
#else
  let b = r * C;
  let k = k4 * 4u;
  return vec4(x[b + min(k, C - 1u)], select(0.0, x[b + min(k + 1u, C - 1u)], k + 1u < C),
              select(0.0, x[b + min(k + 2u, C - 1u)], k + 2u < C), select(0.0, x[b + min(k + 3u, C - 1u)], k + 3u < C));
#endif
}

fn lm_w4(c: u32, k4: u32, C: u32) -> vec4<f32> {
#if VEC
  return w[c * (C / 4u) + k4];
#else
  let b = c * C;
  let k = k4 * 4u;
  return vec4(w[b + min(k, C - 1u)], select(0.0, w[b + min(k + 1u, C - 1u)], k + 1u < C),
              select(0.0, w[b + min(k + 2u, C - 1u)], k + 2u < C), select(0.0, w[b + min(k + 3u, C - 1u)], k + 3u < C));
#endif
}

fn lm_hsum(a: vec4<f32>) -> f32 {
  return (a.x + a.y) + (a.z + a.w);
}

// rows row0 .. row0+7 clamped to lastRow; columns col0 .. col0+3 clamped to lastCol.
fn lm_tile(row0: u32, lastRow: u32, col0: u32, lastCol: u32, C: u32) -> LmTile {
  let x0r = min(row0 + 0u, lastRow);
  let x1r = min(row0 + 1u, lastRow);
  let x2r = min(row0 + 2u, lastRow);
  let x3r = min(row0 + 3u, lastRow);
  let x4r = min(row0 + 4u, lastRow);
  let x5r = min(row0 + 5u, lastRow);
  let x6r = min(row0 + 6u, lastRow);
  let x7r = min(row0 + 7u, lastRow);
  let w0c = min(col0 + 0u, lastCol);
  let w1c = min(col0 + 1u, lastCol);
  let w2c = min(col0 + 2u, lastCol);
  let w3c = min(col0 + 3u, lastCol);
  var a00 = vec4(0.0); var a01 = vec4(0.0); var a02 = vec4(0.0); var a03 = vec4(0.0);
  var a10 = vec4(0.0); var a11 = vec4(0.0); var a12 = vec4(0.0); var a13 = vec4(0.0);
  var a20 = vec4(0.0); var a21 = vec4(0.0); var a22 = vec4(0.0); var a23 = vec4(0.0);
  var a30 = vec4(0.0); var a31 = vec4(0.0); var a32 = vec4(0.0); var a33 = vec4(0.0);
  var a40 = vec4(0.0); var a41 = vec4(0.0); var a42 = vec4(0.0); var a43 = vec4(0.0);
  var a50 = vec4(0.0); var a51 = vec4(0.0); var a52 = vec4(0.0); var a53 = vec4(0.0);
  var a60 = vec4(0.0); var a61 = vec4(0.0); var a62 = vec4(0.0); var a63 = vec4(0.0);
  var a70 = vec4(0.0); var a71 = vec4(0.0); var a72 = vec4(0.0); var a73 = vec4(0.0);
  let C4 = (C + 3u) / 4u;
  for (var k4 = 0u; k4 < C4; k4++) {
    let w0 = lm_w4(w0c, k4, C);
    let w1 = lm_w4(w1c, k4, C);
    let w2 = lm_w4(w2c, k4, C);
    let w3 = lm_w4(w3c, k4, C);
    var xv: vec4<f32>;
    xv = lm_x4(x0r, k4, C);
    a00 = fma(xv, w0, a00); a01 = fma(xv, w1, a01); a02 = fma(xv, w2, a02); a03 = fma(xv, w3, a03);
    xv = lm_x4(x1r, k4, C);
    a10 = fma(xv, w0, a10); a11 = fma(xv, w1, a11); a12 = fma(xv, w2, a12); a13 = fma(xv, w3, a13);
    xv = lm_x4(x2r, k4, C);
    a20 = fma(xv, w0, a20); a21 = fma(xv, w1, a21); a22 = fma(xv, w2, a22); a23 = fma(xv, w3, a23);
    xv = lm_x4(x3r, k4, C);
    a30 = fma(xv, w0, a30); a31 = fma(xv, w1, a31); a32 = fma(xv, w2, a32); a33 = fma(xv, w3, a33);
    xv = lm_x4(x4r, k4, C);
    a40 = fma(xv, w0, a40); a41 = fma(xv, w1, a41); a42 = fma(xv, w2, a42); a43 = fma(xv, w3, a43);
    xv = lm_x4(x5r, k4, C);
    a50 = fma(xv, w0, a50); a51 = fma(xv, w1, a51); a52 = fma(xv, w2, a52); a53 = fma(xv, w3, a53);
    xv = lm_x4(x6r, k4, C);
    a60 = fma(xv, w0, a60); a61 = fma(xv, w1, a61); a62 = fma(xv, w2, a62); a63 = fma(xv, w3, a63);
    xv = lm_x4(x7r, k4, C);
    a70 = fma(xv, w0, a70); a71 = fma(xv, w1, a71); a72 = fma(xv, w2, a72); a73 = fma(xv, w3, a73);
  }
  var t: LmTile;
  t.r0 = vec4(lm_hsum(a00), lm_hsum(a01), lm_hsum(a02), lm_hsum(a03));
  t.r1 = vec4(lm_hsum(a10), lm_hsum(a11), lm_hsum(a12), lm_hsum(a13));
  t.r2 = vec4(lm_hsum(a20), lm_hsum(a21), lm_hsum(a22), lm_hsum(a23));
  t.r3 = vec4(lm_hsum(a30), lm_hsum(a31), lm_hsum(a32), lm_hsum(a33));
  t.r4 = vec4(lm_hsum(a40), lm_hsum(a41), lm_hsum(a42), lm_hsum(a43));
  t.r5 = vec4(lm_hsum(a50), lm_hsum(a51), lm_hsum(a52), lm_hsum(a53));
  t.r6 = vec4(lm_hsum(a60), lm_hsum(a61), lm_hsum(a62), lm_hsum(a63));
  t.r7 = vec4(lm_hsum(a70), lm_hsum(a71), lm_hsum(a72), lm_hsum(a73));
  return t;
}

#if ONE_ROW
// One row (generation's last position): the 8-row tile would do 8× the work for it.
fn lm_row(r: u32, col0: u32, lastCol: u32, C: u32) -> vec4<f32> {
  let w0c = min(col0 + 0u, lastCol);
  let w1c = min(col0 + 1u, lastCol);
  let w2c = min(col0 + 2u, lastCol);
  let w3c = min(col0 + 3u, lastCol);
  var a0 = vec4(0.0); var a1 = vec4(0.0); var a2 = vec4(0.0); var a3 = vec4(0.0);
  let C4 = (C + 3u) / 4u;
  for (var k4 = 0u; k4 < C4; k4++) {
    let xv = lm_x4(r, k4, C);
    a0 = fma(xv, lm_w4(w0c, k4, C), a0); a1 = fma(xv, lm_w4(w1c, k4, C), a1);
    a2 = fma(xv, lm_w4(w2c, k4, C), a2); a3 = fma(xv, lm_w4(w3c, k4, C), a3);
  }
  return vec4(lm_hsum(a0), lm_hsum(a1), lm_hsum(a2), lm_hsum(a3));
}
#endif

fn lm_store(i: u32, c0: u32, z: vec4<f32>) {
  if (i >= p.rows) { return; }
  let o = i * p.V + p.v0 + c0;
  out[o] = z.x;
  if (c0 + 1u < p.vc) { out[o + 1u] = z.y; }
  if (c0 + 2u < p.vc) { out[o + 2u] = z.z; }
  if (c0 + 3u < p.vc) { out[o + 3u] = z.w; }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c0 = wid.x * 256u + lid * 4u;
  if (c0 >= p.vc) { return; }
#if ONE_ROW
  lm_store(0u, c0, lm_row(p.r0, c0, p.vc - 1u, p.C));
#else
  let i0 = wid.y * 8u;
  let z = lm_tile(p.r0 + i0, p.r0 + p.rows - 1u, c0, p.vc - 1u, p.C);
  lm_store(i0, c0, z.r0); lm_store(i0 + 1u, c0, z.r1);
  lm_store(i0 + 2u, c0, z.r2); lm_store(i0 + 3u, c0, z.r3);
  lm_store(i0 + 4u, c0, z.r4); lm_store(i0 + 5u, c0, z.r5);
  lm_store(i0 + 6u, c0, z.r6); lm_store(i0 + 7u, c0, z.r7);
#endif
}
