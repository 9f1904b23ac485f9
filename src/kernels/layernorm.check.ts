import type { Gpu } from '../gpu/runtime';
import type { Rng } from '../util/rng';
import { compare, dot, poisoned, roundF32, type KernelCheck, type Metric } from './check';
import { fdMetric } from './fd';
import { layerNormBackward, layerNormForward } from './layernorm';
import { layerNormBackwardRef, layerNormRef } from './layernorm.ref';
import { scaledErr, U32 } from './scaled';

// Bounds (float32 kernel vs float64 reference on the same float32 inputs). Rows carry
// offsets up to ±4σ, so μ's error is relative to mean|x|, not to σ, and everything built on
// x − μ inherits it; with C = 2 or 3, y, dx and dw can also cancel to near 0. So y, mean
// and dx are judged element by element against the reference's rounding scales
// (layernorm.ref.ts; max |gpu − ref| / scale, src/kernels/scaled.ts):
// - each is a chain of ≤ C/64 + 6 (tree) + ~6 float32 operations plus μ's and rstd's own
//   (inverseSqrt: a few ulps): ≤ ~30·2⁻²⁴ of the scale at C = 801 even if every rounding
//   went one way; SCALED = 64·2⁻²⁴ ≈ 3.8e-6. A plain relative error failed by chance
//   (dx, C = 3: 5e-5 vs 1e-5; y and dw at C = 2: 1.9e-5); a dropped or wrong term moves an
//   element by O(scale).
// - rstd (‖gpu − ref‖/‖ref‖): a sum of squares (no cancellation) and an inverseSqrt; 1e-5.
// - dw, db: sums over N ≤ 300 rows (≤ 64 per chunk, then the chunks in order) of
//   random-sign terms: relative error ~√N·2⁻²⁴ ≈ 1e-6 typical, ≤ N·2⁻²⁴ ≈ 2e-5 worst case
//   (never approached: that needs every rounding in the same direction); bound 1e-5. The
//   error is measured against the terms' scales, ‖gpu − ref‖ / ‖scale‖ (dwScale = Σ|dy|·s,
//   dbScale = Σ|dy|, as adamw.check does): with few rows Σ dy can cancel to near 0 (N = 9,
//   C = 1 gave a plain relative error of 1.2e-5, seed 319661749).
// - FD checks (float64 reference vs central differences): fdMetric's bound from the
//   differences' own error estimate (a fixed 1e-6 failed at C = 2, σ ≈ 0.003: 2.4e-6).
const BOUND = 1e-5;
const SCALED = 64 * U32;

interface Case {
  N: number;
  C: number;
  /** Write dw/db (false: pass null, frozen LayerNorm). */
  params: boolean;
  /** Lowered dispatch cap, so the rows' grid-stride loop runs with small N. */
  maxGroups?: number;
}

function rowData(rng: Rng, N: number, C: number, spread = 1): Float64Array {
  const x = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    const off = rng.uniform(-4, 4);
    const std = spread * rng.uniform(0.3, 2);
    for (let c = 0; c < C; c++) x[n * C + c] = off + std * rng.normal();
  }
  return roundF32(x);
}

async function runCase(gpu: Gpu, rng: Rng, c: Case): Promise<Metric[]> {
  const { N, C } = c;
  const x = rowData(rng, N, C);
  const w = roundF32(rng.normals(C).map((v) => 1 + 0.5 * v));
  const b = roundF32(rng.normals(C, 0.5));
  const dy = roundF32(rng.normals(N * C));
  const f = layerNormRef(x, w, b, N, C);
  const g = layerNormBackwardRef(dy, x, w, N, C);
  const tag = `N=${N} C=${C}${c.params ? '' : ' frozen'}`;

  const tx = gpu.tensor([N, C], Float32Array.from(x), 'x');
  const tw = gpu.tensor([C], Float32Array.from(w), 'w');
  const tb = gpu.tensor([C], Float32Array.from(b), 'b');
  const tdy = gpu.tensor([N, C], Float32Array.from(dy), 'dy');
  const ty = poisoned(gpu, [N, C], 'y');
  const tmean = poisoned(gpu, [N], 'mean');
  const trstd = poisoned(gpu, [N], 'rstd');
  const tdx = poisoned(gpu, [N, C], 'dx');
  const tdw = c.params ? poisoned(gpu, [C], 'dw') : null;
  const tdb = c.params ? poisoned(gpu, [C], 'db') : null;
  layerNormForward(gpu, tx, tw, tb, ty, tmean, trstd, { N, C, maxGroups: c.maxGroups });
  layerNormBackward(gpu, tdy, tx, tw, tmean, trstd, tdx, tdw, tdb, { N, C, maxGroups: c.maxGroups });
  const out: Metric[] = [
    { what: `y ${tag}`, err: scaledErr(await gpu.read(ty), f.y, f.yScale), bound: SCALED },
    { what: `mean ${tag}`, err: scaledErr(await gpu.read(tmean), f.mean, f.meanScale), bound: SCALED },
    compare(`rstd ${tag}`, await gpu.read(trstd), f.rstd, BOUND),
    { what: `dx ${tag}`, err: scaledErr(await gpu.read(tdx), g.dx, g.dxScale), bound: SCALED },
  ];
  const dwS = g.dwScale, dbS = g.dbScale;
  const colErr = (what: string, got: ArrayLike<number>, want: ArrayLike<number>, scale: ArrayLike<number>): Metric => {
    let num = 0, den = 0;
    for (let j = 0; j < want.length; j++) {
      num += Number.isFinite(got[j]) ? (got[j] - want[j]) ** 2 : Infinity;
      den += scale[j] ** 2;
    }
    // den = 0 only when every term is 0 (dw with C = 1): then the result must be exactly 0.
    return { what, err: den > 0 ? Math.sqrt(num / den) : Math.sqrt(num), bound: BOUND };
  };
  if (tdw && tdb) {
    out.push(colErr(`dw ${tag}`, await gpu.read(tdw), g.dw, dwS));
    out.push(colErr(`db ${tag}`, await gpu.read(tdb), g.db, dbS));
  }

  // Accumulate onto random existing gradients: dx always, dw/db in turn (the model
  // accumulates dx into the residual gradient but writes dw/db).
  const accParams = rng.next() < 0.5;
  const dx0 = roundF32(rng.normals(N * C));
  const dw0 = roundF32(rng.normals(C));
  const db0 = roundF32(rng.normals(C));
  gpu.write(tdx, Float32Array.from(dx0));
  if (tdw && tdb) {
    if (accParams) {
      gpu.write(tdw, Float32Array.from(dw0));
      gpu.write(tdb, Float32Array.from(db0));
    } else {
      gpu.fill(tdw);
      gpu.fill(tdb);
    }
  }
  layerNormBackward(gpu, tdy, tx, tw, tmean, trstd, tdx, tdw, tdb, { N, C, accumulate: true, accumulateParams: accParams, maxGroups: c.maxGroups });
  // Compare the accumulated outputs' increments' sum, i.e. init + ref.
  out.push({ what: `dx += ${tag}`, err: scaledErr(await gpu.read(tdx), g.dx.map((v, i) => v + dx0[i]), g.dxScale.map((v, i) => v + Math.abs(dx0[i]))), bound: SCALED });
  if (tdw && tdb) {
    const sw = accParams ? '+=' : '= (dx +=)';
    out.push(colErr(`dw ${sw} ${tag}`, await gpu.read(tdw), accParams ? g.dw.map((v, i) => v + dw0[i]) : g.dw, accParams ? dwS.map((v, i) => v + Math.abs(dw0[i])) : dwS));
    out.push(colErr(`db ${sw} ${tag}`, await gpu.read(tdb), accParams ? g.db.map((v, i) => v + db0[i]) : g.db, accParams ? dbS.map((v, i) => v + Math.abs(db0[i])) : dbS));
  }
  gpu.release(tx, tw, tb, tdy, ty, tmean, trstd, tdx, tdw, tdb);
  return out;
}

export const checks: KernelCheck[] = [
  {
    kernel: 'layernorm',
    name: 'forward + backward (dx, dw, db; write and accumulate) vs reference, random shapes',
    gpu: true,
    async run(gpu, rng) {
      const cases: Case[] = [
        // C = 1: σ² = 0, so n̂ = 0, y = b, dx = 0, dw = 0, db = Σ dy.
        { N: 1, C: 1, params: true },
        { N: rng.int(2, 9), C: 1, params: true },
        // C = 2: n̂ = ±δ/√(δ² + eps) is flat, dx ~ eps/δ³ is almost pure cancellation,
        // judged against its terms' rounding scale; C = 3 cancels often too.
        { N: 1, C: 2, params: true },
        { N: rng.int(2, 5), C: 3, params: true },
        { N: 1, C: rng.int(3, 9), params: true },
        { N: rng.int(2, 20), C: 7, params: true },
        { N: rng.int(20, 70), C: 33, params: false },
        // Several 64-row chunks for dw/db, N not a multiple of 64.
        { N: rng.int(130, 300), C: 130, params: true },
        // C > 64 and odd: each thread strides over several columns.
        { N: rng.int(3, 10), C: rng.int(150, 400) * 2 + 1, params: true },
        // Fewer workgroups than rows (as for N > 65535): the rows' grid-stride loop.
        { N: rng.int(40, 90), C: rng.int(3, 70), params: true, maxGroups: rng.int(3, 17) },
      ];
      const out: Metric[] = [];
      for (const c of cases) out.push(...(await runCase(gpu!, rng, c)));
      return out;
    },
  },
  {
    kernel: 'layernorm',
    name: 'reference backward vs finite differences',
    gpu: false,
    async run(_gpu, rng) {
      const out: Metric[] = [];
      // C = 2 with a spread near √eps: there the eps term shapes the gradient (for a wide
      // spread its dx ~ eps/δ³ is too small for central differences to resolve).
      for (const [N, C, spread] of [[3, 7, 1], [2, 1, 1], [1, 2, 3e-3], [1, rng.int(3, 12), 1], [rng.int(2, 5), rng.int(13, 40), 1]]) {
        const x = rowData(rng, N, C, spread);
        const w = rng.normals(C).map((v) => 1 + 0.5 * v);
        const b = rng.normals(C);
        const r = rng.normals(N * C);
        const g = layerNormBackwardRef(r, x, w, N, C);
        const tag = `N=${N} C=${C}${spread !== 1 ? ` σ≈${spread}` : ''}`;
        // Step relative to the rows' spread: LayerNorm's curvature in x scales like 1/σ. A
        // narrow row offset by up to 4 loses ~3 digits in x − μ, so f's rounding noise
        // (~1e-13) over a step of 1e-5·σ would rival the truncation error that fdMetric's
        // bound estimates; a step of 1e-3·σ keeps truncation ahead of rounding.
        const hx = (spread < 1 ? 1e-3 : 1e-5) * spread;
        out.push(fdMetric(`dx ${tag}`, (xx) => dot(layerNormRef(xx, w, b, N, C).y, r), x, g.dx, rng, 24, hx));
        out.push(fdMetric(`dw ${tag}`, (ww) => dot(layerNormRef(x, ww, b, N, C).y, r), w, g.dw, rng));
        out.push(fdMetric(`db ${tag}`, (bb) => dot(layerNormRef(x, w, bb, N, C).y, r), b, g.db, rng));
      }
      return out;
    },
  },
];
