// Every CPU-only kernel check (a float64 reference against finite differences of its
// forward, identities) at a fixed seed, without a GPU: these run in kernels.test.ts only
// when a device opens, and they catch a backward reference that disagrees with its forward.
import { describe, expect, it } from 'vitest';
import { formatOutcome, runCheck } from './check';
import { allChecks } from './registry';

describe('CPU-only kernel checks at a fixed seed', () => {
  const cpu = allChecks.filter((c) => !c.gpu);
  it.each(cpu.map((c) => [`${c.kernel}: ${c.name}`, c] as const))('%s', async (_, c) => {
    const o = await runCheck(c, null, 1);
    expect(o.pass, formatOutcome(o)).toBe(true);
  });
});

