// Native single-precision matmul timer for the matmul benchmark (src/bench/native_blas.ts):
//   native_sgemm n reps transA transB  ->  prints "<best ms per product> <max |C|>"
// C = op(A)·op(B), n×n×n, row-major float32, inputs uniform in [-0.5, 0.5).
// Built with -DUSE_CBLAS and linked against OpenBLAS (Debian's libopenblas-dev) when it is
// installed: the reference for what these cores do. Without it, a plain C loop nest
// (register-friendly i-k-j order, compiled -O3 -march=native) stands in, and the benchmark
// says which one ran.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef USE_CBLAS
#include <cblas.h>
#endif

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

#ifndef USE_CBLAS
// op(X)[r, c] of an n×n row-major X.
static inline float at(const float *x, int n, int r, int c, int trans) { return trans ? x[c * n + r] : x[r * n + c]; }

static void plain_sgemm(int n, const float *a, const float *b, float *c, int ta, int tb) {
  // Contiguous copies make every variant the same i-k-j loop (vectorised over j by the compiler).
  float *ac = malloc(sizeof(float) * n * n), *bc = malloc(sizeof(float) * n * n);
  for (int r = 0; r < n; r++)
    for (int k = 0; k < n; k++) {
      ac[r * n + k] = at(a, n, r, k, ta);
      bc[r * n + k] = at(b, n, r, k, tb);
    }
  memset(c, 0, sizeof(float) * n * n);
  const int KB = 256;
  for (int k0 = 0; k0 < n; k0 += KB)
    for (int i = 0; i < n; i++) {
      float *ci = c + i * n;
      int k1 = k0 + KB < n ? k0 + KB : n;
      for (int k = k0; k < k1; k++) {
        float aik = ac[i * n + k];
        const float *bk = bc + k * n;
        for (int j = 0; j < n; j++) ci[j] += aik * bk[j];
      }
    }
  free(ac);
  free(bc);
}
#endif

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: native_sgemm n reps transA transB\n");
    return 2;
  }
  int n = atoi(argv[1]), reps = atoi(argv[2]), ta = atoi(argv[3]), tb = atoi(argv[4]);
  float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
  srand(1234);
  for (long i = 0; i < (long)n * n; i++) {
    a[i] = rand() / (float)RAND_MAX - 0.5f;
    b[i] = rand() / (float)RAND_MAX - 0.5f;
  }
  double best = 1e300;
  for (int r = 0; r <= reps; r++) { // r = 0 is a warm-up
    double t0 = now_ms();
#ifdef USE_CBLAS
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
#else
    plain_sgemm(n, a, b, c, ta, tb);
#endif
    double ms = now_ms() - t0;
    if (r > 0 && ms < best) best = ms;
  }
  float mx = 0;
  for (long i = 0; i < (long)n * n; i++) mx = c[i] > mx ? c[i] : (-c[i] > mx ? -c[i] : mx);
  printf("%.6f %.6g\n", best, mx);
  free(a);
  free(b);
  free(c);
  return 0;
}
