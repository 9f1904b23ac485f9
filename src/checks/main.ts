// Runs every kernel check in the browser (Chromium's WGSL compiler, SwiftShader or a real
// GPU) and publishes the outcomes on window.__checks for the e2e test.
import { createBrowserGpu } from '../gpu/browser';
import { describeAdapter } from '../gpu/device';
import { formatOutcome, runCheck, type CheckOutcome } from '../kernels/check';
import { allChecks } from '../kernels/registry';
import { freshSeed } from '../util/rng';

declare global {
  interface Window {
    __checks?: { done: boolean; adapter?: string; outcomes: CheckOutcome[]; error?: string };
  }
}

const status = document.getElementById('status')!;
const log = document.getElementById('log')!;
const state: NonNullable<Window['__checks']> = { done: false, outcomes: [] };
window.__checks = state;

async function main() {
  const params = new URLSearchParams(location.search);
  const only = params.get('kernel');
  const gpu = await createBrowserGpu();
  state.adapter = describeAdapter(gpu.report);
  const list = allChecks.filter((c) => c.gpu && (!only || c.kernel === only));
  let i = 0;
  for (const c of list) {
    status.textContent = `Running ${++i}/${list.length}: ${c.kernel} / ${c.name} on ${state.adapter}`;
    const o = await runCheck(c, gpu, freshSeed());
    state.outcomes.push(o);
    const line = document.createElement('div');
    line.className = o.pass ? 'PASS' : 'FAIL';
    line.textContent = formatOutcome(o);
    log.appendChild(line);
  }
  const failed = state.outcomes.filter((o) => !o.pass).length;
  status.textContent = `${state.outcomes.length - failed} passed, ${failed} failed on ${state.adapter}`;
  gpu.destroy();
}

main()
  .catch((e: Error) => {
    state.error = e.message;
    status.textContent = `Error: ${e.message}`;
  })
  .finally(() => {
    state.done = true;
  });
