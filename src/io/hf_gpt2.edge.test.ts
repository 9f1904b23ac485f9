// openBase/exportBase edge cases on tiny in-memory folders (found by mutation testing,
// docs/TESTING.md): every config.json refusal by message, the written config and tensor
// names, tokenizer export and reading (a 258-token byte-level BPE instead of GPT-2's 50257,
// so each case takes milliseconds), shards, foreign weight files, the load plan's
// refusals, progress, cancellation at each stage and the folder's name.
import { describe, expect, it } from 'vitest';
import { BYTE_CHARS, bpeFromTokenizerJson, GPT2_EOS, tokenizerJsonFromVocabMerges } from '../data/bpe';
import { Vocab } from '../data/vocab';
import { LN_EPS } from '../kernels/layernorm';
import { baseParamSpecs, type ModelConfig } from '../model/params';
import { Rng } from '../util/rng';
import { rejected, thrown } from '../util/thrown';
import { type ByteSource, bytesFolder, bytesSource } from './byte_source';
import { CheckpointError, type CheckpointErrorKind, type CheckpointFiles } from './bundle';
import { baseExportProblem, baseFingerprint, type BaseProgress, exportBase, gpt2Config, gpt2ConfigFromJson, hfName, importBase, openBase, type OpenBaseOptions, readGpt2Config } from './hf_gpt2';
import { readSafetensors, type SafeTensorInput, writeSafetensors } from './safetensors';

const enc = new TextEncoder();
const dec = new TextDecoder();
const vocab = Vocab.fromText('abcde');
const cfg: ModelConfig = { vocabSize: vocab.size, contextLength: 3, nLayer: 2, nHead: 2, nEmbd: 4 };
const C = cfg.nEmbd;
const rng = new Rng(11);
const paramsFor = (c: ModelConfig) => new Map(baseParamSpecs(c).map((s) => [s.name, Float32Array.from({ length: s.numel }, () => rng.normal())]));
const params = paramsFor(cfg);
const files = await exportBase(cfg, vocab, params);
const fp = await baseFingerprint(cfg, params);

// A byte-level BPE of 258 tokens: the 256 byte characters, "ab" and <|endoftext|>.
const bpeVocab: Record<string, number> = Object.fromEntries(BYTE_CHARS.map((c, i) => [c, i]));
bpeVocab.ab = 256;
bpeVocab[GPT2_EOS] = 257;
const MERGES = '#version: 0.2\na b\n';
const tokenizerJson = tokenizerJsonFromVocabMerges(bpeVocab, MERGES);
const bpeCfg: ModelConfig = { ...cfg, vocabSize: 258 };
const bpeParams = paramsFor(bpeCfg);
const bpeTokenizer = bpeFromTokenizerJson(tokenizerJson);
const bpeFiles = await exportBase(bpeCfg, { tokenizer: bpeTokenizer, vocab: null, tokenizerFiles: new Map([['tokenizer.json', enc.encode(JSON.stringify(tokenizerJson))]]) }, bpeParams);

const json = (b: Uint8Array) => JSON.parse(dec.decode(b)) as Record<string, unknown>;
const open = (f: CheckpointFiles, opts?: OpenBaseOptions) => openBase(bytesFolder(f), opts);
function editJson(f: CheckpointFiles, name: string, edit: (j: Record<string, unknown>) => void): CheckpointFiles {
  const j = json(f.get(name)!);
  edit(j);
  return new Map(f).set(name, enc.encode(JSON.stringify(j)));
}
function rewriteWeights(f: CheckpointFiles, edit: (t: Record<string, SafeTensorInput>) => void, name = 'model.safetensors'): CheckpointFiles {
  const st = readSafetensors(f.get(name)!);
  const t: Record<string, SafeTensorInput> = { ...st.tensors };
  edit(t);
  return new Map(f).set(name, writeSafetensors(t, st.metadata));
}
const without = (f: CheckpointFiles, ...names: string[]) => {
  const out = new Map(f);
  for (const n of names) out.delete(n);
  return out;
};
async function refusal(f: CheckpointFiles | Map<string, ByteSource>, opts?: OpenBaseOptions): Promise<{ kind: CheckpointErrorKind; message: string; file?: string; tensor?: string }> {
  const folder = [...f.values()][0] instanceof Uint8Array ? bytesFolder(f as CheckpointFiles) : (f as Map<string, ByteSource>);
  const e = await rejected(CheckpointError, openBase(folder, opts));
  return { kind: e.kind, message: e.message, file: e.file, tensor: e.tensor };
}
const fromConfig = (j: Record<string, unknown>) => thrown(CheckpointError, () => gpt2ConfigFromJson(j));

describe('the exported folder', () => {
  it('config.json is GPT2Config with our record', () => {
    expect(json(files.get('config.json')!)).toEqual({
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      vocab_size: cfg.vocabSize,
      n_positions: 3,
      n_embd: 4,
      n_layer: 2,
      n_head: 2,
      n_inner: null,
      activation_function: 'gelu_new',
      layer_norm_epsilon: LN_EPS,
      initializer_range: 0.02,
      resid_pdrop: 0,
      embd_pdrop: 0,
      attn_pdrop: 0,
      scale_attn_weights: true,
      scale_attn_by_inverse_layer_idx: false,
      reorder_and_upcast_attn: false,
      tie_word_embeddings: true,
      use_cache: true,
      bos_token_id: null,
      eos_token_id: null,
      torch_dtype: 'float32',
      prefix_lab: {
        format_version: 1,
        fingerprint: fp,
        tokenizer: 'character-level, vocab.json {"chars": [...]}: token id i is chars[i], id 0 = U+FFFD (unknown)',
      },
    });
    expect(gpt2Config(cfg, 'x').prefix_lab).toMatchObject({ fingerprint: 'x' });
  });
  it('tensors under GPT2LMHeadModel keys, F32, metadata format pt, and the vocabulary', () => {
    const st = readSafetensors(files.get('model.safetensors')!);
    expect(Object.keys(st.tensors).sort()).toEqual(baseParamSpecs(cfg).map((s) => hfName(s.name)).sort());
    expect(hfName('wte')).toBe('transformer.wte.weight');
    expect(hfName('wpe')).toBe('transformer.wpe.weight');
    expect(hfName('h.1.ln_2.bias')).toBe('transformer.h.1.ln_2.bias');
    expect(st.tensors['transformer.h.1.mlp.c_fc.weight'].shape).toEqual([C, 4 * C]);
    expect(Object.values(st.tensors).every((t) => t.dtype === 'F32')).toBe(true);
    expect({ ...st.metadata }).toEqual({ format: 'pt' });
    expect(Array.from(st.tensors['transformer.wte.weight'].data as Float32Array)).toEqual(Array.from(params.get('wte')!));
    expect(json(files.get('vocab.json')!)).toEqual(vocab.toJSON());
    expect([...files.keys()].sort()).toEqual(['config.json', 'model.safetensors', 'vocab.json']);
  });
  it('baseFingerprint names a missing or wrong-size tensor and ignores extra ones', async () => {
    const p = new Map(params);
    p.set('wpe', new Float32Array(2));
    const e = await rejected(CheckpointError, baseFingerprint(cfg, p));
    expect([e.kind, e.message, e.tensor]).toEqual(['params', `base parameter wpe: expected 12 values [3,4], got 2`, 'wpe']);
    p.delete('wpe');
    expect((await rejected(CheckpointError, baseFingerprint(cfg, p))).message).toBe('base parameter wpe: expected 12 values [3,4], got none');
    expect(await baseFingerprint(cfg, new Map([...params, ['h.0.lora.A', new Float32Array(3)]]))).toBe(fp);
    // The config is hashed too: one head of 4 instead of two of 2 has the same tensors.
    expect(await baseFingerprint({ ...cfg, nHead: 1 }, params)).not.toBe(fp);
  });
  it('refuses an invalid config and a vocabulary of another size', async () => {
    const e = await rejected(CheckpointError, exportBase({ ...cfg, nHead: 3 }, vocab, params));
    expect(e.kind).toBe('params');
    expect(e.message).toMatch(/^invalid model config: ./);
    const v = await rejected(CheckpointError, exportBase({ ...cfg, vocabSize: 7 }, vocab, paramsFor({ ...cfg, vocabSize: 7 })));
    expect([v.kind, v.message]).toEqual(['vocab', `the vocabulary has ${vocab.size} characters but the model's vocabSize is 7`]);
    // A BaseTokenizer holding a Vocab is written as the character vocabulary.
    const viaTok = await exportBase(cfg, { tokenizer: vocab, vocab }, params);
    expect(json(viaTok.get('vocab.json')!)).toEqual(vocab.toJSON());
  });
});

describe('BPE tokenizer files on export', () => {
  const tok = (tokenizerFiles?: CheckpointFiles) => ({ tokenizer: bpeTokenizer, vocab: null, tokenizerFiles });
  const tj = enc.encode(JSON.stringify(tokenizerJson));
  const vj = enc.encode(JSON.stringify(bpeVocab));
  const mt = enc.encode(MERGES);
  it('says why a base cannot be written without its files', () => {
    expect(baseExportProblem(vocab)).toBeNull();
    expect(baseExportProblem({ tokenizer: vocab, vocab })).toBeNull();
    expect(baseExportProblem(tok(new Map([['tokenizer.json', tj]])))).toBeNull();
    expect(baseExportProblem(tok(new Map([['vocab.json', vj], ['merges.txt', mt]])))).toBeNull();
    const d = bpeTokenizer.describe();
    expect(baseExportProblem(tok(new Map([['vocab.json', vj]])))).toBe(`the ${d} tokenizer's files are not at hand to write beside the weights (need tokenizer.json, or vocab.json + merges.txt; have vocab.json)`);
    expect(baseExportProblem(tok(new Map([['merges.txt', mt], ['readme.md', mt]])))).toContain('have merges.txt, readme.md)');
    expect(baseExportProblem(tok(new Map()))).toContain('; have none)');
    expect(baseExportProblem(tok())).toContain('; have none kept)');
  });
  it('copies every tokenizer file there is, main files first; config.json describes them', async () => {
    const side = enc.encode('{"model_max_length": 1024}');
    const kept = new Map([
      ['special_tokens_map.json', enc.encode('{}')],
      ['merges.txt', mt],
      ['tokenizer_config.json', side],
      ['vocab.json', vj],
      ['unrelated.txt', enc.encode('x')],
    ]);
    const out = await exportBase(bpeCfg, tok(kept), bpeParams);
    expect([...out.keys()]).toEqual(['config.json', 'model.safetensors', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json']);
    expect(dec.decode(out.get('tokenizer_config.json')!)).toBe('{"model_max_length": 1024}');
    side[0] = 0x20; // the export holds copies
    expect(dec.decode(out.get('tokenizer_config.json')!)).toBe('{"model_max_length": 1024}');
    const c = json(out.get('config.json')!);
    expect(c.bos_token_id).toBe(257);
    expect(c.eos_token_id).toBe(257);
    expect((c.prefix_lab as { tokenizer: string }).tokenizer).toBe(`${bpeTokenizer.describe()}: vocab.json + merges.txt as the original base had them`);
    const both = await exportBase(bpeCfg, tok(new Map([['vocab.json', vj], ['tokenizer.json', tj], ['merges.txt', mt]])), bpeParams);
    expect([...both.keys()].slice(2)).toEqual(['tokenizer.json', 'vocab.json', 'merges.txt']);
    expect((json(both.get('config.json')!).prefix_lab as { tokenizer: string }).tokenizer).toBe(`${bpeTokenizer.describe()}: tokenizer.json as the original base had them`);
  });
  it('refuses missing files and a tokenizer of another size', async () => {
    const e = await rejected(CheckpointError, exportBase(bpeCfg, tok(new Map([['vocab.json', vj]])), bpeParams));
    expect(e.kind).toBe('vocab');
    expect(e.message).toContain('not at hand');
    const s = await rejected(CheckpointError, exportBase(cfg, tok(new Map([['tokenizer.json', tj]])), params));
    expect([s.kind, s.message]).toEqual(['vocab', `the tokenizer has 258 tokens but the model's vocabSize is ${cfg.vocabSize}`]);
  });
});

describe('config.json fields', () => {
  const good = json(files.get('config.json')!);
  const msg = (edit: Record<string, unknown>) => {
    const e = fromConfig({ ...good, ...edit });
    expect(e.kind).toBe('config');
    expect(e.file).toBe('config.json');
    return e.message.replace(/^config\.json: /, '');
  };
  it('refuses each setting the forward pass does not implement, by name and value', () => {
    expect(msg({ model_type: 'bert' })).toBe('model_type must be "gpt2", got "bert"');
    expect(msg({ n_head: 3 })).not.toBe('');
    expect(msg({ activation_function: 'gelu' })).toBe('activation_function "gelu" is not supported: in transformers it is the exact erf GELU, and this model computes the tanh approximation ("gelu_new")');
    expect(msg({ activation_function: 'relu' })).toBe('activation_function "relu" is not supported (only the tanh GELU: "gelu_new", "gelu_pytorch_tanh" or "gelu_fast")');
    expect(msg({ layer_norm_epsilon: 1e-6 })).toBe('layer_norm_epsilon 0.000001 is not supported (the LayerNorm kernel uses 0.00001)');
    expect(msg({ n_inner: 10 })).toBe('n_inner 10 is not supported (the MLP width is 4·n_embd = 16)');
    expect(msg({ tie_word_embeddings: false })).toBe('tie_word_embeddings false is not supported (the output head is wte)');
    expect(msg({ scale_attn_weights: false })).toBe('scale_attn_weights false is not supported (scores are scaled by 1/√d)');
    expect(msg({ scale_attn_by_inverse_layer_idx: true })).toBe('scale_attn_by_inverse_layer_idx true is not supported (scores are not divided by the layer number)');
    expect(msg({ add_cross_attention: true })).toBe('add_cross_attention true is not supported (a decoder-only model: no cross-attention blocks)');
    expect(msg({ is_encoder_decoder: true })).toBe('is_encoder_decoder true is not supported (a decoder-only model)');
  });
  it('accepts the defaults left out and the equivalent spellings', () => {
    const want = { vocabSize: cfg.vocabSize, contextLength: 3, nLayer: 2, nHead: 2, nEmbd: 4 };
    const minimal = { vocab_size: cfg.vocabSize, n_positions: 3, n_layer: 2, n_head: 2, n_embd: 4 };
    expect(gpt2ConfigFromJson(minimal)).toEqual(want);
    for (const act of ['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast']) expect(gpt2ConfigFromJson({ ...minimal, activation_function: act })).toEqual(want);
    for (const n_inner of [null, 16]) expect(gpt2ConfigFromJson({ ...minimal, n_inner })).toEqual(want);
    expect(gpt2ConfigFromJson({ ...minimal, layer_norm_epsilon: 1e-5, tie_word_embeddings: true, scale_attn_weights: true, scale_attn_by_inverse_layer_idx: false, add_cross_attention: false, is_encoder_decoder: false, reorder_and_upcast_attn: true })).toEqual(want);
    expect(readGpt2Config(files)).toEqual(want);
    expect(thrown(CheckpointError, () => readGpt2Config(without(files, 'config.json'))).message).toBe('missing config.json (the GPT-2 config); the files present are model.safetensors, vocab.json');
    expect(fromConfig({ ...minimal, n_embd: 0 }).kind).toBe('json');
  });
});

describe('opening: files and names', () => {
  it('names the folder: _name_or_path, else folderName, else the one top-level directory, else gpt2-like', async () => {
    const nested = new Map([...files].map(([k, v]) => [`my-model/${k}`, v]));
    nested.set('__MACOSX/my-model/._config.json', new Uint8Array(3));
    expect((await open(nested)).modelName).toBe('my-model');
    expect((await open(nested, { folderName: 'picked' })).modelName).toBe('picked');
    expect((await open(editJson(nested, 'my-model/config.json', (j) => (j._name_or_path = 'org/name')), { folderName: 'picked' })).modelName).toBe('org/name');
    expect((await open(editJson(files, 'config.json', (j) => (j._name_or_path = '  ')))).modelName).toBe('gpt2-like');
    expect((await open(editJson(files, 'config.json', (j) => (j._name_or_path = 5)))).modelName).toBe('gpt2-like');
    expect((await open(files)).modelName).toBe('gpt2-like');
    // Files at the top and in a directory: nothing is stripped.
    const mixed = new Map(files).set('extra/readme.md', new Uint8Array(1));
    expect((await open(mixed)).modelName).toBe('gpt2-like');
    const twoDirs = new Map([...files].map(([k, v]) => [`a/${k}`, v])).set('b/x', new Uint8Array(1));
    expect((await refusal(twoDirs)).message).toBe('missing config.json (the GPT-2 config); the files present are a/config.json, a/model.safetensors, a/vocab.json, b/x');
  });
  it('reports what it read: fingerprint, the recorded one, the format, the params', async () => {
    const b = await open(files);
    expect(b.fingerprint).toBe(fp);
    expect(b.recordedFingerprint).toBe(fp);
    expect(b.format).toBe('prefix-lab');
    expect(b.config).toEqual(cfg);
    expect(b.vocab?.toJSON()).toEqual(vocab.toJSON());
    expect(b.tokenizer).toBe(b.vocab);
    expect([...b.params!.keys()].sort()).toEqual([...params.keys()].sort());
    for (const [k, v] of params) expect(Array.from(b.params!.get(k)!), k).toEqual(Array.from(v));
    for (const rec of [null, 'x', { fingerprint: 5 }]) {
      const hf = await open(editJson(files, 'config.json', (j) => (j.prefix_lab = rec)));
      expect(hf.recordedFingerprint, JSON.stringify(rec)).toBeNull();
      expect(hf.format).toBe(rec !== null && typeof rec === 'object' ? 'prefix-lab' : 'huggingface');
    }
    const hf = await open(editJson(files, 'config.json', (j) => delete j.prefix_lab));
    expect(hf.format).toBe('huggingface');
    expect(hf.fingerprint).toBe(fp);
  });
  it('an empty folder, and one without config.json, list what is there', async () => {
    expect(await refusal(new Map([['x', bytesSource('x', new Uint8Array(0))]]))).toMatchObject({ kind: 'missing-file', message: 'missing config.json (the GPT-2 config); the files present are x' });
    expect((await rejected(CheckpointError, openBase(new Map()))).message).toBe('missing config.json (the GPT-2 config); the files present are none');
  });
  it('refuses a config or tokenizer file that is too big or reads short, before parsing it', async () => {
    const huge: ByteSource = { name: 'config.json', size: 256 * 1024 * 1024 + 1, read: () => Promise.reject(new Error('must not read')) };
    expect(await refusal(new Map([...bytesFolder(files), ['config.json', huge]]))).toMatchObject({ kind: 'json', message: `config.json: is ${256 * 1024 * 1024 + 1} bytes, more than the ${256 * 1024 * 1024} a config or tokenizer file may have` });
    const atLimit: ByteSource = { name: 'config.json', size: 256 * 1024 * 1024, read: async () => new Uint8Array(3) };
    expect((await refusal(new Map([...bytesFolder(files), ['config.json', atLimit]]))).kind).toBe('json');
    expect((await refusal(new Map([...bytesFolder(files), ['config.json', atLimit]]))).message).toBe(`config.json: read 3 of its ${256 * 1024 * 1024} bytes (the file changed or is truncated)`);
  });
});

describe('opening: the tokenizer', () => {
  const bpeFolder = (f: Record<string, Uint8Array | null>) => {
    const out = without(bpeFiles, 'tokenizer.json');
    for (const [k, v] of Object.entries(f)) if (v) out.set(k, v);
    return out;
  };
  const tj = enc.encode(JSON.stringify(tokenizerJson));
  const vj = enc.encode(JSON.stringify(bpeVocab));
  it('tokenizer.json first, else vocab.json + merges.txt', async () => {
    const a = await open(bpeFiles);
    expect(a.vocab).toBeNull();
    expect(a.tokenizer.size).toBe(258);
    expect(a.tokenizer.describe()).toContain('tokenizer.json');
    const b = await open(bpeFolder({ 'vocab.json': vj, 'merges.txt': enc.encode(MERGES) }));
    expect(b.tokenizer.describe()).toContain('vocab.json + merges.txt');
    expect(b.format).toBe('prefix-lab');
    // tokenizer.json wins even beside a (broken) vocab.json.
    expect((await open(bpeFolder({ 'tokenizer.json': tj, 'vocab.json': enc.encode('{"chars": 5}') }))).tokenizer.size).toBe(258);
    const e = await rejected(CheckpointError, importBase(bpeFiles));
    expect([e.kind, e.message]).toEqual(['vocab', `this base has a ${a.tokenizer.describe()} tokenizer, not a character vocabulary; importBase reads character-level bases only (use openBase)`]);
  });
  it('names the tokenizer file and its problem', async () => {
    const bad = { ...tokenizerJson, pre_tokenizer: { type: 'Whitespace' } };
    const e = await refusal(bpeFolder({ 'tokenizer.json': enc.encode(JSON.stringify(bad)) }));
    expect(e.kind).toBe('vocab');
    expect(e.file).toBe('tokenizer.json');
    expect(e.message).toMatch(/^tokenizer\.json: the pre-tokenizer is "Whitespace"/);
    const m = await refusal(bpeFolder({ 'vocab.json': vj, 'merges.txt': enc.encode('a z9\n') }));
    expect(m.kind).toBe('vocab');
    expect(m.file).toBe('vocab.json + merges.txt');
    expect(m.message).toMatch(/^vocab\.json \+ merges\.txt: merge 0/);
    // merges.txt is decoded leniently: a bad byte is a merge the vocabulary lacks, not a crash.
    const badUtf8 = await refusal(bpeFolder({ 'vocab.json': vj, 'merges.txt': Uint8Array.from([...enc.encode('a b\n'), 0xff, 0x20, 0x62, 0x0a]) }));
    expect(badUtf8).toMatchObject({ kind: 'vocab', file: 'vocab.json + merges.txt' });
    expect(badUtf8.message).toContain('merge 1');
    expect(await refusal(bpeFolder({ 'vocab.json': vj }))).toMatchObject({
      kind: 'missing-file',
      message: 'vocab.json: is a BPE vocabulary {token: id}, which needs merges.txt (or tokenizer.json) beside it; the files present are config.json, model.safetensors, vocab.json',
    });
    expect(await refusal(bpeFolder({}))).toMatchObject({
      kind: 'missing-file',
      message: 'missing the tokenizer: tokenizer.json, or vocab.json + merges.txt (GPT-2\'s BPE), or a character vocab.json {"chars": [...]}; the files present are config.json, model.safetensors',
    });
    expect(await refusal(editJson(bpeFiles, 'config.json', (j) => (j.vocab_size = 259)))).toMatchObject({ kind: 'vocab', message: 'tokenizer.json: the tokenizer has 258 tokens but config.json says vocab_size 259; they must be equal' });
  });
  it('a character vocab.json: bad content, another size', async () => {
    const bad = await refusal(new Map(files).set('vocab.json', enc.encode('{"chars": 5}')));
    expect(bad.kind).toBe('vocab');
    expect(bad.file).toBe('vocab.json');
    expect(bad.message.startsWith('vocab.json: ')).toBe(true);
    const other = await refusal(new Map(files).set('vocab.json', enc.encode(JSON.stringify(Vocab.fromText('abcdef').toJSON()))));
    expect(other).toMatchObject({ kind: 'vocab', message: `vocab.json: has ${vocab.size + 1} characters but config.json says vocab_size ${vocab.size}` });
  });
});

describe('opening: where the weights are', () => {
  it('only foreign weights: names them and how to convert', async () => {
    const w = without(files, 'model.safetensors');
    const one = await refusal(new Map(w).set('pytorch_model.bin', new Uint8Array(1)));
    expect(one.kind).toBe('missing-file');
    expect(one.message).toMatch(/^missing model\.safetensors: the weights are only in pytorch_model\.bin \(a PyTorch pickle, which is never unpickled here \(loading a pickle can run arbitrary code\)\)\. Download model\.safetensors from/);
    expect(one.message).toContain("or convert the folder in Python: from transformers import GPT2LMHeadModel; GPT2LMHeadModel.from_pretrained(dir).save_pretrained(dir, safe_serialization=True)");
    expect(one.message).toMatch(/safe_serialization=True\)$/);
    const shardedBin = (await refusal(new Map(w).set('pytorch_model-00001-of-00002.bin', new Uint8Array(1)))).message;
    expect(shardedBin).toMatch(/only in pytorch_model\.bin \(a PyTorch pickle, which is never unpickled here \(loading a pickle can run arbitrary code\)\)\. Download/);
    expect(shardedBin).toMatch(/safe_serialization=True\)$/);
    for (const notBin of ['xpytorch_model-1-of-2.bin', 'pytorch_model-1-of-2.bin.bak']) {
      expect((await refusal(new Map(w).set(notBin, new Uint8Array(1)))).message, notBin).toBe(`missing model.safetensors (the weights); the files present are config.json, vocab.json, ${notBin}`);
    }
    expect((await refusal(new Map(w).set('pytorch_model.bin.index.json', new Uint8Array(1)))).message).toContain('only in pytorch_model.bin.index.json (sharded PyTorch pickles');
    const tf = await refusal(new Map(w).set('tf_model.h5', new Uint8Array(1)).set('flax_model.msgpack', new Uint8Array(1)));
    expect(tf.message).toContain('only in tf_model.h5 (TensorFlow weights) and flax_model.msgpack (Flax weights).');
    expect(tf.message).toMatch(/ \(from TensorFlow weights: from_pretrained\(dir, from_tf=True\)\) \(from Flax weights: from_pretrained\(dir, from_flax=True\)\)$/);
    expect(await refusal(w)).toMatchObject({ kind: 'missing-file', message: 'missing model.safetensors (the weights); the files present are config.json, vocab.json' });
    // A folder of one file is not taken for a directory to strip.
    expect((await refusal(new Map([['config.json', files.get('config.json')!]]))).message).toBe('missing model.safetensors (the weights); the files present are config.json');
    expect((await refusal(new Map(w).set('pytorch_model-1-of-x.bin', new Uint8Array(1)))).message).toMatch(/^missing model\.safetensors \(the weights\)/);
  });

  // Two shards: wte and wpe in one, the rest in the other.
  const st = readSafetensors(files.get('model.safetensors')!);
  const keys = Object.keys(st.tensors);
  const first = keys.filter((k) => /wte|wpe/.test(k));
  const pick = (ks: string[]) => Object.fromEntries(ks.map((k) => [k, st.tensors[k]]));
  const sharded = (map: unknown, shards: Record<string, string[]> = { 'a.safetensors': first, 'part-b.safetensors': keys.filter((k) => !first.includes(k)) }) => {
    const out = without(files, 'model.safetensors');
    for (const [name, ks] of Object.entries(shards)) out.set(name, writeSafetensors(pick(ks)));
    return out.set('model.safetensors.index.json', enc.encode(JSON.stringify({ metadata: {}, weight_map: map })));
  };
  // Shard a's keys first, so that a is opened first.
  const goodMap = Object.fromEntries([...first.map((k) => [k, 'a.safetensors']), ...keys.filter((k) => !first.includes(k)).map((k) => [k, 'part-b.safetensors'])]);
  it('reads shards as one file', async () => {
    const b = await open(sharded(goodMap));
    expect(b.fingerprint).toBe(fp);
  });
  it('refuses a malformed weight_map and shard names outside the folder', async () => {
    for (const map of [null, [1], 'x', undefined]) {
      expect(await refusal(sharded(map)), JSON.stringify(map)).toMatchObject({ kind: 'json', message: 'model.safetensors.index.json: "weight_map" must map tensor names to shard files' });
    }
    for (const shard of ['../a.safetensors', 'd/a.safetensors', 'd\\a.safetensors', '.a.safetensors', 'a.bin', 'a.safetensors.bak', 5]) {
      const r = await refusal(sharded({ ...goodMap, [first[0]]: shard }));
      expect(r, String(shard)).toMatchObject({ kind: 'json', message: `model.safetensors.index.json: weight_map[${JSON.stringify(first[0])}] must be a .safetensors file in this folder, got ${JSON.stringify(shard)}` });
    }
  });
  it('refuses missing shards, tensors stored twice, unlisted or absent', async () => {
    const missing = sharded({ ...goodMap, [first[0]]: 'c.safetensors' });
    expect(await refusal(missing)).toMatchObject({ kind: 'missing-file', message: `missing c.safetensors, a shard model.safetensors.index.json names (for ${first[0]}); the files present are config.json, vocab.json, a.safetensors, part-b.safetensors, model.safetensors.index.json` });
    const twice = sharded(goodMap, { 'a.safetensors': first, 'part-b.safetensors': keys });
    const t = await refusal(twice);
    expect(t).toMatchObject({ kind: 'tensor-unexpected', file: 'part-b.safetensors' });
    expect(t.message).toMatch(/^part-b\.safetensors: tensor transformer\.w[tp]e\.weight is stored twice: in a\.safetensors and in part-b\.safetensors$/);
    const unlisted = sharded({ ...goodMap, [first[1]]: 'part-b.safetensors' }, { 'a.safetensors': first, 'part-b.safetensors': keys.filter((k) => !first.includes(k)).concat(first[1]) });
    expect(await refusal(unlisted)).toMatchObject({ kind: 'tensor-unexpected', tensor: first[1], message: `a.safetensors: tensor ${first[1]} is not listed for this shard in model.safetensors.index.json` });
    const absent = sharded(goodMap, { 'a.safetensors': [first[0]], 'part-b.safetensors': keys.filter((k) => !first.includes(k)) });
    expect(await refusal(absent)).toMatchObject({ kind: 'tensor-missing', tensor: first[1], message: `a.safetensors: missing tensor ${first[1]}, which model.safetensors.index.json places in this shard` });
  });
  it('a damaged header is a safetensors error naming the file', async () => {
    const bad = new Map(files).set('model.safetensors', files.get('model.safetensors')!.slice(0, 5));
    expect(await refusal(bad)).toMatchObject({ kind: 'safetensors', file: 'model.safetensors' });
  });
});

describe('opening: the load plan', () => {
  const wte = 'transformer.wte.weight';
  it('refuses mixed prefixes, missing tensors, wrong shapes and dtypes, naming the tensor', async () => {
    const mixed = rewriteWeights(files, (t) => {
      t['h.0.ln_1.weight'] = t['transformer.h.0.ln_1.weight'];
      delete t['transformer.h.0.ln_1.weight'];
    });
    expect(await refusal(mixed)).toMatchObject({ kind: 'tensor-unexpected', message: 'model.safetensors: mixes keys with and without the "transformer." prefix' });
    const wpeOnly = rewriteWeights(files, (t) => {
      t['wpe.weight'] = t['transformer.wpe.weight'];
    });
    expect((await refusal(wpeOnly)).message).toContain('mixes keys');
    expect(await refusal(rewriteWeights(files, (t) => delete t['transformer.h.1.mlp.c_proj.bias']))).toMatchObject({
      kind: 'tensor-missing',
      tensor: 'transformer.h.1.mlp.c_proj.bias',
      message: 'model.safetensors: missing tensor transformer.h.1.mlp.c_proj.bias (expected shape [4])',
    });
    expect(await refusal(rewriteWeights(files, (t) => (t[wte] = { shape: [cfg.vocabSize * C], data: params.get('wte')! })))).toMatchObject({ kind: 'shape', tensor: wte });
    expect(await refusal(rewriteWeights(files, (t) => (t[wte] = { shape: [cfg.vocabSize, C], data: new Float64Array(cfg.vocabSize * C) })))).toMatchObject({ kind: 'dtype', tensor: wte });
  });
  it('reads keys without the prefix and accepts the old mask buffers in any dtype', async () => {
    const plain = rewriteWeights(files, (t) => {
      for (const k of Object.keys(t)) {
        t[k.slice('transformer.'.length)] = t[k];
        delete t[k];
      }
      for (let l = 0; l < 2; l++) {
        t[`h.${l}.attn.bias`] = { dtype: 'BOOL', shape: [1, 1, 3, 3], data: new Uint8Array(9) };
        t[`h.${l}.attn.masked_bias`] = { shape: [], data: Float32Array.from([-1e4]) };
      }
    });
    expect((await open(plain)).fingerprint).toBe(fp);
    const prefixed = rewriteWeights(files, (t) => {
      for (let l = 0; l < 2; l++) t[`transformer.h.${l}.attn.masked_bias`] = { dtype: 'I32', shape: [1], data: new Int32Array(1) };
    });
    expect((await open(prefixed)).fingerprint).toBe(fp);
    expect(await refusal(rewriteWeights(files, (t) => (t['transformer.h.2.attn.bias'] = { dtype: 'BOOL', shape: [1], data: new Uint8Array(1) })))).toMatchObject({ kind: 'tensor-unexpected', tensor: 'transformer.h.2.attn.bias' });
    // Without the prefix, a prefixed buffer name is not a known key.
    const wrong = rewriteWeights(plain, (t) => (t['transformer.h.0.attn.bias'] = { shape: [1], data: new Float32Array(1) }));
    expect((await refusal(wrong)).message).toContain('mixes keys');
  });
  it('names unexpected tensors: one, or the first five of many', async () => {
    const one = await refusal(rewriteWeights(files, (t) => (t['transformer.h.2.ln_1.weight'] = { shape: [4], data: new Float32Array(4) })));
    expect(one).toMatchObject({ kind: 'tensor-unexpected', tensor: 'transformer.h.2.ln_1.weight', message: 'model.safetensors: unexpected tensor transformer.h.2.ln_1.weight (not part of GPT-2 with n_layer 2)' });
    const many = await refusal(
      rewriteWeights(files, (t) => {
        for (let i = 0; i < 6; i++) t[`transformer.x${i}`] = { shape: [1], data: new Float32Array(1) };
      }),
    );
    expect(many.message).toBe('model.safetensors: unexpected tensors transformer.x0, transformer.x1, transformer.x2, transformer.x3, transformer.x4, … (6 in all) (not part of GPT-2 with n_layer 2)');
    const five = await refusal(
      rewriteWeights(files, (t) => {
        for (let i = 0; i < 5; i++) t[`transformer.x${i}`] = { shape: [1], data: new Float32Array(1) };
      }),
    );
    expect(five.message).toBe('model.safetensors: unexpected tensors transformer.x0, transformer.x1, transformer.x2, transformer.x3, transformer.x4 (not part of GPT-2 with n_layer 2)');
  });
  it('a stored lm_head: tied is read and counted, a wrong shape, dtype or value is refused', async () => {
    const head = (data: Float32Array | Float64Array, shape = [cfg.vocabSize, C]) => rewriteWeights(files, (t) => (t['lm_head.weight'] = { shape, data }));
    const events: BaseProgress[] = [];
    const b = await open(head(params.get('wte')!.slice()), { onProgress: (p) => events.push(p) });
    expect(b.fingerprint).toBe(fp);
    const n = baseParamSpecs(cfg).length;
    const bytes = baseParamSpecs(cfg).reduce((a, s) => a + 4 * s.numel, 0) + 4 * cfg.vocabSize * C;
    expect(events[0]).toEqual({ bytesDone: 0, bytesTotal: bytes, tensorsDone: 0, tensorsTotal: n + 1, tensor: null });
    expect(events.at(-1)).toMatchObject({ bytesDone: bytes, tensorsDone: n + 1 });
    const h = events.findIndex((p) => p.tensor === 'lm_head.weight');
    expect(events[h + 1].tensor).toBe(wte);
    expect(events[h].bytesDone).toBe(events[h - 1].bytesDone + 4 * cfg.vocabSize * C);
    expect(await refusal(head(params.get('wte')!.slice(C), [cfg.vocabSize - 1, C]))).toMatchObject({ kind: 'shape', tensor: 'lm_head.weight' });
    expect(await refusal(head(Float64Array.from(params.get('wte')!)))).toMatchObject({ kind: 'dtype', tensor: 'lm_head.weight' });
    const untied = params.get('wte')!.slice();
    const at = 2 * C + 3;
    untied[at] = 0.5;
    const e = await refusal(head(untied));
    expect(e).toMatchObject({ kind: 'tensor-unexpected', tensor: 'lm_head.weight' });
    expect(e.message).toBe(`model.safetensors: lm_head.weight differs from the token embedding wte (first at element ${at}, [2,3]: 0.5 vs ${params.get('wte')![at]}); only tied heads are supported`);
    const last = params.get('wte')!.slice();
    last[last.length - 1] += 1;
    expect((await refusal(head(last))).message).toContain(`first at element ${last.length - 1}, [${cfg.vocabSize - 1},${C - 1}]`);
  });
  it('progress without lm_head: one event per tensor, in fingerprint order, bytes as stored', async () => {
    const events: BaseProgress[] = [];
    const seen: string[] = [];
    const b = await open(files, { onProgress: (p) => events.push(p), sink: (name, data) => void seen.push(`${name}:${data.length}`) });
    expect(b.params).toBeUndefined();
    const specs = baseParamSpecs(cfg);
    const order = specs.map((s) => s.name).sort();
    expect(seen).toEqual(order.map((n) => `${n}:${specs.find((s) => s.name === n)!.numel}`));
    expect(events.length).toBe(specs.length + 1);
    expect(events.map((p) => p.tensor)).toEqual([null, ...order.map(hfName)]);
    expect(events.map((p) => p.tensorsDone)).toEqual(events.map((_, i) => i));
    expect(events.every((p) => p.tensorsTotal === specs.length)).toBe(true);
    const total = specs.reduce((a, s) => a + 4 * s.numel, 0);
    expect(events.at(-1)).toEqual({ bytesDone: total, bytesTotal: total, tensorsDone: specs.length, tensorsTotal: specs.length, tensor: hfName(order.at(-1)!) });
  });
  it('a tensor that reads short, and a non-finite element, name the tensor', async () => {
    const src = bytesFolder(files);
    const w = src.get('model.safetensors')!;
    let reads = 0;
    const shrinking: ByteSource = { ...w, read: async (o, n) => (++reads > 3 ? (await w.read(o, n)).subarray(1) : w.read(o, n)) };
    const r = await refusal(new Map(src).set('model.safetensors', shrinking));
    expect(r.kind).toBe('safetensors');
    expect(r.file).toBe('model.safetensors');
    expect(r.tensor).toMatch(/^transformer\./);
    const nan = params.get('h.0.ln_2.bias')!.slice();
    nan[1] = NaN;
    const bad = rewriteWeights(files, (t) => (t['transformer.h.0.ln_2.bias'] = { shape: [C], data: nan }));
    expect(await refusal(bad)).toMatchObject({ kind: 'non-finite', tensor: 'transformer.h.0.ln_2.bias' });
    // A head that reads short is named too.
    const withHead = rewriteWeights(files, (t) => (t['lm_head.weight'] = { shape: [cfg.vocabSize, C], data: params.get('wte')!.slice() }));
    const hs = bytesFolder(withHead);
    const hw = hs.get('model.safetensors')!;
    // wte and lm_head are the only tensors of this size: the first such read is wte, the second the head.
    const headBytes = 4 * cfg.vocabSize * C;
    reads = 0;
    const shortHead: ByteSource = { ...hw, read: async (o, n) => (n === headBytes && reads++ === 1 ? (await hw.read(o, n)).subarray(1) : hw.read(o, n)) };
    const h = await refusal(new Map(hs).set('model.safetensors', shortHead));
    expect(h).toMatchObject({ kind: 'safetensors', file: 'model.safetensors', tensor: 'lm_head.weight' });
  });
});

describe('opening: read errors that are not format errors', () => {
  it('pass through unchanged from the header, a tensor and the stored head', async () => {
    const withHead = rewriteWeights(files, (t) => (t['lm_head.weight'] = { shape: [cfg.vocabSize, C], data: params.get('wte')!.slice() }));
    const headBytes = 4 * cfg.vocabSize * C;
    // Fails the n-th read of model.safetensors, or the second read of headBytes (the head; wte is the first).
    const failing = (failAt: (read: number, length: number, sized: number) => boolean) => {
      const src = bytesFolder(withHead);
      const w = src.get('model.safetensors')!;
      let reads = 0;
      let sized = 0;
      return new Map(src).set('model.safetensors', {
        ...w,
        read: (o: number, n: number) => {
          reads++;
          if (n === headBytes) sized++;
          return failAt(reads, n, sized) ? Promise.reject(new Error('EIO')) : w.read(o, n);
        },
      });
    };
    for (const failAt of [(r: number) => r === 2, (r: number) => r === 4, (_r: number, n: number, k: number) => n === headBytes && k === 2]) {
      const e = await rejected(Error, openBase(failing(failAt)));
      expect(e).not.toBeInstanceOf(CheckpointError);
      expect(e.message).toBe('EIO');
    }
  });
});

describe('opening: cancellation and the pre-load checks', () => {
  const cancelledAt = async (abortWhen: (c: AbortController) => OpenBaseOptions & { folder?: Map<string, ByteSource> }) => {
    const c = new AbortController();
    const { folder, ...opts } = abortWhen(c);
    const e = await rejected(CheckpointError, openBase(folder ?? bytesFolder(files), { ...opts, signal: c.signal }));
    expect(e.kind).toBe('cancelled');
    expect((e as { cause?: unknown }).cause).toBe('why');
    return e.message.replace('loading the base model was cancelled ', '');
  };
  it('names the stage it stopped at', async () => {
    expect(
      await cancelledAt((c) => {
        c.abort('why');
        return {};
      }),
    ).toBe('before it started');
    expect(await cancelledAt((c) => ({ onConfig: () => c.abort('why') }))).toBe('before reading the tokenizer');
    const tokenizerAborts = (c: AbortController) => {
      const src = bytesFolder(files);
      const v = src.get('vocab.json')!;
      return { folder: new Map(src).set('vocab.json', { ...v, read: (o: number, n: number) => (c.abort('why'), v.read(o, n)) }) };
    };
    expect(await cancelledAt(tokenizerAborts)).toBe('before reading the weights');
    const n = baseParamSpecs(cfg).length;
    let calls = 0;
    let readsAtAbort = -1;
    let reads = 0;
    const counted = () => {
      const src = bytesFolder(files);
      const w = src.get('model.safetensors')!;
      return new Map(src).set('model.safetensors', { ...w, read: (o: number, k: number) => (reads++, w.read(o, k)) });
    };
    expect(
      await cancelledAt((c) => ({
        folder: counted(),
        sink: () => {
          if (++calls === 2) {
            c.abort('why');
            readsAtAbort = reads;
          }
        },
      })),
    ).toBe(`after 2 of ${n} tensors`);
    expect(reads).toBe(readsAtAbort); // no read after the abort
    // Aborted during a tensor's read: stopped before that tensor is used.
    const readAborts = (c: AbortController) => {
      const src = bytesFolder(files);
      const w = src.get('model.safetensors')!;
      let reads = 0;
      return { folder: new Map(src).set('model.safetensors', { ...w, read: (o: number, k: number) => (++reads === 3 && c.abort('why'), w.read(o, k)) }), sink: () => void calls++ };
    };
    calls = 0;
    expect(await cancelledAt(readAborts)).toBe(`after 0 of ${n} tensors`);
    expect(calls).toBe(0);
  });
  it('aborted while wte is read: stopped before the stored head is compared', async () => {
    const withHead = rewriteWeights(files, (t) => (t['lm_head.weight'] = { shape: [cfg.vocabSize, C], data: params.get('wte')!.slice() }));
    const c = new AbortController();
    const src = bytesFolder(withHead);
    const w = src.get('model.safetensors')!;
    const headBytes = 4 * cfg.vocabSize * C;
    let wteRead = 0;
    // wte and lm_head have the same size: abort once wte has been read, before the head's read.
    const folder = new Map(src).set('model.safetensors', { ...w, read: async (o: number, k: number) => {
      const b = await w.read(o, k);
      if (k === headBytes && ++wteRead === 1) queueMicrotask(() => c.abort('why'));
      return b;
    } });
    const e = await rejected(CheckpointError, openBase(folder, { signal: c.signal }));
    expect(e.kind).toBe('cancelled');
    // wte is last in fingerprint order; 28 base tensors + the head.
    expect(e.message).toBe('loading the base model was cancelled after 27 of 29 tensors');
  });
  it('fit: a run that does not fit is refused from config.json alone', async () => {
    const run = { adapter: { method: 'full' as const }, batch: 2, seqLen: 3, training: true };
    const e = await refusal(files, { fit: { run, device: { maxBufferSize: 1 << 30, maxStorageBufferBindingSize: 1 << 30, budgetBytes: 100 } } });
    expect(e.kind).toBe('config');
    expect(e.file).toBe('config.json');
    expect(e.message).toMatch(/^config\.json: .*gpt2-like.*; nothing was loaded$/);
    const ok = await open(files, { fit: { run, device: { maxBufferSize: 1 << 30, maxStorageBufferBindingSize: 1 << 30, budgetBytes: 1 << 30 } } });
    expect(ok.fingerprint).toBe(fp);
  });
  it('onConfig sees the config and the name, and may refuse', async () => {
    let seen: unknown;
    await open(files, { folderName: 'f', onConfig: (c, name) => void (seen = { c, name }) });
    expect(seen).toEqual({ c: cfg, name: 'f' });
    const e = await rejected(Error, open(files, { onConfig: () => Promise.reject(new Error('no thanks')) }));
    expect(e.message).toBe('no thanks');
  });
});
