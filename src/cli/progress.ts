// A progress bar with ETA for long CLI runs (training, sweeps). On a terminal it redraws one
// line in place with \r; when output goes to a file or a CI log it prints a plain line every
// `intervalMs` instead, so logs stay readable and small.

/** Where progress goes: process.stdout fits; tests pass a fake. */
export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Text before the bar, e.g. "pretrain". */
  label?: string;
  stream?: ProgressStream;
  /** Plain (non-TTY) mode: at most one line per this many ms (default 10 s). */
  intervalMs?: number;
  /** TTY mode: at most one redraw per this many ms (default 100 ms). */
  redrawMs?: number;
  /** Clock in ms, for tests. */
  now?: () => number;
}

/** "1:02:03", "4:05", "0:07": h:mm:ss above an hour, else m:ss. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export class Progress {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly start: number;
  private lastDraw = -Infinity;
  private done = 0;
  private info = '';
  private finished = false;
  /** State changed since the last draw. */
  private dirty = false;

  constructor(
    readonly total: number,
    private readonly opts: ProgressOptions = {},
  ) {
    // Fall back to a no-op stream where there is no process (the browser).
    const proc = (globalThis as { process?: { stdout?: ProgressStream } }).process;
    this.stream = opts.stream ?? proc?.stdout ?? { write: () => undefined };
    this.tty = !!this.stream.isTTY;
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
  }

  /** Advances by `n` steps; `info` (e.g. "loss 2.31") is shown after the bar. */
  tick(n = 1, info?: string) {
    this.update(this.done + n, info);
  }

  /** Sets the number of steps done. */
  update(done: number, info?: string) {
    if (this.finished) return;
    this.done = Math.min(Math.max(done, 0), this.total);
    if (info !== undefined) this.info = info;
    this.dirty = true;
    const t = this.now();
    const every = this.tty ? (this.opts.redrawMs ?? 100) : (this.opts.intervalMs ?? 10_000);
    if (t - this.lastDraw >= every || this.done >= this.total) this.draw(t);
    if (this.done >= this.total) this.finish();
  }

  /** Ends the bar (prints the final state once, then a newline on a terminal). */
  finish(info?: string) {
    if (this.finished) return;
    if (info !== undefined) {
      this.info = info;
      this.dirty = true;
    }
    if (this.dirty) this.draw(this.now());
    this.finished = true;
    if (this.tty) this.stream.write('\n');
  }

  /** The status line as it would be printed now (without \r or newline). */
  line(t = this.now()): string {
    const elapsed = t - this.start;
    const frac = this.total > 0 ? this.done / this.total : 1;
    const pct = `${(frac * 100).toFixed(frac < 0.1 ? 1 : 0)}%`.padStart(5);
    const rate = this.done > 0 ? elapsed / this.done : NaN;
    const eta = this.done >= this.total ? `took ${formatDuration(elapsed)}` : this.done > 0 ? `ETA ${formatDuration(rate * (this.total - this.done))}` : 'ETA ?';
    const count = `${this.done}/${this.total}`;
    const label = this.opts.label ? `${this.opts.label} ` : '';
    const tail = ` ${pct} ${count} ${eta}${this.info ? ` ${this.info}` : ''}`;
    if (!this.tty) return `${label}${tail.trimStart()}`;
    const cols = this.stream.columns ?? 80;
    const width = Math.max(10, Math.min(40, cols - label.length - tail.length - 3));
    const fill = Math.round(frac * width);
    const line = `${label}[${'#'.repeat(fill)}${'.'.repeat(width - fill)}]${tail}`;
    return line.length > cols - 1 ? line.slice(0, cols - 1) : line;
  }

  private draw(t: number) {
    this.lastDraw = t;
    this.dirty = false;
    // \x1b[K clears what a longer previous line left behind.
    if (this.tty) this.stream.write(`\r${this.line(t)}\x1b[K`);
    else this.stream.write(`${this.line(t)}\n`);
  }
}
