// Keeps Dawn's limit warnings from users. On requestAdapter Dawn (the `webgpu` package's
// native dawn.node) prints, straight to file descriptor 2 and with no switch to turn it off,
//   Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.
// (and the same for storage buffers) on lavapipe and SwiftShader. Native writes bypass
// process.stderr, so the only way to drop them is outside the process: an entry point (CLI,
// bench) re-runs itself as a child whose stderr passes through filterDawnNoise.
import { spawn } from 'node:child_process';

/** Dawn's two informational limit lines (nothing a user can or should act on). */
const NOISE = /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?$/;

/**
 * A streaming line filter: feed it chunks, it returns what to pass on. Whole lines matching
 * NOISE are dropped; anything else passes as soon as it cannot be the start of such a line
 * (progress bars redraw with '\r' and no newline, and must not wait for one).
 */
export function filterDawnNoise(): { push(chunk: string): string; end(): string } {
  let held = '';
  const maybeNoise = (s: string) => 'Warning: maxDynamic'.startsWith(s.slice(0, 19)) && !s.includes('\r');
  return {
    push(chunk) {
      let out = '';
      const parts = (held + chunk).split('\n');
      held = parts.pop()!;
      for (const line of parts) if (!NOISE.test(line)) out += `${line}\n`;
      if (!maybeNoise(held)) {
        out += held;
        held = '';
      }
      return out;
    },
    end() {
      const rest = NOISE.test(held) ? '' : held;
      held = '';
      return rest;
    },
  };
}

const CHILD = 'PREFIX_LAB_DAWN_FILTERED';

/**
 * Call first thing in an entry point. In the parent it re-runs the same script as a child
 * (same Node flags, so tsx too), filters the child's stderr, exits with its status, and
 * returns a promise that never resolves; in the child (or with PREFIX_LAB_DAWN_WARNINGS=1,
 * to see Dawn's output as is) it returns at once. A stderr that is a terminal stays one for
 * the child's progress bars (PREFIX_LAB_STDERR_TTY, see adoptStderrTty).
 */
export async function quietDawn(): Promise<void> {
  if (process.env[CHILD] || process.env.PREFIX_LAB_DAWN_WARNINGS === '1') {
    adoptStderrTty();
    return;
  }
  const env = { ...process.env, [CHILD]: '1', ...(process.stderr.isTTY ? { PREFIX_LAB_STDERR_TTY: String(process.stderr.columns ?? 80) } : {}) };
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: ['inherit', 'inherit', 'pipe'], env });
  const filter = filterDawnNoise();
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    const out = filter.push(s);
    if (out) process.stderr.write(out);
  });
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  child.on('close', (code, signal) => {
    const rest = filter.end();
    if (rest) process.stderr.write(rest);
    process.exit(code ?? (signal ? 128 + 2 : 1));
  });
  await new Promise<never>(() => {});
}

/** In the child: a parent's terminal stderr is reported as a terminal (for progress bars). */
function adoptStderrTty() {
  const cols = process.env.PREFIX_LAB_STDERR_TTY;
  if (!cols || process.stderr.isTTY) return;
  Object.assign(process.stderr, { isTTY: true, columns: Number(cols) || 80 });
}
