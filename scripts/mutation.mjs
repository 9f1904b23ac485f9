// Runs StrykerJS through its API with stryker.config.json (plus an optional --mutate
// override). The `stryker` command refuses Node < 22 outright; this project's machines run
// Node 20, on which the API itself works (checked: scripts/mutation.sh src/data/byo.ts).
import { readFileSync } from 'node:fs';
// The package index imports the CLI module, whose load-time Node version check throws.
import { Stryker } from '../node_modules/@stryker-mutator/core/dist/src/stryker.js';

const config = JSON.parse(readFileSync(new URL('../stryker.config.json', import.meta.url), 'utf8'));
delete config.$schema;
delete config._comment;
const args = process.argv.slice(2);
const mi = args.indexOf('--mutate');
if (mi >= 0) config.mutate = args[mi + 1].split(',');
const ci = args.indexOf('--concurrency');
if (ci >= 0) config.concurrency = Number(args[ci + 1]);
// MUTATION_NAME=<name>: reports test-results/mutation/<name>.{json,html} and a temp folder
// of its own, so that runs on different targets can go side by side.
const name = process.env.MUTATION_NAME;
if (name) {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`MUTATION_NAME must be a plain file name, got ${name}`);
  config.jsonReporter = { fileName: `test-results/mutation/${name}.json` };
  config.htmlReporter = { fileName: `test-results/mutation/${name}.html` };
  config.tempDirName = `test-results/stryker-tmp-${name}`;
}
const results = await new Stryker(config).runMutationTest();
const counts = {};
for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
console.log('mutant statuses:', JSON.stringify(counts));
