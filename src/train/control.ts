// Pause / resume / stop for a long-running loop. The loop awaits `checkpoint()` between
// steps; a paused loop waits there without spinning.
export class RunControl {
  private paused = false;
  private stopped = false;
  private stepsAllowed = 0;
  private wake: (() => void) | null = null;

  get isPaused() {
    return this.paused;
  }
  get isStopped() {
    return this.stopped;
  }
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
    this.wake?.();
  }
  /** While paused, lets exactly one more step through. */
  step() {
    this.stepsAllowed++;
    this.wake?.();
  }
  stop() {
    this.stopped = true;
    this.wake?.();
  }
  /** Resolves at once when running; waits while paused. Returns false once stopped. */
  async checkpoint(): Promise<boolean> {
    while (this.paused && !this.stopped) {
      if (this.stepsAllowed > 0) {
        this.stepsAllowed--;
        return true;
      }
      await new Promise<void>((r) => (this.wake = r));
      this.wake = null;
    }
    return !this.stopped;
  }
}
