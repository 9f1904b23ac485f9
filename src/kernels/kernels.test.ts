// Runs every registered kernel check on Dawn (Node). The same checks run in Chromium via
// the /checks.html page and e2e/kernels.spec.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeGpu } from '../gpu/node';
import type { Gpu } from '../gpu/runtime';
import { freshSeed } from '../util/rng';
import { formatOutcome, runCheck } from './check';
import { allChecks } from './registry';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await createNodeGpu();
});
afterAll(() => gpu?.destroy());

const only = typeof process !== 'undefined' ? process.env.KERNEL : undefined;

describe.each([...new Set(allChecks.map((c) => c.kernel))].filter((k) => !only || k === only))('kernel %s', (kernel) => {
  for (const c of allChecks.filter((x) => x.kernel === kernel)) {
    it(c.name, async () => {
      const o = await runCheck(c, c.gpu ? gpu : null, freshSeed());
      console.log(formatOutcome(o));
      expect(o.error, formatOutcome(o)).toBeUndefined();
      expect(o.pass, formatOutcome(o)).toBe(true);
    });
  }
});
