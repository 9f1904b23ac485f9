// A stand-in engine worker for Node tests: records what the page sends and lets a test
// answer as the worker would, through the real client (client.ts).
import { createEngineClient, type EngineClient, type WorkerPort } from './client';
import type { FromWorker, ToWorker } from './protocol';

export interface FakeWorker {
  client: EngineClient;
  sent: ToWorker[];
  /** Delivers a message as if the worker had posted it. */
  reply(m: FromWorker): void;
  /** The worker script dies. */
  crash(message: string): void;
  /** Lets settled requests' handlers run (they resolve promises) and batched events flush. */
  settle(): Promise<void>;
}

export function fakeWorker(): FakeWorker {
  const sent: ToWorker[] = [];
  const port: WorkerPort = { postMessage: (m) => void sent.push(m), onmessage: null, onerror: null, terminate: () => undefined };
  const client = createEngineClient(port, { batchMs: 0 });
  return {
    client,
    sent,
    reply: (m) => port.onmessage?.({ data: m }),
    crash: (message) => port.onerror?.({ message }),
    settle: () => new Promise((r) => setTimeout(r, 1)),
  };
}
