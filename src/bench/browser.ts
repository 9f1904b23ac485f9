// bench.html: the GPT-2-shape benchmark (./gpt2_shapes.ts) in this browser, on whatever
// adapter it gives; results on the page and on window.__bench for scripts/bench-gpu.mjs.
import { createBrowserGpu } from '../gpu/browser';
import { describeAdapter } from '../gpu/device';
import { runModelHead } from './gpt2_head';
import { headTable, runGpuSuite, stepTable, type Gpt2StepRow, type HeadMemoryRow } from './gpt2_shapes';

declare global {
  interface Window {
    __bench?: { done: boolean; adapter?: string; rows?: Gpt2StepRow[]; heads?: HeadMemoryRow[]; error?: string };
  }
}

const status = document.getElementById('status')!;
const log = document.getElementById('log')!;
const state: NonNullable<Window['__bench']> = { done: false };
window.__bench = state;

async function main() {
  const q = new URLSearchParams(location.search);
  const shapes = (q.get('shapes') ?? 'gpt2,distilgpt2').split(',');
  const B = Number(q.get('B') ?? 1);
  const T = Number(q.get('T') ?? 128);
  const steps = Number(q.get('steps') ?? 3);
  const gpu = await createBrowserGpu();
  state.adapter = describeAdapter(gpu.report);
  const line = (s: string) => {
    status.textContent = s;
    log.textContent += `${s}\n`;
  };
  line(`adapter: ${state.adapter}`);
  const { rows, heads } = await runGpuSuite(gpu, { shapes, B, T, steps, onLine: line, headRun: (x, wte, t, dx) => runModelHead(gpu, x, wte, t, dx, B * T) });
  state.rows = rows;
  state.heads = heads;
  log.textContent += `\n${stepTable(rows)}\n\n${headTable(heads)}\n`;
  status.textContent = `Done on ${state.adapter}`;
  gpu.destroy();
}

main()
  .catch((e: unknown) => {
    state.error = e instanceof Error ? e.message : String(e);
    status.textContent = `Failed: ${state.error}`;
  })
  .finally(() => {
    state.done = true;
  });
