// Native single-precision matmul on this machine's CPU, for the matmul benchmark's "share
// of native BLAS" column: scripts/native_sgemm.c, compiled here with the system C compiler
// (-O3 -march=native) and linked against OpenBLAS when Debian's libopenblas-dev is
// installed (`apt-get install -y libopenblas-dev`), else a plain C loop nest. Each call
// runs the binary once (its own warm-up and best-of-reps timing), so it can alternate with
// the WebGPU measurements round by round.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE = join(root, 'scripts/native_sgemm.c');
const OUT_DIR = join(root, 'bench-results/native');
const CBLAS_HEADERS = ['/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/cblas.h', '/usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h'];

export interface NativeBlas {
  /** 'OpenBLAS (cblas_sgemm)' or 'plain C -O3 -march=native'. */
  kind: string;
  /** Best ms of one n×n×n product op(A)·op(B) over `reps`. */
  time(n: number, reps: number, transA: boolean, transB: boolean): number;
}

/** Builds the timer (once per source change); null with a reason when no C compiler works. */
export function nativeBlas(): NativeBlas | { unavailable: string } {
  mkdirSync(OUT_DIR, { recursive: true });
  const header = CBLAS_HEADERS.find((h) => existsSync(h));
  const bin = join(OUT_DIR, header ? 'native_sgemm_openblas' : 'native_sgemm_plain');
  const stale = !existsSync(bin) || statSync(bin).mtimeMs < statSync(SOURCE).mtimeMs;
  if (stale) {
    const args = ['-O3', '-march=native', '-o', bin, SOURCE];
    if (header) args.push('-DUSE_CBLAS', `-I${dirname(header)}`, '-lopenblas');
    try {
      execFileSync('cc', args, { stdio: 'pipe' });
    } catch (e) {
      return { unavailable: `cc ${args.join(' ')} failed: ${(e as Error).message.split('\n')[0]}` };
    }
  }
  // The benchmark's own environment for the native run only: OpenBLAS picks its kernel and
  // cache sizes for this CPU itself (an inherited OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE would
  // pin it to another's) and uses every core, as the WebGPU adapter's threads do.
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return {
    kind: header ? 'OpenBLAS (cblas_sgemm, Debian libopenblas0-pthread)' : 'plain C loop nest, cc -O3 -march=native (no OpenBLAS installed)',
    time(n, reps, transA, transB) {
      const out = execFileSync(bin, [String(n), String(reps), transA ? '1' : '0', transB ? '1' : '0'], { env, encoding: 'utf8' });
      const ms = Number(out.trim().split(/\s+/)[0]);
      if (!(ms > 0)) throw new Error(`native_sgemm printed ${JSON.stringify(out)}`);
      return ms;
    },
  };
}
