// The exchange panel's state (a small zustand store beside the app's): what this browser
// keeps, what is in progress, and the last outcome in words. The jobs that change it live
// beside it: persistence.ts (IndexedDB), downloads.ts (exports), importing.ts (imports).
import { create } from 'zustand';
import type { SavedFile } from '../persist/db';

export interface ExchangeMessage {
  kind: 'ok' | 'error';
  text: string;
}

export interface SavedFileInfo {
  id: string;
  runId: string | null;
  name: string;
  kind: SavedFile['kind'];
  origin: SavedFile['origin'];
  size: number;
  savedAt: number;
}

export interface ExchangeState {
  /** null until the saved runs were read; then whether they outlive the page. */
  persistent: boolean | null;
  fallbackReason: string | null;
  /** Ids of runs read back from an earlier visit. */
  restoredIds: string[];
  /** Ids of runs kept in the saved store (this visit's and earlier ones). */
  savedRunIds: string[];
  files: SavedFileInfo[];
  /** What is in progress ("Importing x.zip…"), or null. */
  busy: string | null;
  message: ExchangeMessage | null;
}

export const useExchange = create<ExchangeState>()(() => ({
  persistent: null,
  fallbackReason: null,
  restoredIds: [],
  savedRunIds: [],
  files: [],
  busy: null,
  message: null,
}));

export const setExchange = (p: Partial<ExchangeState> | ((s: ExchangeState) => Partial<ExchangeState>)) => useExchange.setState(p);

export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Runs `f` with `label` as the panel's busy line; a thrown error becomes its message. */
export async function withBusy<T>(label: string, f: () => Promise<T>): Promise<T | undefined> {
  setExchange({ busy: label, message: null });
  try {
    return await f();
  } catch (e) {
    setExchange({ message: { kind: 'error', text: errorText(e) } });
    return undefined;
  } finally {
    setExchange((x) => (x.busy === label ? { busy: null } : {}));
  }
}

export function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 2 ** 20 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 2 ** 20).toFixed(1)} MB`;
}
