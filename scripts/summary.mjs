// Sums the test counts of every suite into one closing line: "N passed, N failed".
import { existsSync, readFileSync } from 'node:fs';

const typecheckFailed = process.argv[2] === '1';
let passed = typecheckFailed ? 0 : 1; // the typecheck counts as one test
let failed = typecheckFailed ? 1 : 0;
const read = (f) => (existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null);

const v = read('test-results/vitest.json');
if (v) {
  passed += v.numPassedTests;
  failed += v.numFailedTests;
  // A file that failed to load has no tests in it: count it as a failure.
  failed += (v.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0).length;
} else failed += 1;

const p = read('test-results/playwright.json');
if (p) {
  passed += p.stats.expected + (p.stats.flaky ?? 0);
  failed += p.stats.unexpected;
  failed += (p.errors ?? []).length;
} else failed += 1;

console.log(`${passed} passed, ${failed} failed`);
