// The GELU rounding scales (gelu.ref.ts) against a float32 emulation of the shaders' steps
// (Math.fround after every operation): a correct float32 computation stays within a few
// 2⁻²⁴ of each scale, tails included; a wrong constant does not; the floor is needed only
// where float32 underflows.
import { describe, expect, it } from 'vitest';
import { Rng } from '../util/rng';
import { flooredScaledErr } from './gelu.check';
import { F32_MIN_NORMAL, geluBackwardRef, geluBackwardRounding, geluRef, geluRounding } from './gelu.ref';
import { U32 } from './scaled';

const f = Math.fround;

/** shaders/gelu_forward.wgsl and gelu_backward.wgsl, step by step in float32. */
function gelu32(x: ArrayLike<number>, dy: ArrayLike<number>, a = 0.044715) {
  const C = f(0.7978845608028654);
  const y = new Float64Array(x.length);
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const u = f(C * f(v + f(f(f(f(a) * v) * v) * v)));
    const s = f(1 / f(1 + f(Math.exp(f(-2 * u)))));
    y[i] = f(v * s);
    const du = f(C * f(1 + f(f(f(f(3 * f(0.044715)) * v)) * v)));
    const g = f(s + f(f(f(f(2 * v) * s) * f(1 - s)) * du));
    dx[i] = f(dy[i] * g);
  }
  return { y, dx };
}

function inputs() {
  const rng = new Rng(12345);
  const x = Float64Array.from([...Array.from({ length: 4001 }, (_, i) => -20 + i / 100), -10.06, -10.03, 100, 1000, ...rng.normals(2000, 3)], f);
  return { x, dy: Float64Array.from(rng.normals(x.length), f) };
}

describe('gelu rounding scales', () => {
  it('a float32 computation of the shaders is within 8·2⁻²⁴ of the scales, x in [−20, 20] and beyond', () => {
    const { x, dy } = inputs();
    const g = gelu32(x, dy);
    const dxRound = geluBackwardRounding(x, dy);
    expect(flooredScaledErr(g.y, geluRef(x), geluRounding(x))).toBeLessThan(8 * U32);
    expect(flooredScaledErr(g.dx, geluBackwardRef(x, dy), dxRound)).toBeLessThan(8 * U32);
    const twice = Float64Array.from(g.dx, (v) => f(v + v));
    expect(flooredScaledErr(twice, geluBackwardRef(x, dy).map((v) => 2 * v), geluBackwardRounding(x, dy, dxRound))).toBeLessThan(8 * U32);
  });

  it('the floor matters only where e^{−2u} overflows (x < −10.06), and stays below 1e-33 for |x| ≤ 20', () => {
    const { x, dy } = inputs();
    const g = gelu32(x, dy);
    const noFloor = (r: { scale: Float64Array; floor: Float64Array }) => ({ scale: r.scale, floor: r.floor.map(() => 0) });
    const left = x.map((v) => (v < -10.06 ? 1 : 0));
    // Without it the float32 y = −0 fails by far; above the threshold it changes nothing.
    expect(flooredScaledErr(g.y, geluRef(x), noFloor(geluRounding(x)))).toBeGreaterThan(1e3 * 64 * U32);
    const right = Float64Array.from(x.filter((v, i) => !left[i]));
    const gr = gelu32(right, right.map(() => 1));
    expect(flooredScaledErr(gr.y, geluRef(right), noFloor(geluRounding(right)))).toBeLessThan(8 * U32);
    const mid = (v: number) => Math.abs(v) <= 20;
    for (const fl of [geluRounding(x).floor, geluBackwardRounding(x, dy).floor]) {
      expect(Math.max(...fl.filter((_, i) => mid(x[i])))).toBeLessThan(1e-33);
      expect(Math.min(...fl)).toBeGreaterThanOrEqual(0);
    }
    expect(geluRounding([0]).floor[0]).toBe(2 * F32_MIN_NORMAL);
  });

  it('a constant off by 1e-4 (0.04472 for 0.044715) is far outside 64·2⁻²⁴', () => {
    const { x, dy } = inputs();
    expect(flooredScaledErr(gelu32(x, dy, 0.04472).y, geluRef(x), geluRounding(x))).toBeGreaterThan(10 * 64 * U32);
  });

  it('hand-worked scales: x = 0 has none; large x has y = x exactly, with y\'s scale |x|', () => {
    expect(Array.from(geluRounding([0]).scale)).toEqual([0]);
    expect(geluRounding([1000]).scale[0]).toBe(1000);
    // x = 1: u = C(1 + a), s = σ(2u), sScale = s(1 + 2u(1 − s)).
    const u = Math.sqrt(2 / Math.PI) * 1.044715;
    const s = 1 / (1 + Math.exp(-2 * u));
    expect(geluRounding([1]).scale[0]).toBeCloseTo(s * (1 + 2 * u * (1 - s)), 14);
    // dx at x = 1, dy = −2: 2·(sScale + 2·u'·(sScale(1 − s) + s(sScale + 1 − s))).
    const sS = s * (1 + 2 * u * (1 - s));
    const du = Math.sqrt(2 / Math.PI) * (1 + 3 * 0.044715);
    expect(geluBackwardRounding([1], [-2]).scale[0]).toBeCloseTo(2 * (sS + 2 * du * (sS * (1 - s) + s * (sS + 1 - s))), 13);
  });
});
