// float64 reference for matmul (see matmul.ts for the layout and options):
//   C[b] = alpha · op(A[b]) · op(B[b]) (+ bias) (+ C[b] if accumulate)
import { matmulLayout, type MatmulShape } from './matmul';

export interface MatmulRefOptions extends MatmulShape {
  bias?: ArrayLike<number>;
  /** C's contents before the call: kept outside the written entries, added with accumulate. */
  c?: ArrayLike<number>;
}

export function matmulRef(a: ArrayLike<number>, b: ArrayLike<number>, o: MatmulRefOptions): Float64Array {
  const { M, N, K } = o;
  const { batch, strideA, strideB, strideC } = matmulLayout(o);
  const alpha = o.alpha ?? 1;
  const out = new Float64Array(o.c ? o.c.length : (batch - 1) * strideC + M * N);
  if (o.c) out.set(o.c);
  // Element (i, k) of op(A) and (k, j) of op(B) inside batch entry z.
  const A = (z: number, i: number, k: number) => a[z * strideA + (o.transA ? k * M + i : i * K + k)];
  const B = (z: number, k: number, j: number) => b[z * strideB + (o.transB ? j * K + k : k * N + j)];
  for (let z = 0; z < batch; z++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += A(z, i, k) * B(z, k, j);
        let v = alpha * s + (o.bias ? o.bias[j] : 0);
        const idx = z * strideC + i * N + j;
        if (o.accumulate) v += out[idx];
        out[idx] = v;
      }
    }
  }
  return out;
}
