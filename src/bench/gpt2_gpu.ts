// `npx tsx src/bench/gpt2_gpu.ts [--shapes gpt2,distilgpt2] [--B 1] [--T 128] [--steps 3]`:
// the GPT-2-shape benchmark in Node on Dawn, on the machine's adapter (a real GPU when
// VK_ICD_FILENAMES or the system's Vulkan points at one). scripts/bench-gpu.mjs runs this
// and the same code in Chromium (bench.html).
import { describeAdapter } from '../gpu/device';
import { createNodeGpu } from '../gpu/node';
import { runModelHead } from './gpt2_head';
import { headTable, runGpuSuite, stepTable } from './gpt2_shapes';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log('usage: npx tsx src/bench/gpt2_gpu.ts [--shapes gpt2,distilgpt2] [--B 1] [--T 128] [--steps 3]\nTraining step time, tokens/s and peak GPU bytes at GPT-2 shapes (random weights) for prefix m = 16, NTK-Attention elu1 and LoRA r = 8.');
  process.exit(0);
}
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : def;
};
const shapes = opt('shapes', 'gpt2,distilgpt2').split(',');
const B = Number(opt('B', '1'));
const T = Number(opt('T', '128'));
const steps = Number(opt('steps', '3'));
for (const [k, v] of Object.entries({ B, T, steps })) {
  if (!Number.isInteger(v) || v < 1) {
    console.error(`--${k} must be a positive integer (got ${v})`);
    process.exit(2);
  }
}
const gpu = await createNodeGpu();
console.log(`node: adapter ${describeAdapter(gpu.report)}`);
const { rows, heads } = await runGpuSuite(gpu, { shapes, B, T, steps, onLine: (s) => console.log(`  ${s}`), headRun: (x, wte, t, dx) => runModelHead(gpu, x, wte, t, dx, B * T) });
console.log(`\n${stepTable(rows)}\n\n${headTable(heads)}`);
gpu.destroy();
