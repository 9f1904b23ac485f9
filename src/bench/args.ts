// `npm run bench` options, parsed before anything runs (so --help and a mistyped option
// never start the benchmarks).

export interface BenchArgs {
  help: boolean;
  quick: boolean;
  only?: string[];
  write: boolean;
  /** --write given explicitly: with --only, rewrite just those sections of BENCHMARKS.md. */
  forceWrite?: true;
}

export const BENCH_USAGE = [
  'Usage: npm run bench -- [--quick] [--only name[,name…]] [--no-write]',
  '',
  'Runs every src/bench/*.bench.ts side by side on one adapter (lavapipe when installed;',
  'PREFIX_LAB_DRIVER=swiftshader|lavapipe picks one) and rewrites the generated part of',
  'BENCHMARKS.md. Raw numbers go to bench-results/<name>.json.',
  '',
  'Options:',
  '  --quick        fewer sizes and repetitions (a smoke run; BENCHMARKS.md is not rewritten)',
  '  --only names   only these benchmarks, comma-separated (BENCHMARKS.md is not rewritten unless --write)',
  '  --no-write     do not rewrite BENCHMARKS.md',
  '  --write        with --only: rewrite just those sections of BENCHMARKS.md (the others are kept)',
  '  -h, --help     print this help and exit',
].join('\n');

export class BenchArgError extends Error {}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const a: BenchArgs = { help: false, quick: false, write: true };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    if (x === '-h' || x === '--help') a.help = true;
    else if (x === '--quick') a.quick = true;
    else if (x === '--no-write') a.write = false;
    else if (x === '--write') a.forceWrite = true;
    else if (x === '--only') {
      const v = argv[++i];
      if (!v || v.startsWith('-')) throw new BenchArgError('--only needs a comma-separated list of benchmark names');
      a.only = v.split(',');
    } else throw new BenchArgError(`unknown option ${JSON.stringify(x)}`);
  }
  if (a.forceWrite && !a.write) throw new BenchArgError('--write and --no-write contradict each other');
  if (a.forceWrite && a.quick) throw new BenchArgError('--write does not apply to --quick runs (their figures are smoke tests)');
  return a;
}
