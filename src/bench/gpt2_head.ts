// The model's LM head as GptGpu runs it in a training step (src/kernels/lm_head.ts: loss
// forward, then dL/dx), for the head-memory figures of ./gpt2_shapes.ts.
import type { Gpu, Tensor } from '../gpu/runtime';
import { lmHeadBackward, lmHeadForward } from '../kernels/lm_head';

export function runModelHead(gpu: Gpu, x: Tensor, wte: Tensor, targets: Tensor, dx: Tensor, N: number) {
  const C = x.numel / N;
  const V = wte.numel / C;
  const losses = gpu.tensor([N], undefined, 'head.losses');
  const lse = gpu.tensor([N], undefined, 'head.lse');
  const stats = gpu.tensor([2], undefined, 'head.stats');
  lmHeadForward(gpu, { x, wte, targets, losses, lse, stats }, { N, C, V });
  lmHeadBackward(gpu, { x, wte, targets, lse, stats, dx, dwte: null }, { N, C, V });
  gpu.release(losses, lse, stats);
}
