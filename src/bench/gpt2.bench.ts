// `npm run bench` section: training at GPT-2-small shapes (12 layers, width 768, V 50257,
// random weights) on this adapter, B 1 × T 128, for prefix m = 16, NTK-Attention and LoRA
// r = 8; and the LM head's memory, chunked against materialised logits, at T 128.
// The figures come from ./gpt2_shapes.ts, which the in-browser page runs unchanged.
import { GPT2_METHODS, GPT2_SHAPES, headMemory, headTable, randomBase, stepTable, timeGpt2Steps, type Gpt2StepRow, type HeadMemoryRow } from './gpt2_shapes';
import { runModelHead } from './gpt2_head';
import type { Bench } from './bench';

export const bench: Bench = {
  name: 'gpt2',
  async run(gpu, { quick }) {
    const shape = quick ? 'distilgpt2' : 'gpt2';
    const B = 1;
    const T = quick ? 32 : 128;
    const steps = quick ? 1 : 3;
    const base = randomBase(GPT2_SHAPES[shape], 1234);
    const rows: Gpt2StepRow[] = [];
    for (const m of GPT2_METHODS) {
      const r = await timeGpt2Steps(gpu, shape, base, m, B, T, steps);
      console.log(`  ${m.label}: ${r.msMedian.toFixed(0)} ms/step (CPU ${r.cpuMsMedian?.toFixed(0) ?? '–'} ms), ${r.tokensPerSec.toFixed(1)} tokens/s, peak ${(r.peakBytes / 1e6).toFixed(0)} MB`);
      rows.push(r);
    }
    const heads: HeadMemoryRow[] = [await headMemory(gpu, shape, B * T, quick ? 1 : 3, (x, wte, targets, dx) => runModelHead(gpu, x, wte, targets, dx, B * T))];
    const markdown = [
      `Random weights at ${shape}'s shapes (no download), B ${B} × T ${T}, one untimed warm-up step then ${steps} timed steps`,
      '(median and range). A step is the trainer\'s: forward, backward, clipping + AdamW, loss read back.',
      '"CPU ms/step": median CPU time of this process per step (all its threads, a software adapter\'s included):',
      'on a software adapter the work done, much less sensitive than wall clock to other load on the machine.',
      'Peak GPU bytes are the runtime\'s count of live buffers over the timed steps; "estimated" is',
      'src/model/memory.ts\'s prediction for the same run (what the app checks before loading).',
      '',
      stepTable(rows),
      '',
      'The LM head alone (loss and dL/dx for N = B·T rows): bytes it allocates beyond its inputs.',
      '',
      headTable(heads),
      '',
      'Reproduce: `npm run bench -- --only gpt2` (this machine: lavapipe); on a machine with a GPU,',
      '`npm run bench:gpu` runs the same code in Node and in Chromium for gpt2 and distilgpt2 shapes.',
    ].join('\n');
    return { title: `GPT-2 shapes: adapter training step and LM head memory (${shape})`, markdown, data: { rows, heads } };
  },
};
