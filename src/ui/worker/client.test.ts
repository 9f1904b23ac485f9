// The engine client against a fake worker port: requests get ids and settle with their own
// reply (out of order too), progress arrives before the outcome, errors and cancellation
// are values, a dead worker settles everything, and step events are batched in order.
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../train/events';
import { createEngineClient, offlineEngine, type WorkerPort } from './client';
import type { EngineEvent, FromWorker, ToWorker } from './protocol';

function port() {
  const sent: ToWorker[] = [];
  const p: WorkerPort = { postMessage: (m) => void sent.push(m), onmessage: null, onerror: null, terminate: () => undefined };
  return { p, sent, reply: (m: FromWorker) => p.onmessage!({ data: m }), last: () => sent[sent.length - 1] };
}

const idOf = (m: ToWorker) => (m as { requestId: number }).requestId;
const exported = (requestId: number, fingerprint: string): FromWorker => ({ type: 'exported', requestId, kind: 'base', files: new Map(), fingerprint });

describe('engine client', () => {
  it('gives each request its own id and settles it with its own reply, in any order', async () => {
    const w = port();
    const c = createEngineClient(w.p);
    const a = c.request({ type: 'export-base' });
    const b = c.request({ type: 'export-adapter', runId: 'run-1' });
    expect(w.sent.map((m) => m.type)).toEqual(['export-base', 'export-adapter']);
    const [ia, ib] = w.sent.map(idOf);
    expect(ia).not.toBe(ib);
    expect([a.id, b.id]).toEqual([String(ia), String(ib)]);
    w.reply(exported(ib, 'bbbb'));
    w.reply(exported(ia, 'aaaa'));
    expect(await a.result).toMatchObject({ ok: true, value: { fingerprint: 'aaaa' } });
    expect(await b.result).toMatchObject({ ok: true, value: { fingerprint: 'bbbb' } });
  });

  it('turns a refusal into an error value, not a thrown error', async () => {
    const w = port();
    const c = createEngineClient(w.p);
    const r = c.request({ type: 'export-adapter', runId: 'gone' });
    w.reply({ type: 'exchange-failed', requestId: idOf(w.last()), message: 'no trained tensors for run gone' });
    expect(await r.result).toEqual({ ok: false, error: { kind: 'failed', message: 'no trained tensors for run gone' } });
  });

  it('delivers a job\'s progress before its outcome; Stop goes to the worker and settles as cancelled', async () => {
    const w = port();
    const c = createEngineClient(w.p);
    const seen: string[] = [];
    const job = c.request({ type: 'experiment-start', kind: 'approx', config: {} }, (m) => seen.push(m.type));
    const start = w.last() as Extract<ToWorker, { type: 'experiment-start' }>;
    expect(start.jobId).toBe(job.id);
    w.reply({ type: 'experiment-started', jobId: job.id, note: 'x' });
    w.reply({ type: 'experiment-progress', jobId: 'another-job', done: 1, total: 2, label: '' }); // not ours
    w.reply({ type: 'experiment-progress', jobId: job.id, done: 1, total: 2, label: 'm=1' });
    expect(seen).toEqual(['experiment-started', 'experiment-progress']);
    job.cancel();
    expect(w.last()).toEqual({ type: 'experiment-stop', jobId: job.id });
    w.reply({ type: 'experiment-finished', jobId: job.id, aborted: true, elapsedMs: 3 });
    expect(await job.result).toEqual({ ok: false, error: { kind: 'cancelled', message: 'stopped' } });
  });

  it('cancels a request the worker cannot stop at once, and drops its late reply', async () => {
    const w = port();
    const c = createEngineClient(w.p);
    const gen = c.request({ type: 'generate', runId: null, prompt: 'a', maxNewTokens: 1, temperature: 0, topK: 0, seed: 1 }, () => {
      throw new Error('no progress after cancel');
    });
    const n = w.sent.length;
    gen.cancel();
    expect(w.sent.length).toBe(n); // nothing to tell the worker
    expect(await gen.result).toMatchObject({ ok: false, error: { kind: 'cancelled' } });
    w.reply({ type: 'generate-token', requestId: Number(gen.id), which: 'base', text: 'b' });
    w.reply({ type: 'generated', requestId: Number(gen.id), base: 'b', adapted: null, adaptedError: null });
  });

  it('reads a cancelled folder load and a stopped pretraining as cancellation, other failures as failures', async () => {
    const w = port();
    const c = createEngineClient(w.p);
    const open = c.request({ type: 'open-base', files: [], folderName: 'gpt2' });
    open.cancel();
    expect(w.last()).toEqual({ type: 'cancel-open-base', requestId: Number(open.id) });
    w.reply({ type: 'open-base-failed', requestId: Number(open.id), message: 'cancelled: the base model is unchanged', cancelled: true });
    expect(await open.result).toMatchObject({ ok: false, error: { kind: 'cancelled' } });

    const pre = c.request({ type: 'pretrain-base', settings: {} as never });
    // One at a time: a second is refused here, as a value.
    expect(await c.request({ type: 'pretrain-base', settings: {} as never }).result).toMatchObject({ ok: false, error: { kind: 'failed' } });
    w.reply({ type: 'pretrain-failed', message: 'out of memory', stopped: false });
    expect(await pre.result).toEqual({ ok: false, error: { kind: 'failed', message: 'out of memory' } });
  });

  it('settles every open request when the worker dies, and says so as an event', async () => {
    const w = port();
    const c = createEngineClient(w.p);
    const events: EngineEvent[] = [];
    c.on((e) => events.push(e));
    const r = c.request({ type: 'export-base' });
    w.p.onerror!({ message: 'script failed to load' });
    expect(await r.result).toEqual({ ok: false, error: { kind: 'crashed', message: 'script failed to load' } });
    expect(events).toEqual([{ type: 'crashed', message: 'script failed to load' }]);
  });

  it('batches step events, flushes them before any other message, and shows status changes at once', () => {
    const w = port();
    const c = createEngineClient(w.p, { batchMs: 60_000 });
    const events: EngineEvent[] = [];
    const off = c.on((e) => events.push(e));
    const step = (s: number): RunEvent => ({ type: 'step', runId: 'r', step: s, totalSteps: 9, trainLoss: 1, lr: 1, gradNorm: 1, tokensPerSec: null, msPerStep: null, gpuBytes: 0 });
    w.reply({ type: 'event', event: step(1) });
    w.reply({ type: 'event', event: step(2) });
    expect(events).toEqual([]);
    w.reply({ type: 'device-lost', message: 'reset' });
    w.reply({ type: 'event', event: step(3) });
    w.reply({ type: 'event', event: { type: 'status', runId: 'r', state: 'done' } });
    expect(events).toEqual([
      { type: 'run-events', events: [step(1), step(2)] },
      { type: 'device-lost', message: 'reset' },
      { type: 'run-events', events: [step(3), { type: 'status', runId: 'r', state: 'done' }] },
    ]);
    off();
    w.reply({ type: 'device-lost', message: 'again' });
    expect(events).toHaveLength(3);
  });

  it('without a worker, commands go nowhere and requests fail as values', async () => {
    expect(offlineEngine.send({ type: 'init' })).toBe(false);
    expect(await offlineEngine.request({ type: 'export-base' }).result).toMatchObject({ ok: false, error: { kind: 'no-engine' } });
  });
});
