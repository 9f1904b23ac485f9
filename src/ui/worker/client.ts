// The page's side of the engine worker: starts it, sends typed commands, and delivers its
// messages. Step events can arrive hundreds of times a second on a fast GPU, so they are
// batched (one delivery per ~80 ms); any other message flushes the batch first, keeping order.
import type { RunEvent } from '../../train/events';
import type { FromWorker, ToWorker } from './protocol';

export interface EngineHandlers {
  onEvents: (events: RunEvent[]) => void;
  onMessage: (m: Exclude<FromWorker, { type: 'event' }>) => void;
  /** The worker script itself failed (e.g. did not load). */
  onCrash: (message: string) => void;
}

export interface Engine {
  send(m: ToWorker): void;
  terminate(): void;
}

const BATCH_MS = 80;

export function startEngine(h: EngineHandlers): Engine {
  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'prefix-lab-engine' });
  let pending: RunEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (pending.length) {
      const batch = pending;
      pending = [];
      h.onEvents(batch);
    }
  };
  worker.onmessage = (ev: MessageEvent<FromWorker>) => {
    const m = ev.data;
    if (m.type === 'event') {
      pending.push(m.event);
      // Status changes (diverged, done, error) show at once; metrics may wait a frame.
      if (m.event.type === 'status') flush();
      else if (timer === null) timer = setTimeout(flush, BATCH_MS);
      return;
    }
    flush();
    h.onMessage(m);
  };
  worker.onerror = (ev: ErrorEvent) => {
    flush();
    h.onCrash(ev.message || 'the engine worker failed to start');
  };
  return {
    send: (m) => worker.postMessage(m),
    terminate: () => worker.terminate(),
  };
}
