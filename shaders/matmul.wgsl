// C = alpha·op(A)·op(B) (+ bias) (+ C if accumulate), batched over z.
// Register-blocked, operands read straight from storage (no workgroup memory): the path
// for software adapters (lavapipe, SwiftShader). Their compilers emulate every non-uniform
// storage or workgroup load with a per-invocation scalar loop, while FMAs are 8-wide
// vector ops; so what counts is loads per FMA (an 8x8 block per thread: 16 loads per 64
// FMAs per k), and a workgroup-memory copy plus barriers (coroutine switches there) only
// adds work. Real GPUs use shaders/matmul_tiled.wgsl. Options: src/kernels/matmul.ts.
//
// The block is written out (16 named vec4 accumulators) rather than looped over arrays:
// SwiftShader's Subzero backend neither unrolls loops nor keeps indexed arrays in
// registers (6x slower). Transposes and the bias are uniforms, not defines: each pipeline
// variant costs ~1 s of LLVM time on lavapipe. The only defines are VEC_A / VEC_B: the
// operand is read as vec4 along its contiguous output dimension (A stored [K,M] with
// M % 4 == 0, resp. B stored [K,N] with N % 4 == 0; batch strides multiples of 4).
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
#if VEC_A
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
#else
@group(0) @binding(1) var<storage, read> A: array<f32>;
#endif
#if VEC_B
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
#else
@group(0) @binding(2) var<storage, read> B: array<f32>;
#endif
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;

// op(A)[r .. r+3, k] (rows r = row0 + 4·q). Indices are clamped to the last row so the k
// loop has no branches: out-of-range rows compute duplicates that the store drops.
fn loadA4(offA: u32, r: u32, k: u32) -> vec4<f32> {
#if VEC_A
  // A is [K, M] with M % 4 == 0 and r % 4 == 0: the four rows are one aligned vec4.
  return A[(offA + k * p.M) / 4u + min(r / 4u, p.M / 4u - 1u)];
#else
  let base = offA + k * p.aK;
  let last = p.M - 1u;
  return vec4(
    A[base + min(r, last) * p.aRow],
    A[base + min(r + 1u, last) * p.aRow],
    A[base + min(r + 2u, last) * p.aRow],
    A[base + min(r + 3u, last) * p.aRow],
  );
#endif
}

// op(B)[k, c .. c+3], clamped like the rows.
fn loadB4(offB: u32, c: u32, k: u32) -> vec4<f32> {
#if VEC_B
  return B[(offB + k * p.N) / 4u + min(c / 4u, p.N / 4u - 1u)];
#else
  let base = offB + k * p.bK;
  let last = p.N - 1u;
  return vec4(
    B[base + min(c, last) * p.bCol],
    B[base + min(c + 1u, last) * p.bCol],
    B[base + min(c + 2u, last) * p.bCol],
    B[base + min(c + 3u, last) * p.bCol],
  );
#endif
}

fn bias4(c: u32) -> vec4<f32> {
  if (p.hasBias == 0u) {
    return vec4(0.0);
  }
  let last = p.N - 1u;
  return vec4(bias[min(c, last)], bias[min(c + 1u, last)], bias[min(c + 2u, last)], bias[min(c + 3u, last)]);
}

fn put(idx: u32, v: f32) {
  if (p.accumulate != 0u) {
    C[idx] += v;
  } else {
    C[idx] = v;
  }
}

// C[row, c .. c+3] (+)= v, the columns that exist.
fn store4(offC: u32, row: u32, c: u32, v: vec4<f32>) {
  if (row >= p.M) {
    return;
  }
  let idx = offC + row * p.N + c;
  if (c < p.N) {
    put(idx, v.x);
  }
  if (c + 1u < p.N) {
    put(idx + 1u, v.y);
  }
  if (c + 2u < p.N) {
    put(idx + 2u, v.z);
  }
  if (c + 3u < p.N) {
    put(idx + 3u, v.w);
  }
}

// Each thread owns an 8x8 block of C (rows row0 .. row0+7, columns col0 .. col0+7); a
// workgroup of 8x8 threads a 64x64 tile. cIJ holds row I, columns 4·J .. 4·J+3.
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * 8u;
  let col0 = gid.x * 8u;
  let offA = gid.z * p.strideA;
  let offB = gid.z * p.strideB;
  let offC = gid.z * p.strideC;

  var c00 = vec4(0.0); var c01 = vec4(0.0);
  var c10 = vec4(0.0); var c11 = vec4(0.0);
  var c20 = vec4(0.0); var c21 = vec4(0.0);
  var c30 = vec4(0.0); var c31 = vec4(0.0);
  var c40 = vec4(0.0); var c41 = vec4(0.0);
  var c50 = vec4(0.0); var c51 = vec4(0.0);
  var c60 = vec4(0.0); var c61 = vec4(0.0);
  var c70 = vec4(0.0); var c71 = vec4(0.0);
  for (var k = 0u; k < p.K; k++) {
    // The B fragment stays in registers; A is read four rows at a time just before its
    // FMAs (fewer live values next to the 64 accumulators).
    let b0 = loadB4(offB, col0, k);
    let b1 = loadB4(offB, col0 + 4u, k);
    var a = loadA4(offA, row0, k);
    c00 = fma(vec4(a.x), b0, c00); c01 = fma(vec4(a.x), b1, c01);
    c10 = fma(vec4(a.y), b0, c10); c11 = fma(vec4(a.y), b1, c11);
    c20 = fma(vec4(a.z), b0, c20); c21 = fma(vec4(a.z), b1, c21);
    c30 = fma(vec4(a.w), b0, c30); c31 = fma(vec4(a.w), b1, c31);
    a = loadA4(offA, row0 + 4u, k);
    c40 = fma(vec4(a.x), b0, c40); c41 = fma(vec4(a.x), b1, c41);
    c50 = fma(vec4(a.y), b0, c50); c51 = fma(vec4(a.y), b1, c51);
    c60 = fma(vec4(a.z), b0, c60); c61 = fma(vec4(a.z), b1, c61);
    c70 = fma(vec4(a.w), b0, c70); c71 = fma(vec4(a.w), b1, c71);
  }

  // Epilogue: alpha·acc + bias (+ C). The bias is read once per column, not per element.
  let s = p.alpha;
  let d0 = bias4(col0);
  let d1 = bias4(col0 + 4u);
  let c1 = col0 + 4u;
  store4(offC, row0, col0, s * c00 + d0);      store4(offC, row0, c1, s * c01 + d1);
  store4(offC, row0 + 1u, col0, s * c10 + d0); store4(offC, row0 + 1u, c1, s * c11 + d1);
  store4(offC, row0 + 2u, col0, s * c20 + d0); store4(offC, row0 + 2u, c1, s * c21 + d1);
  store4(offC, row0 + 3u, col0, s * c30 + d0); store4(offC, row0 + 3u, c1, s * c31 + d1);
  store4(offC, row0 + 4u, col0, s * c40 + d0); store4(offC, row0 + 4u, c1, s * c41 + d1);
  store4(offC, row0 + 5u, col0, s * c50 + d0); store4(offC, row0 + 5u, c1, s * c51 + d1);
  store4(offC, row0 + 6u, col0, s * c60 + d0); store4(offC, row0 + 6u, c1, s * c61 + d1);
  store4(offC, row0 + 7u, col0, s * c70 + d0); store4(offC, row0 + 7u, c1, s * c71 + d1);
}
