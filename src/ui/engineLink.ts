// The page's one link to the engine worker: main.tsx connects it, every store sends its
// commands through it. It sits below the stores so that none of them has to import another
// just to reach the worker.
import type { ToWorker } from './worker/protocol';

let engine: { send(m: ToWorker): void } | null = null;

export function connectEngine(e: { send(m: ToWorker): void } | null) {
  engine = e;
}

/** Sends a command to the engine worker; false when there is none (no WebGPU). */
export function sendToEngine(m: ToWorker): boolean {
  if (!engine) return false;
  engine.send(m);
  return true;
}
