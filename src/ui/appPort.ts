// What the other stores may ask of the app store (runs list, settings, notices), as an
// interface: store.ts implements it, route.ts hands it over once (provideApp), and the
// exchange, experiment, pretraining and base-opening stores use it through app(). So no
// store imports another, and each can be tested against a stand-in.
import type { RunConfig } from '../train/config';
import type { RunRecord } from './runs';
import type { BaseInfo, UserText } from './worker/payloads';

export interface AppPort {
  runs(): readonly RunRecord[];
  /** Adds runs before the others (read back from an earlier visit) or after them. */
  addRuns(runs: RunRecord[], where: 'first' | 'last'): void;
  /** Takes these runs off the list; a run still going stays. */
  removeRuns(ids: ReadonlySet<string>): void;
  /** Calls `f` whenever the runs list changes; returns the unsubscribe. */
  onRunsChange(f: (runs: readonly RunRecord[]) => void): () => void;
  config(): RunConfig;
  setConfig(patch: Partial<RunConfig>): void;
  /** The user's file, when the selected task is that file and it is loaded. */
  userText(): UserText | undefined;
  /** Starts a run with the current settings: its id, or why it could not start. */
  startRun(): { ok: true; runId: string } | { ok: false; error: string };
  gpuReady(): boolean;
  baseInfo(): BaseInfo | null;
  notify(kind: 'info' | 'warning' | 'error', text: string): void;
  /** The worker's base was replaced: a "base model replaced" entry on the runs list. */
  noteBaseChange(name: string, previousFingerprint: string | null, fingerprint: string): void;
}

let port: AppPort | null = null;

export function provideApp(p: AppPort) {
  port = p;
}

export function app(): AppPort {
  if (!port) throw new Error('the app store is not connected (route.ts connectEngine)');
  return port;
}
