// The page's one link to the engine: main.tsx (through route.ts) connects the client, every
// store sends its commands and requests through it. It sits below the stores so that none
// of them has to import another just to reach the worker; without a worker (no WebGPU) it
// is the offline client, whose requests fail as values.
import { offlineEngine, type EngineClient } from './worker/client';

let client: EngineClient = offlineEngine;

export function setEngine(c: EngineClient | null) {
  client = c ?? offlineEngine;
}

/** The engine client (the offline one when there is no worker). */
export function engine(): EngineClient {
  return client;
}
