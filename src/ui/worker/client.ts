// The page's one typed client of the engine worker. Commands go out as they are; requests
// get an id here and come back as one settled Result (never a thrown error), with their
// progress messages delivered on the way; cancelling is a method of the request. The
// worker's other messages are events for whoever subscribes. Step events can arrive
// hundreds of times a second on a fast GPU, so they are batched (one delivery per ~80 ms);
// any other message flushes the batch first, keeping order.
import type { RunEvent } from '../../train/events';
import type { DoneOf, EngineCommand, EngineError, EngineEvent, EngineRequest, FromWorker, ProgressOf, RequestKind, Result, ToWorker } from './protocol';

/** What the client needs of a worker: a real Worker, or a fake one in tests. */
export interface WorkerPort {
  postMessage(m: ToWorker): void;
  onmessage: ((ev: { data: FromWorker }) => void) | null;
  onerror: ((ev: { message?: string }) => void) | null;
  terminate(): void;
}

/** A request on its way: its id (a run's or job's id on the wire), its outcome, and Stop. */
export interface Pending<K extends RequestKind> {
  id: string;
  result: Promise<Result<DoneOf<K>>>;
  /** Experiments, opening a folder and pretraining stop in the worker and settle when it
   *  confirms; other requests settle as cancelled at once (their late reply is dropped). */
  cancel(): void;
}

export interface EngineClient {
  /** False when there is no worker (the command went nowhere). */
  send(m: EngineCommand): boolean;
  request<R extends EngineRequest>(req: R, onProgress?: (p: ProgressOf<R['type']>) => void): Pending<R['type']>;
  /** Follows the worker's events; returns the unsubscribe. */
  on(listener: (e: EngineEvent) => void): () => void;
  terminate(): void;
}

const BATCH_MS = 80;

/** One pretraining at a time (the worker refuses a second): its replies carry no id. */
const PRETRAIN_ID = 'pretrain';

interface Open {
  onProgress?: (p: never) => void;
  settle: (r: Result<never>) => void;
}

const failure = (kind: EngineError['kind'], message: string): { ok: false; error: EngineError } => ({ ok: false, error: { kind, message } });

export function createEngineClient(port: WorkerPort, o: { batchMs?: number } = {}): EngineClient {
  const batchMs = o.batchMs ?? BATCH_MS;
  const listeners = new Set<(e: EngineEvent) => void>();
  const open = new Map<string, Open>();
  let nextId = 0;
  let pendingEvents: RunEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;

  const emit = (e: EngineEvent) => {
    for (const l of [...listeners]) l(e);
  };
  const flush = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (!pendingEvents.length) return;
    const events = pendingEvents;
    pendingEvents = [];
    emit({ type: 'run-events', events });
  };
  const progress = (id: string, m: FromWorker) => open.get(id)?.onProgress?.(m as never);
  const settle = (id: string, r: Result<unknown>) => {
    const p = open.get(id);
    if (!p) return; // cancelled here already, or not ours
    open.delete(id);
    p.settle(r as Result<never>);
  };
  const idOf = (n: number) => String(n);

  function receive(m: FromWorker) {
    if (m.type === 'event') {
      pendingEvents.push(m.event);
      // Status changes (diverged, done, error) show at once; metrics may wait a frame.
      if (m.event.type === 'status') flush();
      else if (timer === null) timer = setTimeout(flush, batchMs);
      return;
    }
    flush();
    switch (m.type) {
      case 'adapter':
      case 'unavailable':
      case 'base-progress':
      case 'base-ready':
      case 'base-failed':
      case 'run-started':
      case 'run-finished':
      case 'run-failed':
      case 'device-lost':
        emit(m);
        return;
      case 'exported':
      case 'imported-adapter':
      case 'imported-base':
      case 'generated':
      case 'open-base-done':
        settle(idOf(m.requestId), { ok: true, value: m });
        return;
      case 'exchange-failed':
      case 'generate-failed':
        settle(idOf(m.requestId), failure('failed', m.message));
        return;
      case 'open-base-failed':
        settle(idOf(m.requestId), failure(m.cancelled ? 'cancelled' : 'failed', m.message));
        return;
      case 'generate-started':
      case 'generate-token':
      case 'open-base-progress':
        progress(idOf(m.requestId), m);
        return;
      case 'experiment-started':
      case 'experiment-progress':
      case 'experiment-point':
        progress(m.jobId, m);
        return;
      case 'experiment-finished':
        settle(m.jobId, m.aborted ? failure('cancelled', 'stopped') : { ok: true, value: m });
        return;
      case 'experiment-failed':
        settle(m.jobId, failure('failed', m.message));
        return;
      case 'pretrain-progress':
        progress(PRETRAIN_ID, m);
        return;
      case 'pretrain-done':
        settle(PRETRAIN_ID, { ok: true, value: m });
        return;
      case 'pretrain-failed':
        settle(PRETRAIN_ID, failure(m.stopped ? 'cancelled' : 'failed', m.message));
        return;
      default: {
        const unhandled: never = m;
        throw new Error(`the engine sent a message the page does not know: ${JSON.stringify(unhandled)}`);
      }
    }
  }

  port.onmessage = (ev) => receive(ev.data);
  port.onerror = (ev) => {
    flush();
    const message = ev.message || 'the engine worker failed to start';
    for (const id of [...open.keys()]) settle(id, failure('crashed', message));
    emit({ type: 'crashed', message });
  };

  /** The wire message of a request under `id`, and how Stop reaches the worker (null: it cannot). */
  function wire(req: EngineRequest, n: number): { id: string; message: ToWorker; stop: ToWorker | null } {
    switch (req.type) {
      case 'experiment-start': {
        const jobId = `job-${n}`;
        return { id: jobId, message: { ...req, jobId }, stop: { type: 'experiment-stop', jobId } };
      }
      case 'pretrain-base':
        return { id: PRETRAIN_ID, message: req, stop: { type: 'pretrain-stop' } };
      case 'open-base':
        return { id: idOf(n), message: { ...req, requestId: n }, stop: { type: 'cancel-open-base', requestId: n } };
      case 'export-adapter':
      case 'export-base':
      case 'import-adapter':
      case 'import-base':
      case 'generate':
        return { id: idOf(n), message: { ...req, requestId: n } as ToWorker, stop: null };
      default: {
        const unknown: never = req;
        throw new Error(`not a request: ${JSON.stringify(unknown)}`);
      }
    }
  }

  return {
    send(m) {
      port.postMessage(m);
      return true;
    },
    request(req, onProgress) {
      const { id, message, stop } = wire(req, ++nextId);
      type K = (typeof req)['type'];
      if (open.has(id)) {
        // Only pretraining shares an id: one at a time, as the worker allows.
        return { id, result: Promise.resolve(failure('failed', 'a base model is already being pretrained: stop it first')), cancel: () => undefined };
      }
      const result = new Promise<Result<DoneOf<K>>>((resolve) => {
        open.set(id, { onProgress: onProgress as Open['onProgress'], settle: resolve as Open['settle'] });
      });
      port.postMessage(message);
      return {
        id,
        result,
        cancel() {
          if (!open.has(id)) return;
          if (stop) port.postMessage(stop);
          else settle(id, failure('cancelled', 'cancelled'));
        },
      };
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    terminate() {
      flush();
      for (const id of [...open.keys()]) settle(id, failure('crashed', 'the engine was stopped'));
      port.terminate();
    },
  };
}

/** Stands in where there is no worker (no WebGPU): every request fails as a value. */
export const offlineEngine: EngineClient = {
  send: () => false,
  request: () => ({
    id: 'offline',
    result: Promise.resolve(failure('no-engine', 'the training engine is not running (this browser has no WebGPU)')),
    cancel: () => undefined,
  }),
  on: () => () => undefined,
  terminate: () => undefined,
};

/** Starts the real engine worker. */
export function startEngine(): EngineClient {
  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'prefix-lab-engine' });
  return createEngineClient(worker as unknown as WorkerPort);
}
