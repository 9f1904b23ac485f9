import { describe, expect, it } from 'vitest';
import { ArgError, commandHelp, defineCommand, parseArgs } from './args';
import { formatDuration, Progress } from './progress';
import { main } from './main';

const spec = {
  options: {
    in: { type: 'string', help: 'input', required: true },
    steps: { type: 'number', help: 'steps', default: 100, min: 1, max: 1000, integer: true },
    lr: { type: 'number', help: 'learning rate', default: 1e-3, min: 0 },
    causal: { type: 'boolean', help: 'mask', default: true },
    verbose: { type: 'boolean', help: 'talk' },
    map: { type: 'enum', help: 'feature map', values: ['elu', 'taylor1', 'taylor2'] as const, default: 'elu' },
    tag: { type: 'string', help: 'tag' },
  },
  positionals: [{ name: 'what', help: 'thing', required: true, values: ['a', 'b'] }],
} as const;

const err = (argv: string[]): string => {
  try {
    parseArgs(spec, argv);
  } catch (e) {
    expect(e).toBeInstanceOf(ArgError);
    return (e as Error).message;
  }
  throw new Error(`expected an ArgError for ${argv.join(' ')}`);
};

describe('parseArgs', () => {
  it('parses every form and fills defaults', () => {
    const r = parseArgs(spec, ['a', '--in', 'x.st', '--steps=7', '--lr', '2e-1', '--no-causal', '--verbose', '--map', 'taylor2']);
    expect(r.options).toEqual({ in: 'x.st', steps: 7, lr: 2e-1, causal: false, verbose: true, map: 'taylor2', tag: undefined });
    expect(r.positionals).toEqual(['a']);
    expect([...r.given].sort()).toEqual(['causal', 'in', 'lr', 'map', 'steps', 'verbose']);
    const d = parseArgs(spec, ['b', '--in=y', '--causal', 'false']);
    expect(d.options.steps).toBe(100);
    expect(d.options.causal).toBe(false);
    expect(d.options.map).toBe('elu');
    // A boolean only takes the next word when it reads as a boolean.
    expect(parseArgs(spec, ['--verbose', 'a', '--in', 'z']).positionals).toEqual(['a']);
    expect(parseArgs(spec, ['--in', 'z', '--', 'b']).positionals).toEqual(['b']);
    // Negative numbers are values, not options.
    expect(parseArgs({ options: { x: { type: 'number', help: '' } } }, ['--x', '-3']).options.x).toBe(-3);
  });

  it('refuses unknown options, bad values and missing arguments with clear messages', () => {
    expect(err(['a', '--in', 'x', '--stesp', '3'])).toMatch(/unknown option --stesp \(did you mean --steps\?\)/);
    expect(err(['a', '--in', 'x', '--steps', '0'])).toMatch(/--steps: 0 is below the minimum 1/);
    expect(err(['a', '--in', 'x', '--steps', '2000'])).toMatch(/above the maximum 1000/);
    expect(err(['a', '--in', 'x', '--steps', '2.5'])).toMatch(/expected an integer/);
    expect(err(['a', '--in', 'x', '--lr', 'fast'])).toMatch(/--lr: expected a number, got 'fast'/);
    expect(err(['a', '--in', 'x', '--lr', 'Infinity'])).toMatch(/--lr: expected a number/);
    expect(err(['a', '--in', 'x', '--map', 'taylor3'])).toMatch(/--map: must be one of elu, taylor1, taylor2; got 'taylor3'/);
    expect(err(['a', '--in', 'x', '--causal=maybe'])).toMatch(/--causal: expected true or false/);
    expect(err(['a'])).toMatch(/--in is required/);
    expect(err(['a', '--in'])).toMatch(/--in needs a value/);
    expect(err(['--in', 'x'])).toMatch(/missing <what>/);
    expect(err(['c', '--in', 'x'])).toMatch(/<what> must be one of a, b; got 'c'/);
    expect(err(['a', 'b', '--in', 'x'])).toMatch(/unexpected argument 'b'/);
    expect(err(['a', '--in', 'x', '--in', 'y'])).toMatch(/--in given twice/);
    expect(err(['a', '--in', 'x', '-s'])).toMatch(/unknown option -s/);
    expect(err(['a', '--in', 'x', '--constructor', '1'])).toMatch(/unknown option --constructor/);
  });

  it('--help skips validation and lists every option with its default', () => {
    expect(parseArgs(spec, ['--help']).help).toBe(true);
    const cmd = defineCommand({ name: 'demo', summary: 's', description: 'Does a demo.', ...spec, run: async () => 0 });
    const h = commandHelp(cmd);
    expect(h).toContain('Usage: npm run cli -- demo <what> [options]');
    for (const name of Object.keys(spec.options)) expect(h).toContain(`--${name}`);
    expect(h).toContain('default: 100');
    expect(h).toContain('an integer in [1, 1000]');
    expect(h).toContain('elu|taylor1|taylor2');
    expect(h).toContain('required');
  });
});

describe('main', () => {
  const capture = async (argv: string[]) => {
    const out: string[] = [];
    const errs: string[] = [];
    const code = await main(argv, { out: (s) => out.push(s), err: (s) => errs.push(s), gpu: () => Promise.reject(new Error('no GPU in this test')) });
    return { code, out: out.join('\n'), err: errs.join('\n') };
  };
  it('lists commands, prints command help, and exits 2 on usage errors', async () => {
    const top = await capture(['--help']);
    expect(top.code).toBe(0);
    expect(top.out).toMatch(/Commands:\n\s+kernel\s+run one kernel/);
    expect((await capture([])).out).toContain('Commands:');
    const kh = await capture(['kernel', '--help']);
    expect(kh.code).toBe(0);
    expect(kh.out).toContain('--in <file>');
    expect((await capture(['help', 'kernel'])).out).toContain('--reference');
    const bad = await capture(['kernal']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("unknown command 'kernal' (did you mean 'kernel'?)");
    const badOpt = await capture(['kernel', 'gelu', '--in', 'x', '--bogus']);
    expect(badOpt.code).toBe(2);
    expect(badOpt.err).toContain('unknown option --bogus');
    expect(badOpt.err).toContain("Run 'npm run cli -- kernel --help'");
    const missing = await capture(['kernel', 'gelu', '--in', '/nonexistent/file.safetensors']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('cannot read --in /nonexistent/file.safetensors');
  });
});

describe('Progress', () => {
  const fake = (isTTY: boolean) => {
    const writes: string[] = [];
    return { writes, stream: { isTTY, columns: 100, write: (s: string) => writes.push(s) } };
  };

  it('on a terminal redraws one line with \\r, at most every redrawMs, and ends with a newline', () => {
    let t = 0;
    const f = fake(true);
    const p = new Progress(10, { label: 'train', stream: f.stream, now: () => t, redrawMs: 100 });
    t = 1000;
    p.tick(1, 'loss 3.0'); // drawn
    t = 1050;
    p.tick(); // within 100 ms: not drawn
    t = 2000;
    p.tick(); // drawn: 3 done in 2 s → ETA 7·(2/3) s ≈ 5 s
    expect(f.writes.length).toBe(2);
    expect(f.writes[1]).toMatch(/^\rtrain \[#+\.+\]\s+30% 3\/10 ETA 0:05 loss 3.0\x1b\[K$/);
    t = 4000;
    p.update(10, 'loss 1.0');
    expect(f.writes.at(-2)).toMatch(/100% 10\/10 took 0:04 loss 1.0/);
    expect(f.writes.at(-1)).toBe('\n');
    const n = f.writes.length;
    p.tick();
    p.finish();
    expect(f.writes.length).toBe(n); // nothing after finishing
  });

  it('without a terminal prints plain lines every intervalMs', () => {
    let t = 0;
    const f = fake(false);
    const p = new Progress(1000, { stream: f.stream, now: () => t, intervalMs: 10_000 });
    for (let i = 0; i < 1000; i++) {
      t += 50; // 50 s in all → a line about every 10 s, plus the first and the last
      p.tick();
    }
    expect(f.writes.length).toBeGreaterThanOrEqual(5);
    expect(f.writes.length).toBeLessThanOrEqual(7);
    expect(f.writes.every((w) => w.endsWith('\n') && !w.includes('\r'))).toBe(true);
    expect(f.writes.at(-1)).toMatch(/^100% 1000\/1000 took 0:50\n$/);
  });

  it('formats durations', () => {
    expect(formatDuration(7_000)).toBe('0:07');
    expect(formatDuration(245_000)).toBe('4:05');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
    expect(formatDuration(NaN)).toBe('?');
  });
});
