// Generation against a fake engine: it asks for the newest finished run, streams the base's
// and the adapted model's text, and refuses a bad field by its name.
import { beforeEach, describe, expect, it } from 'vitest';
import { startRun } from '../store';
import { generateText } from './generation';
import { useExperiments } from './state';
import { connectTestEngine, type TestEngine } from './testEngine';

let e: TestEngine;
beforeEach(() => {
  e = connectTestEngine();
});

describe('generation', () => {
  it('asks for the newest finished run and streams both texts', async () => {
    startRun();
    e.finish(e.starts()[0].runId, 'done');
    const runId = e.starts()[0].runId;
    expect(generateText({ prompt: 'ab', maxNewTokens: '3', temperature: '0', topK: '0', seed: '7' })).toBe(true);
    const req = e.sent[e.sent.length - 1];
    expect(req).toMatchObject({ type: 'generate', runId, prompt: 'ab', maxNewTokens: 3, temperature: 0, topK: 0, seed: 7 });
    const requestId = (req as { requestId: number }).requestId;
    e.worker.reply({ type: 'generate-started', requestId, adapted: 'prefix m=5', unknown: [] });
    for (const [which, t] of [['base', 'x'], ['base', 'y'], ['adapted', 'z']] as const) e.worker.reply({ type: 'generate-token', requestId, which, text: t });
    expect(useExperiments.getState().gen).toMatchObject({ status: 'running', base: 'xy', adapted: 'z', adaptedMethod: 'prefix m=5' });
    e.worker.reply({ type: 'generated', requestId, base: 'xyw', adapted: 'zzz', adaptedError: null });
    await e.worker.settle();
    expect(useExperiments.getState().gen).toMatchObject({ status: 'done', base: 'xyw', adapted: 'zzz' });
    expect(generateText({ prompt: 'ab', maxNewTokens: '0', temperature: '0', topK: '0', seed: '7' })).toBe(false);
    expect(useExperiments.getState().gen).toMatchObject({ status: 'failed', error: expect.stringMatching(/^Characters to generate/) });
  });

  it('a refused form while a request is going keeps that request and says why', () => {
    expect(generateText({ prompt: 'ab', maxNewTokens: '3', temperature: '0', topK: '0', seed: '7' })).toBe(true);
    const requests = e.sent.length;
    expect(generateText({ prompt: '', maxNewTokens: '3', temperature: '0', topK: '0', seed: '7' })).toBe(false);
    expect(e.sent).toHaveLength(requests);
    expect(useExperiments.getState().gen).toMatchObject({ status: 'queued', prompt: 'ab', error: expect.stringMatching(/^Prompt:/) });
  });
});
