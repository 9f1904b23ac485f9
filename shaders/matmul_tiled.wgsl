// C = alpha·op(A)·op(B) (+ bias) (+ C if accumulate), batched over z.
// Classic GPU tiling: a 64x64 tile of C per workgroup of 16x16 threads, 4x4 per thread,
// A and B staged through workgroup memory BK = 16 deep (2 x 16 x 65 floats = 8.1 KiB).
// Same parameters, bindings and results as shaders/matmul.wgsl (the software-adapter
// path); the wrapper src/kernels/matmul.ts picks one. Transposes and bias are uniforms
// (one pipeline for every call).
struct Params {
  M: u32,
  N: u32,
  K: u32,
  strideA: u32, // elements between batch entries (0: one operand shared by all)
  strideB: u32,
  strideC: u32,
  alpha: f32,
  accumulate: u32, // 1: C += result
  hasBias: u32, // 0: the bias binding is a placeholder
  // op(A)[i,k] = A[i·aRow + k·aK], op(B)[k,j] = B[k·bK + j·bCol] (encodes the transposes)
  aRow: u32,
  aK: u32,
  bK: u32,
  bCol: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;

const BM = 64u;
const BN = 64u;
const BK = 16u;
const TM = 4u;
const TN = 4u;
const THREADS = 256u;
// Tiles are stored k-major with one float of padding per k row, so that the tile loads,
// whose consecutive threads walk k (for untransposed A), hit distinct banks.
const AS_ROW = BM + 1u;
const BS_ROW = BN + 1u;
var<workgroup> As: array<f32, BK * AS_ROW>;
var<workgroup> Bs: array<f32, BK * BS_ROW>;

@compute @workgroup_size(16, 16)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let m0 = wg.y * BM;
  let n0 = wg.x * BN;
  let offA = wg.z * p.strideA;
  let offB = wg.z * p.strideB;
  let offC = wg.z * p.strideC;

  // Thread (tx, ty) owns rows ty + 16·i and columns tx + 16·j of the tile: strided, so a
  // warp reads consecutive workgroup addresses and writes consecutive columns of C.
  var acc: array<array<f32, TN>, TM>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    // Stage op(A)[m0.., k0..] and op(B)[k0.., n0..]; elements past the edges are zero, so
    // the inner loop needs no bounds checks. Consecutive threads read consecutive
    // addresses of the stored (not the logical) layout.
    for (var e = li; e < BM * BK; e += THREADS) {
      var mm = e / BK;
      var kk = e % BK;
      if (p.aK != 1u) { // A stored [K,M]: m is the contiguous index
        mm = e % BM;
        kk = e / BM;
      }
      let m = m0 + mm;
      let k = k0 + kk;
      var v = 0.0;
      if (m < p.M && k < p.K) {
        v = A[offA + m * p.aRow + k * p.aK];
      }
      As[kk * AS_ROW + mm] = v;
    }
    for (var e = li; e < BN * BK; e += THREADS) {
      var nn = e % BN;
      var kk = e / BN;
      if (p.bK == 1u) { // B stored [N,K]: k is the contiguous index
        nn = e / BK;
        kk = e % BK;
      }
      let n = n0 + nn;
      let k = k0 + kk;
      var v = 0.0;
      if (n < p.N && k < p.K) {
        v = B[offB + k * p.bK + n * p.bCol];
      }
      Bs[kk * BS_ROW + nn] = v;
    }
    workgroupBarrier();

    for (var kk = 0u; kk < BK; kk++) {
      var a: array<f32, TM>;
      var b: array<f32, TN>;
      for (var i = 0u; i < TM; i++) {
        a[i] = As[kk * AS_ROW + lid.y + 16u * i];
      }
      for (var j = 0u; j < TN; j++) {
        b[j] = Bs[kk * BS_ROW + lid.x + 16u * j];
      }
      for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN; j++) {
          acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
      }
    }
    workgroupBarrier();
  }

  var bv: array<f32, TN>;
  if (p.hasBias != 0u) {
    for (var j = 0u; j < TN; j++) {
      bv[j] = bias[min(n0 + lid.x + 16u * j, p.N - 1u)];
    }
  }
  for (var i = 0u; i < TM; i++) {
    let row = m0 + lid.y + 16u * i;
    if (row >= p.M) {
      break;
    }
    for (var j = 0u; j < TN; j++) {
      let col = n0 + lid.x + 16u * j;
      if (col >= p.N) {
        break;
      }
      var v = p.alpha * acc[i][j] + bv[j];
      let idx = offC + row * p.N + col;
      if (p.accumulate != 0u) {
        v += C[idx];
      }
      C[idx] = v;
    }
  }
}
