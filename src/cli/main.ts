// `npm run cli -- <command> [options]`: the command-line entry point.
// Commands live one per file in src/cli/, each exporting `command` (see Command in args.ts).
// To add one, add a line to COMMANDS below.
import { pathToFileURL } from 'node:url';
import { ArgError, closest, commandHelp, parseArgs, type CliContext, type Command } from './args';
import type { Gpu } from '../gpu/runtime';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = Command<any>;

/** Every command's module. Loaded on demand, so a heavy command costs nothing to the others. */
export const COMMANDS: (() => Promise<{ command: AnyCommand }>)[] = [
  () => import('./kernel'),
  () => import('./experiment'),
  () => import('./pretrain'),
  () => import('./adapt'),
  () => import('./eval'),
  () => import('./generate'),
  () => import('./convert'),
];

const PROG = 'npm run cli --';

async function loadCommands(): Promise<AnyCommand[]> {
  return Promise.all(COMMANDS.map(async (load) => (await load()).command));
}

function overview(cmds: AnyCommand[]): string {
  const w = Math.max(...cmds.map((c) => c.name.length));
  return [
    `Usage: ${PROG} <command> [options]`,
    '',
    'Prefix Lab command line: train, adapt and evaluate small transformers on WebGPU (Node/Dawn).',
    '',
    'Commands:',
    ...cmds.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    `Run '${PROG} <command> --help' for a command's options.`,
  ].join('\n');
}

/** Options for `main`: where output goes and where the GPU comes from (tests override). */
export interface MainIo {
  out?: (line: string) => void;
  err?: (line: string) => void;
  gpu?: () => Promise<Gpu>;
}

/** Runs one CLI invocation; returns the exit status (0 ok, 1 failure, 2 usage error). */
export async function main(argv: readonly string[], io: MainIo = {}): Promise<number> {
  const out = io.out ?? ((s: string) => void process.stdout.write(s + '\n'));
  const err = io.err ?? ((s: string) => void process.stderr.write(s + '\n'));
  const cmds = await loadCommands();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' ? cmds.find((c) => c.name === rest[0]) : undefined;
    out(target ? commandHelp(target, PROG) : overview(cmds));
    return 0;
  }
  const cmd = cmds.find((c) => c.name === name);
  if (!cmd) {
    const near = closest(name, cmds.map((c) => c.name));
    err(`error: unknown command '${name}'${near ? ` (did you mean '${near}'?)` : ''}\n\n${overview(cmds)}`);
    return 2;
  }

  let ownGpu: Gpu | null = null;
  const ctx: CliContext = {
    out,
    err,
    gpu:
      io.gpu ??
      (async () => {
        if (!ownGpu) {
          const { createNodeGpu } = await import('../gpu/node');
          ownGpu = await createNodeGpu();
        }
        return ownGpu;
      }),
  };
  try {
    const args = parseArgs(cmd, rest);
    if (args.help) {
      out(commandHelp(cmd, PROG));
      return 0;
    }
    const code = await cmd.run(args, ctx);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    if (e instanceof ArgError) {
      err(`error: ${e.message}\nRun '${PROG} ${cmd.name} --help' for usage.`);
      return 2;
    }
    const debug = typeof process !== 'undefined' && !!process.env.DEBUG;
    err(`error: ${debug && e instanceof Error ? e.stack : e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    (ownGpu as Gpu | null)?.destroy();
  }
}

// Run when executed as a script (tsx src/cli/main.ts), not when imported by tests.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  // Help and the command list never touch the GPU: no child process for Dawn's warnings.
  if (!(argv.length === 0 || argv.includes('--help') || argv.includes('-h') || argv[0] === 'help')) await (await import('./quiet_dawn')).quietDawn();
  const code = await main(argv);
  // Dawn can keep handles open after the device is destroyed: exit explicitly.
  process.exit(code);
}
