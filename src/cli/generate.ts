// `npm run cli -- generate --prompt "Call me" [--adapter runs/p16]`: text from a base model,
// or from the base and the adapted model side by side (same prompt, same seed).
import { Rng } from '../util/rng';
import { generate } from '../model/generate';
import { defineCommand, ArgError } from './args';
import { loadModel } from './common';

export const command = defineCommand({
  name: 'generate',
  summary: 'generate text from a base model (and from it with an adapter, side by side)',
  description: [
    'Samples --max-new tokens (characters, or BPE tokens for a GPT-2 base) after --prompt',
    '(temperature 0 = greedy; --top-k limits the candidates), decoding with a KV cache and',
    'stopping at the end-of-text token. With --adapter, prints the base model and the',
    'adapted model one after the other, with the same seed.',
  ].join('\n'),
  options: {
    base: { type: 'string', default: 'public/models/base', help: 'base model folder or .zip', placeholder: 'path' },
    adapter: { type: 'string', help: 'adapter folder or .zip', placeholder: 'path' },
    prompt: { type: 'string', default: 'The whale ', help: 'text to continue' },
    'max-new': { type: 'number', default: 120, min: 0, max: 100000, integer: true, help: 'characters to generate' },
    temperature: { type: 'number', default: 0.8, min: 0, max: 100, help: 'sampling temperature (0 = greedy)' },
    'top-k': { type: 'number', default: 0, min: 0, max: 100000, integer: true, help: 'sample among the k most likely (0 = all)' },
    seed: { type: 'number', default: 1, min: 0, max: 2 ** 31 - 1, integer: true, help: 'sampling seed' },
  },
  async run({ options: o }, ctx) {
    if (!o.prompt) throw new ArgError('--prompt must not be empty');
    const gpu = await ctx.gpu();
    const paths: (string | undefined)[] = o.adapter ? [undefined, o.adapter] : [undefined];
    for (const adapterPath of paths) {
      const { base, model, label } = await loadModel(gpu, o.base, adapterPath);
      try {
        if (base.vocab) {
          const enc = base.vocab.encodeWithStats(o.prompt);
          if (enc.unknown) ctx.err(`note: ${enc.unknown} prompt characters are not in the vocabulary (read as the unknown token)`);
        }
        const ids = base.tokenizer.encode(o.prompt);
        // A BPE base stops at its end-of-text token (GPT-2: <|endoftext|>).
        const stopToken = base.tokenizer.eosId ?? undefined;
        const out = await generate(gpu, model, ids, { maxNewTokens: o['max-new'], temperature: o.temperature, topK: o['top-k'], rng: new Rng(o.seed), stopToken });
        ctx.out(`--- ${label}\n${o.prompt}${base.tokenizer.decode(out)}`);
      } finally {
        model.destroy();
      }
    }
  },
});
