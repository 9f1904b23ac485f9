// `npm run bench [-- --quick] [-- --only name]`: runs every src/bench/*.bench.ts side by side
// on one adapter and rewrites the generated part of BENCHMARKS.md.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeAdapter } from '../gpu/device';
import { createNodeGpu } from '../gpu/node';
import { BENCH_USAGE, BenchArgError, parseBenchArgs, type BenchArgs } from './args';
import type { Bench } from './bench';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
let parsed: BenchArgs;
try {
  parsed = parseBenchArgs(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof BenchArgError)) throw e;
  console.error(`error: ${e.message}\n\n${BENCH_USAGE}`);
  process.exit(2);
}
if (parsed.help) {
  console.log(BENCH_USAGE);
  process.exit(0);
}
const { quick, only, write, forceWrite } = parsed;
// Dawn's limit warnings are not for users (see src/cli/quiet_dawn.ts).
await (await import('../cli/quiet_dawn')).quietDawn();

const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort();
const gpu = await createNodeGpu();
const adapter = describeAdapter(gpu.report);
console.log(`adapter: ${adapter}; driver ICD: ${process.env.VK_ICD_FILENAMES ?? '(default)'}; timestamps: ${gpu.hasTimestamps}`);
mkdirSync(join(root, 'bench-results'), { recursive: true });

const sections: string[] = [];
for (const f of files) {
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { bench: Bench };
  if (only && !only.includes(mod.bench.name)) continue;
  console.log(`\n== ${mod.bench.name}`);
  const t0 = performance.now();
  const s = await mod.bench.run(gpu, { quick });
  console.log(s.markdown);
  console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  writeFileSync(join(root, 'bench-results', `${mod.bench.name}.json`), JSON.stringify({ adapter, quick, data: s.data }, null, 2));
  sections.push(`## ${s.title}\n\n${s.markdown}\n`);
}
gpu.destroy();

const file = join(root, 'BENCHMARKS.md');
const when = new Date().toISOString().slice(0, 10);
const stamp = `Last run: ${when}, adapter: ${adapter}, ICD: \`${process.env.VK_ICD_FILENAMES ?? 'default'}\`.`;
if (write && !quick && !only) {
  const head = existsSync(file) ? readFileSync(file, 'utf8').split('<!-- generated -->')[0] : '# Benchmarks\n\n';
  writeFileSync(file, `${head.trimEnd()}\n\n<!-- generated -->\n${stamp}\n\n${sections.join('\n')}`);
  console.log('\nBENCHMARKS.md updated');
} else if (forceWrite && only && existsSync(file)) {
  // Replace the named sections of the generated part (by title), append new ones, keep the rest.
  const [head, generated = ''] = readFileSync(file, 'utf8').split('<!-- generated -->');
  const parts = generated.split(/^(?=## )/m);
  const kept = parts.filter((p) => p.startsWith('## '));
  const titleOf = (s: string) => s.split('\n')[0];
  for (const s of sections) {
    const at = kept.findIndex((k) => titleOf(k) === titleOf(s));
    if (at >= 0) kept[at] = s;
    else kept.push(s);
  }
  const stamps = `${stamp} Sections rewritten by that run: ${only.join(', ')}.`;
  writeFileSync(file, `${head.trimEnd()}\n\n<!-- generated -->\n${stamps}\n\n${kept.map((k) => k.trimEnd() + '\n').join('\n')}`);
  console.log(`\nBENCHMARKS.md: sections ${only.join(', ')} rewritten`);
}
