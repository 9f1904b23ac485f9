// C = alpha·op(A)·op(B) (+ bias) (+ C if accumulate), batched over z.
// Register-blocked, operands read straight from storage (no workgroup memory): the path
// for software adapters (lavapipe, SwiftShader). Their compilers emulate every non-uniform
// storage or workgroup load with a per-invocation scalar loop, while FMAs are 8-wide
// vector ops; so what counts is loads per FMA (an 8x8 block per thread: 16 loads per 64
// FMAs per k), and a workgroup-memory copy plus barriers (coroutine switches there) only
// adds work. Real GPUs use shaders/matmul_tiled.wgsl. Options: src/kernels/matmul.ts.
//
// Transposes and the bias are uniforms, not defines: each pipeline variant of this
// unrolled kernel costs ~1 s of LLVM time on lavapipe. The only defines are VEC_A / VEC_B:
// the operand is read as vec4 along its contiguous output dimension (A stored [K,M] with
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

// Each thread owns a TM x TN block of C; a workgroup of 8x8 threads a 64x64 tile.
const TM = 8u;
const TN = 8u;

// Rows 4·q .. 4·q+3 of this thread's block of op(A), at depth k. Row indices are clamped
// to M-1 so the k loop has no branches: out-of-range rows compute duplicates that the
// store drops.
fn loadA4(offA: u32, row0: u32, k: u32, q: u32) -> vec4<f32> {
#if VEC_A
  // A is [K, M] with M % 4 == 0: the four rows are one aligned vec4.
  return A[(offA + k * p.M) / 4u + min(row0 / 4u + q, p.M / 4u - 1u)];
#else
  var v: vec4<f32>;
  for (var r = 0u; r < 4u; r++) {
    let row = min(row0 + 4u * q + r, p.M - 1u);
    v[r] = A[offA + row * p.aRow + k * p.aK];
  }
  return v;
#endif
}

// Columns 4·q .. 4·q+3 of this thread's block of op(B), at depth k (clamped like rows).
fn loadB4(offB: u32, col0: u32, k: u32, q: u32) -> vec4<f32> {
#if VEC_B
  return B[(offB + k * p.N) / 4u + min(col0 / 4u + q, p.N / 4u - 1u)];
#else
  var v: vec4<f32>;
  for (var c = 0u; c < 4u; c++) {
    let col = min(col0 + 4u * q + c, p.N - 1u);
    v[c] = B[offB + k * p.bK + col * p.bCol];
  }
  return v;
#endif
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * TM;
  let col0 = gid.x * TN;
  let offA = gid.z * p.strideA;
  let offB = gid.z * p.strideB;
  let offC = gid.z * p.strideC;

  var acc: array<array<f32, TN>, TM>;
  for (var k = 0u; k < p.K; k++) {
    // The B fragment stays in registers; A is loaded four rows at a time just before its
    // FMAs (keeps fewer values live: the block already holds 64 accumulators).
    var b: array<vec4<f32>, TN / 4u>;
    for (var q = 0u; q < TN / 4u; q++) {
      b[q] = loadB4(offB, col0, k, q);
    }
    for (var qa = 0u; qa < TM / 4u; qa++) {
      let a = loadA4(offA, row0, k, qa);
      for (var r = 0u; r < 4u; r++) {
        for (var j = 0u; j < TN; j++) {
          acc[4u * qa + r][j] = fma(a[r], b[j / 4u][j % 4u], acc[4u * qa + r][j]);
        }
      }
    }
  }

  // The epilogue is unrolled like everything else, so each memory access in it is
  // compiled TM·TN times: the bias is read once per column.
  var bv: array<f32, TN>;
  if (p.hasBias != 0u) {
    for (var j = 0u; j < TN; j++) {
      bv[j] = bias[min(col0 + j, p.N - 1u)];
    }
  }
  for (var i = 0u; i < TM; i++) {
    let row = row0 + i;
    if (row >= p.M) {
      break;
    }
    for (var j = 0u; j < TN; j++) {
      let col = col0 + j;
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
