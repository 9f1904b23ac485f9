// Wires the page together, once: the engine client becomes the stores' link (engineLink.ts),
// its events go to the app store (device, base model, runs), and the other stores get the
// app store's port (appPort.ts). Requests' replies need no routing: the client settles each
// request where it was made. This is the one module that knows the app store and the link
// together; the stores themselves import only the link and the port.
import { provideApp } from './appPort';
import { setEngine } from './engineLink';
import { appPort, handleEngineEvent } from './store';
import type { EngineClient } from './worker/client';

let unsubscribe: (() => void) | null = null;

/** Connects `client` (null: there is none, no WebGPU); a client connected before is let go. */
export function connectEngine(client: EngineClient | null) {
  unsubscribe?.();
  unsubscribe = client ? client.on(handleEngineEvent) : null;
  setEngine(client);
  provideApp(appPort);
}
