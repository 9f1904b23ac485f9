// The IndexedDB store of character-level bases (the pretrained-base cache and the user's
// chosen base): records of config, vocabulary, tensors and the page's info. Any failure (no
// IndexedDB, private mode, quota) reads as "nothing stored" or comes back as a message.
import { Vocab } from '../../data';
import { baseFingerprint } from '../../io/checkpoint';
import { baseParamSpecs, type ModelConfig } from '../../model/params';
import type { BaseInfo } from './protocol';

const DB_NAME = 'prefix-lab';
const STORE = 'base-models';

/** One stored base, as structured clone keeps it. */
export interface StoredBase {
  config: ModelConfig;
  chars: string[];
  params: [string, Float32Array][];
  info: BaseInfo;
}

function openDb(): Promise<IDBDatabase | null> {
  if (typeof indexedDB === 'undefined') return Promise.resolve(null);
  return new Promise((resolve) => {
    try {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => resolve(null);
      req.onblocked = () => resolve(null);
    } catch {
      resolve(null);
    }
  });
}

/** The record under `key`, or null (none, or no IndexedDB). */
export async function readStored(key: string): Promise<StoredBase | null> {
  const db = await openDb();
  if (!db) return null;
  try {
    return await new Promise<StoredBase | null>((resolve) => {
      try {
        const req = db.transaction(STORE, 'readonly').objectStore(STORE).get(key);
        req.onsuccess = () => resolve((req.result as StoredBase | undefined) ?? null);
        req.onerror = () => resolve(null);
      } catch {
        resolve(null);
      }
    });
  } finally {
    db.close();
  }
}

/** Stores `value` under `key` (null: delete it); resolves to null, or why it failed. */
export async function writeStored(key: string, value: StoredBase | null): Promise<string | null> {
  const db = await openDb();
  if (!db) return 'this browser offers no IndexedDB here';
  const failed = await new Promise<string | null>((resolve) => {
    try {
      const tx = db.transaction(STORE, 'readwrite');
      if (value) tx.objectStore(STORE).put(value, key);
      else tx.objectStore(STORE).delete(key);
      tx.oncomplete = () => resolve(null);
      tx.onerror = () => resolve(tx.error?.message ?? 'IndexedDB refused the write');
      tx.onabort = () => resolve(tx.error?.message ?? 'IndexedDB aborted the write (storage full?)');
    } catch (e) {
      resolve(e instanceof Error ? e.message : String(e));
    }
  });
  db.close();
  return failed;
}

/** A stored record's base, or null when it does not fit its own config (a half-written or
 *  older record); a record from before fingerprints were stored is fingerprinted now. */
export async function baseFromStored(s: StoredBase): Promise<{ config: ModelConfig; vocab: Vocab; params: Map<string, Float32Array>; fingerprint: string } | null> {
  try {
    const params = new Map(s.params);
    const vocab = Vocab.fromJSON({ chars: s.chars });
    const fits = baseParamSpecs(s.config).every((sp) => params.get(sp.name)?.length === sp.numel) && vocab.size === s.config.vocabSize;
    if (!fits) return null;
    return { config: s.config, vocab, params, fingerprint: s.info.fingerprint ?? (await baseFingerprint(s.config, params)) };
  } catch {
    return null; // a record this version cannot read
  }
}
