// Writes a tiny random GPT-2 folder in Hugging Face's layout (see scripts/tiny_gpt2_lib.ts):
//   npx tsx scripts/make-tiny-gpt2.ts OUT_DIR [--layers 2 --heads 2 --embd 32 --positions 64
//     --dtype F32|F16|BF16 --prefixed|--unprefixed --tokenizer json|vocab-merges|both
//     --with-mask-buffers --with-lm-head --init gpt2|random --name NAME] --seed N
import { type TinyGpt2Options, writeTinyGpt2 } from './tiny_gpt2_lib';

const USAGE =
  'usage: npx tsx scripts/make-tiny-gpt2.ts OUT_DIR [--layers 2] [--heads 2] [--embd 32] [--positions 64] [--dtype F32|F16|BF16] ' +
  '[--prefixed|--unprefixed] [--tokenizer json|vocab-merges|both] [--with-mask-buffers] [--with-lm-head] [--init gpt2|random] [--name NAME] [--seed N]';

function fail(msg: string): never {
  console.error(`make-tiny-gpt2: ${msg}\n${USAGE}`);
  process.exit(2);
}

function parse(argv: string[]): { out: string; opts: TinyGpt2Options } {
  let out: string | undefined;
  const opts: TinyGpt2Options = {};
  const int = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < 1) fail(`${flag} needs a positive integer, got ${v ?? 'nothing'}`);
    return n;
  };
  const oneOf = <T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T => {
    if (!allowed.includes(v as T)) fail(`${flag} must be one of ${allowed.join(', ')}, got ${v ?? 'nothing'}`);
    return v as T;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    switch (a) {
      case '--layers': opts.layers = int(a, next()); break;
      case '--heads': opts.heads = int(a, next()); break;
      case '--embd': opts.embd = int(a, next()); break;
      case '--positions': opts.positions = int(a, next()); break;
      case '--seed': opts.seed = int(a, next()); break;
      case '--dtype': opts.dtype = oneOf(a, next(), ['F32', 'F16', 'BF16'] as const); break;
      case '--tokenizer': opts.tokenizer = oneOf(a, next(), ['json', 'vocab-merges', 'both'] as const); break;
      case '--init': opts.init = oneOf(a, next(), ['gpt2', 'random'] as const); break;
      case '--name': opts.name = next() ?? fail('--name needs a value'); break;
      case '--prefixed': opts.prefixed = true; break;
      case '--unprefixed': opts.prefixed = false; break;
      case '--with-mask-buffers': opts.withMaskBuffers = true; break;
      case '--with-lm-head': opts.withLmHead = true; break;
      case '-h':
      case '--help': console.log(USAGE); process.exit(0);
      default:
        if (a.startsWith('-')) fail(`unknown option ${a}`);
        if (out !== undefined) fail(`one OUT_DIR only (got ${out} and ${a})`);
        out = a;
    }
  }
  if (out === undefined) fail('missing OUT_DIR');
  if (opts.embd !== undefined && opts.embd % (opts.heads ?? 2) !== 0) fail(`--embd ${opts.embd} must be divisible by --heads ${opts.heads ?? 2}`);
  return { out, opts };
}

const { out, opts } = parse(process.argv.slice(2));
const t = await writeTinyGpt2(out, opts);
const bytes = [...t.files.values()].reduce((a, b) => a + b.length, 0);
console.log(`wrote ${out}: GPT-2 with ${t.config.nLayer} layers, ${t.config.nHead} heads, width ${t.config.nEmbd}, ${t.config.contextLength} positions, vocab ${t.config.vocabSize}; files ${[...t.files.keys()].join(', ')} (${(bytes / 1e6).toFixed(1)} MB)`);
