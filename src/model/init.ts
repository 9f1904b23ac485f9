// Host-side parameter initialisation from the specs, seeded (same seed, same weights).
import { Rng } from '../util/rng';
import type { ParamSpec } from './params';

export function initParams(specs: ParamSpec[], seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const s of specs) {
    const a = new Float32Array(s.numel);
    switch (s.init.kind) {
      case 'normal':
        for (let i = 0; i < a.length; i++) a[i] = s.init.std * rng.normal();
        break;
      case 'ones':
        a.fill(1);
        break;
      case 'constant':
        a.fill(s.init.value);
        break;
      case 'zeros':
        break;
    }
    out.set(s.name, a);
  }
  return out;
}
