// Matrix multiply, the hot path of training: one wrapper over two shaders with the same
// parameters and results.
//
//   C[b] = alpha · op(A[b]) · op(B[b])  (+ bias, added to every row)  (+ C[b] if accumulate)
//
// per batch entry b, with op(A) [M,K] (A stored [K,M] when transA), op(B) [K,N] (B stored
// [N,K] when transB), C [M,N]; all row-major float32. Entry b of X starts at b·strideX
// elements; a stride of 0 shares one operand across the batch (one weight matrix for
// every batch entry). `bias` (length N) is not scaled by alpha.
//
// Paths: 'direct' (shaders/matmul.wgsl, operands read straight from storage with 8x8
// register blocks) is several times faster on software adapters (lavapipe, SwiftShader);
// 'tiled' (shaders/matmul_tiled.wgsl, 64x64 tiles through workgroup memory) is the usual
// GPU kernel. 'auto' picks 'direct' on fallback adapters, 'tiled' elsewhere.
import { shapeCheck } from '../gpu/errors';
import { params } from '../gpu/params';
import { cdiv, type Gpu, type Tensor } from '../gpu/runtime';

export type MatmulPath = 'auto' | 'direct' | 'tiled';

/** The shape part of a matmul, shared with the float64 reference (matmul.ref.ts). */
export interface MatmulShape {
  M: number;
  N: number;
  K: number;
  /** A is stored [K, M] (default false: [M, K]). */
  transA?: boolean;
  /** B is stored [N, K] (default false: [K, N]). */
  transB?: boolean;
  /** Batch entries (default 1), the z dimension of the dispatch (≤ 65535). */
  batch?: number;
  /** Elements between consecutive batch entries; defaults M·K, K·N, M·N; 0 shares A or B. */
  strideA?: number;
  strideB?: number;
  strideC?: number;
  /** C += result instead of C = result (gradient accumulation). */
  accumulate?: boolean;
  /** Scale of op(A)·op(B) (default 1; the bias is not scaled). */
  alpha?: number;
}

export interface MatmulOptions extends MatmulShape {
  /** Length-N vector added to every row of every batch entry. */
  bias?: Tensor;
  /** Kernel choice (default 'auto'); checks force each path. */
  path?: MatmulPath;
}

/** Batch count and strides with defaults filled in. */
export function matmulLayout(o: MatmulShape) {
  const batch = o.batch ?? 1;
  return {
    batch,
    strideA: o.strideA ?? o.M * o.K,
    strideB: o.strideB ?? o.K * o.N,
    strideC: o.strideC ?? o.M * o.N,
  };
}

const isCount = (v: number, min: number) => Number.isInteger(v) && v >= min;
const MAX_GROUPS = 65535;
const TILE = 64; // both shaders cover a 64x64 tile of C per workgroup

export function matmul(gpu: Gpu, a: Tensor, b: Tensor, c: Tensor, o: MatmulOptions) {
  const { M, N, K } = o;
  const name = 'matmul';
  shapeCheck(isCount(M, 1) && isCount(N, 1) && isCount(K, 1), name, `M, N, K must be integers ≥ 1 (got M=${M}, N=${N}, K=${K})`);
  const { batch, strideA, strideB, strideC } = matmulLayout(o);
  shapeCheck(isCount(batch, 1) && batch <= MAX_GROUPS, name, `batch must be an integer in [1, ${MAX_GROUPS}] (got ${batch})`);
  shapeCheck(isCount(strideA, 0) && isCount(strideB, 0) && isCount(strideC, 0), name, `strides must be integers ≥ 0 (got ${strideA}, ${strideB}, ${strideC})`);
  // Overlapping outputs would make the result depend on workgroup order.
  shapeCheck(batch === 1 || strideC >= M * N, name, `strideC ${strideC} < M·N = ${M * N}: batch entries of C would overlap`);
  const need = (stride: number, size: number) => (batch - 1) * stride + size;
  const sa = o.transA ? `[${K},${M}]` : `[${M},${K}]`;
  const sb = o.transB ? `[${N},${K}]` : `[${K},${N}]`;
  shapeCheck(a.numel >= need(strideA, M * K), name, `A (${a.label}) has ${a.numel} elements; ${batch} x ${sa} at stride ${strideA} needs ${need(strideA, M * K)}`);
  shapeCheck(b.numel >= need(strideB, K * N), name, `B (${b.label}) has ${b.numel} elements; ${batch} x ${sb} at stride ${strideB} needs ${need(strideB, K * N)}`);
  shapeCheck(c.numel >= need(strideC, M * N), name, `C (${c.label}) has ${c.numel} elements; ${batch} x [${M},${N}] at stride ${strideC} needs ${need(strideC, M * N)}`);
  shapeCheck(c !== a && c !== b && c.buffer !== a.buffer && c.buffer !== b.buffer, name, 'C must not be A or B (it is written while they are read)');
  if (o.bias) {
    shapeCheck(o.bias.numel >= N, name, `bias (${o.bias.label}) has ${o.bias.numel} elements, needs N = ${N}`);
    shapeCheck(o.bias.buffer !== c.buffer, name, 'bias must not be C');
  }
  shapeCheck(cdiv(N, TILE) <= MAX_GROUPS && cdiv(M, TILE) <= MAX_GROUPS, name, `M=${M}, N=${N} need more than ${MAX_GROUPS} tiles of ${TILE} per dimension`);

  const path = o.path ?? 'auto';
  const direct = path === 'direct' || (path === 'auto' && gpu.report.isFallbackAdapter);
  if (direct && o.transB && M >= TRANSPOSE_B_MIN_M && cdiv(N, 8) <= MAX_GROUPS && cdiv(K, 8) <= MAX_GROUPS) {
    // On software adapters A·Bᵀ reads 64 rows of B along k at once, which thrash L1 when
    // rows are a multiple of 4 KiB apart (2x slower than A·B at n = 512): transposing B
    // first (N·K work against the product's M·N·K) is faster for all but small M. The
    // copy's buffer goes back to the pool at once: later users are queue-ordered after us.
    const copies = strideB === 0 ? 1 : batch;
    const bt = gpu.tensor([copies * K * N], undefined, 'matmul.Bt');
    const t = gpu.kernel({ shader: 'matmul_transpose', bindings: ['uniform', 'read', 'rw'] });
    gpu.dispatch(t, [b, bt], [cdiv(N, 8), cdiv(K, 8), copies], params().u32(N).u32(K).u32(strideB));
    record(gpu, true, a, bt, c, { ...o, transB: false, strideA, strideB: strideB === 0 ? 0 : K * N, strideC, batch });
    gpu.release(bt);
  } else {
    record(gpu, direct, a, b, c, { ...o, strideA, strideB, strideC, batch });
  }
}

/**
 * A·Bᵀ with at least this many rows of A is computed on the direct path as A·(Bᵀ copied
 * transposed). Exported so that checks can cover both routes.
 */
export const TRANSPOSE_B_MIN_M = 64;

type Resolved = MatmulOptions & { batch: number; strideA: number; strideB: number; strideC: number };

/** Records the product itself (shapes already validated). */
function record(gpu: Gpu, direct: boolean, a: Tensor, b: Tensor, c: Tensor, o: Resolved) {
  const { M, N, K, batch, strideA, strideB, strideC } = o;
  // Transposes and bias are uniforms (one pipeline each); the direct path's only variants
  // are its vec4 reads, which need every vec4 to start at a multiple of 4 elements.
  const defines: Record<string, boolean> = direct
    ? {
        VEC_A: !!o.transA && M % 4 === 0 && (batch === 1 || strideA % 4 === 0),
        VEC_B: !o.transB && N % 4 === 0 && (batch === 1 || strideB % 4 === 0),
      }
    : {};
  const k = gpu.kernel({ shader: direct ? 'matmul' : 'matmul_tiled', defines, bindings: ['uniform', 'read', 'read', 'read', 'rw'] });
  const p = params()
    .u32(M)
    .u32(N)
    .u32(K)
    .u32(batch === 1 ? 0 : strideA)
    .u32(batch === 1 ? 0 : strideB)
    .u32(batch === 1 ? 0 : strideC)
    .f32(o.alpha ?? 1)
    .u32(o.accumulate ? 1 : 0)
    .u32(o.bias ? 1 : 0)
    // op(A)[i,k] = A[i·aRow + k·aK], op(B)[k,j] = B[k·bK + j·bCol]
    .u32(o.transA ? 1 : K)
    .u32(o.transA ? M : 1)
    .u32(o.transB ? 1 : N)
    .u32(o.transB ? K : 1);
  // Without a bias, A stands in for the binding (two read-only uses of one buffer are valid).
  gpu.dispatch(k, [a, b, o.bias ?? a, c], [cdiv(N, TILE), cdiv(M, TILE), batch], p);
}

/** Floating-point operations of one call (2·M·N·K per batch entry), for benchmarks. */
export function matmulFlops(o: MatmulShape): number {
  return 2 * o.M * o.N * o.K * (o.batch ?? 1);
}
