// Runs one kernel's checks (src/kernels/<kernel>.check.ts) over N fresh seeds on one Dawn
// device and counts failures: the false-alarm rate of the bounds (a correct kernel should
// give 0). Failing seeds are printed so that `SEED=<n> KERNEL=<kernel> npx vitest run
// src/kernels/kernels.test.ts` replays them.
//
//   npx tsx scripts/seed-sweep.ts <kernel> [N=20] [--cpu-only] [--check <substring>]
//   PREFIX_LAB_DRIVER=swiftshader|lavapipe picks the driver, as for the tests.
//   <kernel> is a check file's name (attention_decode covers the decode kernels, append
//   included: `attention_decode N --check append` runs that check alone).
import { randomInt } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { formatOutcome, runCheck, type KernelCheck } from '../src/kernels/check';
import { createNodeGpu } from '../src/gpu/node';
import type { Gpu } from '../src/gpu/runtime';

async function main() {
  const args = process.argv.slice(2);
  const kernel = args[0];
  // Every kernel with a check file, named as the tests' KERNEL=… names them.
  const kernels = readdirSync(new URL('../src/kernels/', import.meta.url))
    .filter((f) => f.endsWith('.check.ts'))
    .map((f) => f.slice(0, -'.check.ts'.length))
    .sort();
  if (!kernel || kernel === '--help' || kernel === '-h' || !kernels.includes(kernel)) {
    if (kernel && !kernel.startsWith('-')) console.error(`no checks for kernel "${kernel}" (no src/kernels/${kernel}.check.ts)`);
    console.log(`usage: npx tsx scripts/seed-sweep.ts <kernel> [N=20] [--cpu-only] [--check <substring>]\nkernels: ${kernels.join(', ')}`);
    process.exit(kernel === '--help' || kernel === '-h' ? 0 : 2);
  }
  const n = Number(args[1] && !args[1].startsWith('--') ? args[1] : 20);
  const cpuOnly = args.includes('--cpu-only');
  const ci = args.indexOf('--check');
  const filter = ci >= 0 ? args[ci + 1] : undefined;
  const mod = (await import(`../src/kernels/${kernel}.check.ts`)) as { checks: KernelCheck[] };
  const checks = mod.checks.filter((c) => (!cpuOnly || !c.gpu) && (!filter || c.name.includes(filter)));
  if (checks.length === 0) throw new Error(`no checks selected in src/kernels/${kernel}.check.ts`);
  const gpu: Gpu | null = checks.some((c) => c.gpu) ? await createNodeGpu() : null;
  const fails = new Map<string, number[]>(checks.map((c) => [c.name, []]));
  // Worst err/bound per check: how close a correct kernel comes to its bounds.
  const worst = new Map<string, number>(checks.map((c) => [c.name, 0]));
  // And per output (a metric's first word: "dx", "y", …), to see which bound is closest.
  const worstOutput = new Map<string, number>();
  // Time per check, to see where a sweep's seconds go.
  const seconds = new Map<string, number>(checks.map((c) => [c.name, 0]));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const seed = randomInt(0, 2 ** 32 - 1) >>> 0;
    for (const c of checks) {
      const started = performance.now();
      const o = await runCheck(c, c.gpu ? gpu : null, seed);
      seconds.set(c.name, seconds.get(c.name)! + (performance.now() - started) / 1000);
      // A bound of 0 (bitwise equality) counts as 0 when met, Infinity when not.
      for (const m of o.metrics) {
        const ratio = m.bound > 0 ? m.err / m.bound : m.err === 0 ? 0 : Infinity;
        worst.set(c.name, Math.max(worst.get(c.name)!, ratio));
        const key = `${c.gpu ? 'gpu' : 'cpu'} ${m.what.split(' ')[0]}`;
        worstOutput.set(key, Math.max(worstOutput.get(key) ?? 0, ratio));
      }
      if (!o.pass) {
        fails.get(c.name)!.push(seed);
        console.log(formatOutcome(o));
      }
    }
  }
  gpu?.destroy();
  let total = 0;
  console.log(`\n${kernel}: ${n} seeds in ${((performance.now() - t0) / 1000).toFixed(0)} s (driver ${process.env.PREFIX_LAB_DRIVER ?? 'auto'})`);
  for (const c of checks) {
    const f = fails.get(c.name)!;
    total += f.length;
    console.log(`  ${f.length}/${n} failed, worst err/bound ${worst.get(c.name)!.toExponential(2)}, ${seconds.get(c.name)!.toFixed(0)} s: ${c.name}${f.length ? ` (seeds ${f.join(', ')})` : ''}`);
  }
  console.log(`  worst err/bound per output: ${[...worstOutput].map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
  process.exit(total === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
