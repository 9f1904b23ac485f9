// "Open a Hugging Face GPT-2 folder" in the engine worker: the page posts the picked File
// objects; this reads them through File.slice (base.ts openPickedBase → src/lab/base.ts),
// posting progress in bytes and tensors, honours Cancel through an AbortSignal, and on
// success replaces the worker's base (the path an imported base takes) and keeps the files
// in OPFS for the next visit. On any failure the current base stays as it was.
import { CheckpointError } from '../../io/checkpoint';
import type { DeviceBudget, PlannedRun } from '../../model/memory';
import { openPickedBase } from './base_picked';
import type { WorkerBase } from './worker_base';
import type { FromWorker, ToWorker } from './protocol';

export interface OpenBaseDeps {
  post: (m: FromWorker) => void;
  currentBase: () => Promise<WorkerBase> | null;
  /** Makes `b` the base and keeps it for the next visit (b.info.notKept says if that failed). */
  replaceBase: (b: WorkerBase, onKeep?: (done: number, total: number) => void) => Promise<void>;
  /** The device a picked model must fit (checked from its config.json, before any weight is
   *  read); null or absent: no check (no GPU yet). */
  fitDevice?: () => Promise<DeviceBudget | null>;
}

/** The least any use of a base needs: its weights and one token's inference. A model over
 *  the device's limits is refused before a weight is read; run-sized checks come after. */
const SMALLEST_RUN: PlannedRun = { adapter: { method: 'none' }, batch: 1, seqLen: 1, training: false };

type OpenMsg = Extract<ToWorker, { type: 'open-base' }>;

export function createOpenBase(d: OpenBaseDeps) {
  let current: { requestId: number; abort: AbortController } | null = null;

  async function open(m: OpenMsg) {
    // A second folder replaces a load still going (one load at a time).
    current?.abort.abort();
    const abort = new AbortController();
    const mine = { requestId: m.requestId, abort };
    current = mine;
    const label = m.folderName ?? (m.files.length === 1 ? m.files[0].name : 'picked files');
    try {
      if (!m.files.length) throw new Error('no files were picked');
      d.post({ type: 'open-base-progress', requestId: m.requestId, progress: { phase: 'reading', bytesDone: 0, bytesTotal: 0, tensorsDone: 0, tensorsTotal: 0 } });
      const device = (await d.fitDevice?.()) ?? null;
      const b = await openPickedBase(m.files, label, {
        signal: abort.signal,
        ...(device ? { fit: { run: SMALLEST_RUN, device } } : {}),
        onProgress: (p) =>
          d.post({ type: 'open-base-progress', requestId: m.requestId, progress: { phase: 'weights', bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, tensorsDone: p.tensorsDone, tensorsTotal: p.tensorsTotal } }),
      });
      // Past this point the new base is complete: a late Cancel no longer applies.
      if (abort.signal.aborted) throw new CheckpointError('cancelled', 'cancelled: the base model is unchanged');
      const cur = d.currentBase();
      const previous = cur ? await cur.then((p) => p.fingerprint, () => null) : null;
      await d.replaceBase(b, (done, total) =>
        d.post({ type: 'open-base-progress', requestId: m.requestId, progress: { phase: 'keeping', bytesDone: done, bytesTotal: total, tensorsDone: 0, tensorsTotal: 0 } }),
      );
      d.post({ type: 'base-ready', info: b.info });
      d.post({ type: 'open-base-done', requestId: m.requestId, info: b.info, fingerprint: b.fingerprint, previousFingerprint: previous });
    } catch (e) {
      const cancelled = abort.signal.aborted;
      const message = cancelled ? 'cancelled: the base model is unchanged' : e instanceof Error ? e.message : String(e);
      d.post({ type: 'open-base-failed', requestId: m.requestId, message, cancelled });
    } finally {
      if (current === mine) current = null;
    }
  }

  function cancel(requestId: number) {
    if (current?.requestId === requestId) current.abort.abort();
  }

  return { open: (m: OpenMsg) => void open(m), cancel };
}
