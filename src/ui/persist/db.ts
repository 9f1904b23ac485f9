// What the playground keeps in this browser between visits: finished runs and the adapter /
// checkpoint zips the user exported or imported. A hand-written promise wrapper over
// IndexedDB (two object stores keyed by id), and the same interface in memory for when
// IndexedDB is missing or refuses (private mode, disabled storage, quota): then nothing
// outlives the page, and `persistent` says so.
//
// Its own database, apart from the pretrained-base cache (worker/base_store.ts), so neither's
// schema version can block the other.

export const DB_NAME = 'prefix-lab-saved';
export const DB_VERSION = 1;
export type StoreName = 'runs' | 'files';
const STORES: readonly StoreName[] = ['runs', 'files'];

/** A zip kept for a run: exported from it, or imported to make it. */
export interface SavedFile {
  id: string;
  runId: string | null;
  name: string;
  kind: 'adapter' | 'base';
  origin: 'exported' | 'imported';
  bytes: Uint8Array;
  savedAt: number;
}

export interface SavedStore {
  /** False for the in-memory fallback. */
  readonly persistent: boolean;
  getAll(store: StoreName): Promise<unknown[]>;
  /** One record, or undefined. */
  get(store: StoreName, id: string): Promise<unknown>;
  put(store: StoreName, id: string, value: unknown): Promise<void>;
  remove(store: StoreName, id: string): Promise<void>;
  clear(): Promise<void>;
  /** Calls `f` when another tab of this page saved a record (after it committed); returns the
   *  unsubscribe. The in-memory store has no other tabs. */
  onSavedElsewhere(f: (store: StoreName, id: string) => void): () => void;
}

/** Where tabs say which record they saved (BroadcastChannel: same origin, other tabs). */
export const SAVED_CHANNEL = 'prefix-lab-saved';

/** The in-memory store: same behaviour, gone with the page. Values are cloned in and out as
 *  IndexedDB would, so callers cannot tell by mutation which one they have. */
export function memoryStore(): SavedStore {
  const maps: Record<StoreName, Map<string, unknown>> = { runs: new Map(), files: new Map() };
  return {
    persistent: false,
    getAll: async (s) => [...maps[s].values()].map((v) => structuredClone(v)),
    get: async (s, id) => structuredClone(maps[s].get(id)),
    put: async (s, id, v) => void maps[s].set(id, structuredClone(v)),
    remove: async (s, id) => void maps[s].delete(id),
    clear: async () => STORES.forEach((s) => maps[s].clear()),
    onSavedElsewhere: () => () => undefined,
  };
}

/** Why a write to the saved store failed: `quota` when the browser's storage for this page is
 *  full. Each run is its own record, so a failed write leaves every earlier one as it was. */
export class StorageError extends Error {
  readonly kind: 'quota' | 'other';
  constructor(kind: 'quota' | 'other', message: string) {
    super(message);
    this.name = 'StorageError';
    this.kind = kind;
  }
}

/** A QuotaExceededError, however the browser delivers it (the request's, the transaction's). */
export function isQuotaError(e: unknown): boolean {
  return typeof DOMException !== 'undefined' && e instanceof DOMException && (e.name === 'QuotaExceededError' || e.code === 22);
}

/** `e` as a StorageError whose message says what happened and that nothing saved was lost. */
export function storageError(e: unknown): StorageError {
  if (e instanceof StorageError) return e;
  if (isQuotaError(e)) {
    return new StorageError('quota', "this browser's storage for the page is full (quota exceeded). What was saved before is kept, and this stays on the page until you leave it; clear saved runs or free space to save more");
  }
  return new StorageError('other', e instanceof Error ? e.message : String(e));
}

/** One request as a promise. */
function done<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/** A transaction as a promise that settles when it commits (or fails / aborts). */
function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted (storage full?)'));
  });
}

function idbStore(db: IDBDatabase): SavedStore {
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(SAVED_CHANNEL) : null;
  const write = async (names: StoreName[], f: (tx: IDBTransaction) => void) => {
    try {
      const tx = db.transaction(names, 'readwrite');
      const ok = committed(tx);
      f(tx);
      await ok;
    } catch (e) {
      throw storageError(e);
    }
  };
  return {
    persistent: true,
    getAll: (s) => done(db.transaction(s, 'readonly').objectStore(s).getAll()),
    get: (s, id) => done(db.transaction(s, 'readonly').objectStore(s).get(id)),
    put: async (s, id, v) => {
      await write([s], (tx) => tx.objectStore(s).put(v, id));
      channel?.postMessage({ store: s, id });
    },
    remove: (s, id) => write([s], (tx) => tx.objectStore(s).delete(id)),
    clear: () => write([...STORES], (tx) => STORES.forEach((s) => tx.objectStore(s).clear())),
    onSavedElsewhere(f) {
      if (!channel) return () => undefined;
      const listen = (e: MessageEvent) => {
        const m = e.data as { store?: unknown; id?: unknown } | null;
        if (m && STORES.includes(m.store as StoreName) && typeof m.id === 'string') f(m.store as StoreName, m.id);
      };
      channel.addEventListener('message', listen);
      return () => channel.removeEventListener('message', listen);
    },
  };
}

export interface OpenResult {
  store: SavedStore;
  /** Why the in-memory fallback is in use (null when IndexedDB works). */
  fallbackReason: string | null;
}

/**
 * Opens the database, or falls back to memory with the reason. Some private modes leave
 * open() pending forever, hence the timeout. `factory` is for tests.
 */
export async function openSavedStore(factory: IDBFactory | undefined = globalThis.indexedDB, timeoutMs = 4000): Promise<OpenResult> {
  const fallback = (reason: string): OpenResult => ({ store: memoryStore(), fallbackReason: reason });
  if (!factory) return fallback('this browser offers no IndexedDB');
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const db = await Promise.race([
      new Promise<IDBDatabase>((resolve, reject) => {
        const req = factory.open(DB_NAME, DB_VERSION);
        req.onupgradeneeded = () => {
          for (const s of STORES) if (!req.result.objectStoreNames.contains(s)) req.result.createObjectStore(s);
        };
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error ?? new Error('IndexedDB could not be opened'));
        req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab holding an older version'));
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('IndexedDB did not answer')), timeoutMs);
      }),
    ]);
    // Another tab upgrading the database: let it, and stop saving here.
    db.onversionchange = () => db.close();
    return { store: idbStore(db), fallbackReason: null };
  } catch (e) {
    return fallback(e instanceof Error ? e.message : String(e));
  } finally {
    clearTimeout(timer);
  }
}
