// The saved store over IndexedDB (persist/db.ts) against a small in-memory IndexedDB that
// keeps a byte quota and commits or aborts whole transactions, as browsers do: a save over
// the quota fails with a StorageError saying the storage is full, and every record saved
// before stays readable; two connections (two tabs) writing at once keep each other's records.
import { describe, expect, it } from 'vitest';
import { openSavedStore, StorageError, storageError } from './db';

type Listener = (() => void) | null;

/** Just enough of IDBFactory for openSavedStore: databases shared between connections,
 *  out-of-line keys, readwrite transactions applied on commit or not at all. */
function fakeIndexedDB(quotaBytes = Infinity) {
  const dbs = new Map<string, Map<string, Map<string, unknown>>>();
  const used = () => {
    let n = 0;
    for (const db of dbs.values()) for (const s of db.values()) for (const v of s.values()) n += JSON.stringify(v).length;
    return n;
  };
  const request = <T>() => ({ result: undefined as T, error: null as unknown, onsuccess: null as Listener, onerror: null as Listener, onupgradeneeded: null as Listener, onblocked: null as Listener });
  const connect = (data: Map<string, Map<string, unknown>>) => ({
    objectStoreNames: { contains: (n: string) => data.has(n) },
    createObjectStore: (n: string) => void data.set(n, new Map()),
    onversionchange: null as Listener,
    close() {},
    transaction(names: string | string[], mode: 'readonly' | 'readwrite') {
      const staged: (() => void)[] = [];
      const tx = {
        error: null as unknown,
        oncomplete: null as Listener,
        onerror: null as Listener,
        onabort: null as Listener,
        objectStore(n: string) {
          if (!([] as string[]).concat(names).includes(n)) throw new DOMException(`${n} not in this transaction`, 'NotFoundError');
          const store = data.get(n)!;
          const op = <T>(f: () => T) => {
            const req = request<T>();
            staged.push(() => {
              req.result = f();
              req.onsuccess?.();
            });
            return req;
          };
          return {
            getAll: () => op(() => [...store.values()].map((v) => structuredClone(v))),
            get: (k: string) => op(() => structuredClone(store.get(k))),
            put: (v: unknown, k: string) => op(() => void store.set(k, structuredClone(v))),
            delete: (k: string) => op(() => void store.delete(k)),
            clear: () => op(() => store.clear()),
          };
        },
      };
      setTimeout(() => {
        // Applied to a copy first: over the quota, nothing of the transaction is kept.
        const before = new Map([...data].map(([k, s]) => [k, new Map(s)]));
        for (const f of staged) f();
        if (mode === 'readwrite' && used() > quotaBytes) {
          for (const [k, s] of before) data.set(k, s);
          tx.error = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          tx.onabort?.();
        } else tx.oncomplete?.();
      }, 0);
      return tx;
    },
  });
  const factory = {
    open(name: string) {
      const req = request<unknown>();
      setTimeout(() => {
        let data = dbs.get(name);
        const fresh = !data;
        if (!data) dbs.set(name, (data = new Map()));
        req.result = connect(data);
        if (fresh) req.onupgradeneeded?.();
        req.onsuccess?.();
      }, 0);
      return req;
    },
  };
  return { factory: factory as unknown as IDBFactory, used };
}

const run = (id: string, points = 20) => ({ version: 1, id, savedAt: 1, run: { id, train: Array.from({ length: points }, (_, i) => ({ step: i + 1, loss: 3 - i / points })) } });

describe('the saved store when the storage quota runs out', () => {
  it('refuses the save with a message saying the storage is full, and keeps every earlier run', async () => {
    const size = JSON.stringify(run('run-1')).length;
    const idb = fakeIndexedDB(2.5 * size);
    const { store, fallbackReason } = await openSavedStore(idb.factory);
    expect(fallbackReason).toBeNull();
    expect(store.persistent).toBe(true);
    await store.put('runs', 'run-1', run('run-1'));
    await store.put('runs', 'run-2', run('run-2'));
    let err: unknown;
    await store.put('runs', 'run-3', run('run-3')).catch((e) => (err = e));
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).kind).toBe('quota');
    expect((err as StorageError).message).toMatch(/storage for the page is full \(quota exceeded\).*saved before is kept/);
    expect(((await store.getAll('runs')) as { id: string }[]).map((r) => r.id).sort()).toEqual(['run-1', 'run-2']);
    // Overwriting a saved run with a bigger one fails the same way and leaves the old one.
    await expect(store.put('runs', 'run-1', run('run-1', 80))).rejects.toMatchObject({ kind: 'quota' });
    expect(((await store.getAll('runs')) as { run: { train: unknown[] } }[]).map((r) => r.run.train.length)).toEqual([20, 20]);
    // After removing one, the next save fits again.
    await store.remove('runs', 'run-2');
    await store.put('runs', 'run-3', run('run-3'));
    expect(((await store.getAll('runs')) as { id: string }[]).map((r) => r.id).sort()).toEqual(['run-1', 'run-3']);
  });

  it('names other failures as they are, and recognises a QuotaExceededError by its legacy code too', () => {
    expect(storageError(new Error('disk on fire'))).toMatchObject({ kind: 'other', message: 'disk on fire' });
    const legacy = Object.assign(Object.create(DOMException.prototype) as DOMException, {});
    Object.defineProperty(legacy, 'code', { value: 22 });
    Object.defineProperty(legacy, 'name', { value: 'NS_ERROR_DOM_QUOTA_REACHED' });
    expect(storageError(legacy).kind).toBe('quota');
    expect(storageError(new DOMException('x', 'QuotaExceededError')).kind).toBe('quota');
  });
});

describe('two tabs saving at once', () => {
  it('keep every run of both: each run is its own record, never the whole list rewritten', async () => {
    const idb = fakeIndexedDB();
    const [a, b] = await Promise.all([openSavedStore(idb.factory), openSavedStore(idb.factory)]);
    const ids = (tab: string) => Array.from({ length: 12 }, (_, i) => `run-${i + 1}-${tab}`);
    await Promise.all([...ids('a').map((id) => a.store.put('runs', id, run(id, 3))), ...ids('b').map((id) => b.store.put('runs', id, run(id, 3)))]);
    const want = [...ids('a'), ...ids('b')].sort();
    for (const tab of [a, b]) expect(((await tab.store.getAll('runs')) as { id: string }[]).map((r) => r.id).sort()).toEqual(want);
  });

  it("tell each other which run they saved, after it committed, so each tab can show the other's", async () => {
    const idb = fakeIndexedDB();
    const [a, b] = await Promise.all([openSavedStore(idb.factory), openSavedStore(idb.factory)]);
    const heard: { tab: string; store: string; id: string; there: boolean }[] = [];
    const stops = [a, b].map((t, i) =>
      t.store.onSavedElsewhere(async (store, id) => heard.push({ tab: 'ab'[i], store, id, there: (await t.store.get(store, id)) !== undefined })),
    );
    await a.store.put('runs', 'run-1-a', run('run-1-a', 2));
    await b.store.put('files', 'file-1-b', { bytes: new Uint8Array(3) });
    await expect.poll(() => heard.length).toBe(2);
    expect(heard).toEqual([
      { tab: 'b', store: 'runs', id: 'run-1-a', there: true },
      { tab: 'a', store: 'files', id: 'file-1-b', there: true },
    ]);
    // A refused save says nothing; an unsubscribed tab hears nothing more.
    stops.forEach((stop) => stop());
    await a.store.put('runs', 'run-2-a', run('run-2-a', 2));
    await new Promise((r) => setTimeout(r, 20));
    expect(heard).toHaveLength(2);
  });
});
