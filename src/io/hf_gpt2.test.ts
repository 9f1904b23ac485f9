// Hugging Face GPT-2 folders through openBase, the path real checkpoints (gpt2, gpt2-medium)
// take, on tiny random folders in the same layout (scripts/tiny_gpt2_lib.ts): every layout
// option loads to exactly the tensors written; broken folders are refused with errors that
// name the file, tensor or field and leave the input untouched; the weights stream one
// tensor per read; progress and cancellation work.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTinyGpt2, type TinyGpt2, type TinyGpt2Options, writeTinyGpt2 } from '../../scripts/tiny_gpt2_lib';
import { baseParamSpecs } from '../model/params';
import { type ByteSource, bytesFolder, fileSource } from './byte_source';
import { CheckpointError, type CheckpointErrorKind, type CheckpointFiles } from './bundle';
import { Vocab } from '../data/vocab';
import { baseFingerprint, exportBase, importBase, openBase, type OpenBaseOptions, type BaseProgress } from './hf_gpt2';
import { nodeFolderSources } from './node_source';
import { bf16ToFloat32, f16ToFloat32, float32ToBf16Bits, float32ToF16Bits, readSafetensors, type SafeTensorInput, writeSafetensors } from './safetensors';

const enc = new TextEncoder();
const dec = new TextDecoder();
const json = (b: Uint8Array) => JSON.parse(dec.decode(b));

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
// toEqual walks typed arrays element by element through its generic matcher: far too slow for megabytes.
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
function expectSameParams(got: Map<string, Float32Array> | undefined, want: Map<string, Float32Array>) {
  expect(got).toBeDefined();
  expect([...got!.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [k, v] of want) expect(bitsEqual(got!.get(k)!, v), k).toBe(true);
}

// Folders are built once per option set (the 50257-token tokenizer makes them a few MB).
const cache = new Map<string, Promise<TinyGpt2>>();
const tiny = (o: TinyGpt2Options = {}) => {
  const k = JSON.stringify(o);
  if (!cache.has(k)) cache.set(k, makeTinyGpt2({ init: 'random', seed: 7, ...o }));
  return cache.get(k)!;
};

const open = (files: CheckpointFiles, opts?: OpenBaseOptions) => openBase(bytesFolder(files), opts);

function editJson(files: CheckpointFiles, name: string, edit: (j: Record<string, unknown>) => void): CheckpointFiles {
  const j = json(files.get(name)!);
  edit(j);
  return new Map(files).set(name, enc.encode(JSON.stringify(j)));
}
function rewriteWeights(files: CheckpointFiles, edit: (t: Record<string, SafeTensorInput>) => void): CheckpointFiles {
  const f = readSafetensors(files.get('model.safetensors')!);
  const t: Record<string, SafeTensorInput> = {};
  for (const [k, v] of Object.entries(f.tensors)) t[k] = { ...v, data: v.data.slice() };
  edit(t);
  return new Map(files).set('model.safetensors', writeSafetensors(t, f.metadata));
}
const without = (files: CheckpointFiles, ...names: string[]) => {
  const out = new Map(files);
  for (const n of names) out.delete(n);
  return out;
};

/** Expects openBase to refuse with `kind`, mentioning every string, and to leave every file's bytes as they were. */
async function refused(files: CheckpointFiles, kind: CheckpointErrorKind, ...mentions: string[]): Promise<CheckpointError> {
  const snapshot = new Map([...files].map(([k, v]) => [k, v.slice()]));
  let err: unknown;
  try {
    await open(files);
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a CheckpointError').toBeInstanceOf(CheckpointError);
  const e = err as CheckpointError;
  expect(e.kind, e.message).toBe(kind);
  for (const m of mentions) expect(e.message).toContain(m);
  for (const [k, v] of snapshot) expect(sameBytes(files.get(k)!, v), `${k} unchanged`).toBe(true);
  return e;
}

describe('a Hugging Face GPT-2 folder loads as it was written', () => {
  const cases: TinyGpt2Options[] = [
    { dtype: 'F32', prefixed: true, tokenizer: 'both' },
    { dtype: 'F16', prefixed: true, tokenizer: 'json', withMaskBuffers: true, withLmHead: true },
    { dtype: 'BF16', prefixed: false, tokenizer: 'vocab-merges', withMaskBuffers: true, withLmHead: true },
    { dtype: 'F32', prefixed: false, tokenizer: 'json', withLmHead: true },
    { dtype: 'F16', prefixed: false, tokenizer: 'both', withMaskBuffers: true },
    { dtype: 'BF16', prefixed: true, tokenizer: 'vocab-merges' },
  ];
  for (const o of cases) {
    it(JSON.stringify(o), async () => {
      const t = await tiny(o);
      const b = await open(t.files, { folderName: 'tiny-gpt2' });
      expect(b.config).toEqual(t.config);
      expect(b.config.vocabSize).toBe(50257);
      expectSameParams(b.params, t.params);
      expect(b.fingerprint).toBe(await baseFingerprint(b.config, t.params));
      expect(b.recordedFingerprint).toBeNull();
      expect(b.format).toBe('huggingface');
      expect(b.modelName).toBe('tiny-gpt2');
      expect(b.vocab).toBeNull();
      expect(b.tokenizer.kind).toBe('bpe');
      expect(b.tokenizer.size).toBe(50257);
      expect(b.tokenizer.describe()).toContain(o.tokenizer === 'vocab-merges' ? 'merges.txt' : 'tokenizer.json');
      expect([...b.tokenizer.encode('Hello world')]).toEqual([15496, 995]); // GPT-2's own ids
    });
  }

  it('the same weights give the same fingerprint whatever the key prefix', async () => {
    const a = await open((await tiny({ prefixed: true })).files);
    const b = await open((await tiny({ prefixed: false })).files);
    expect(a.fingerprint).toBe(b.fingerprint);
    const c = await open((await tiny({ prefixed: true, seed: 8 })).files);
    expect(c.fingerprint).not.toBe(a.fingerprint);
  });

  it('takes modelName from _name_or_path, else a zipped/picked folder\'s directory, else "gpt2-like"', async () => {
    const t = await tiny();
    expect((await open(editJson(t.files, 'config.json', (j) => (j._name_or_path = 'openai-community/gpt2')))).modelName).toBe('openai-community/gpt2');
    const inDir = new Map([...t.files].map(([k, v]) => [`distilgpt2/${k}`, v]));
    expect((await open(inDir)).modelName).toBe('distilgpt2');
    expect((await open(t.files)).modelName).toBe('gpt2-like');
  });

  it('accepts config fields that do not change the forward pass', async () => {
    const t = await tiny();
    const b = await open(
      editJson(t.files, 'config.json', (j) => {
        Object.assign(j, { reorder_and_upcast_attn: true, activation_function: 'gelu_pytorch_tanh', n_inner: 4 * 32, resid_pdrop: 0.3, n_ctx: 1024, torch_dtype: 'bfloat16' });
      }),
    );
    expectSameParams(b.params, t.params);
  });

  it('GPT-2 initialisation gives a sane initial loss (about ln 50257 = 10.8) in a float64 forward pass', async () => {
    const t = await makeTinyGpt2({ seed: 3 }); // init: gpt2
    const p = t.params;
    expect(p.get('h.0.ln_1.weight')!.every((v) => v === 1)).toBe(true);
    expect(p.get('h.1.mlp.c_fc.bias')!.every((v) => v === 0)).toBe(true);
    const wte = p.get('wte')!;
    const std = Math.sqrt(wte.reduce((a, v) => a + v * v, 0) / wte.length);
    expect(std).toBeGreaterThan(0.019);
    expect(std).toBeLessThan(0.021);
    const ids = (await open(t.files)).tokenizer.encode('It was the best of times, it was the worst of times.');
    const loss = forwardLoss(t.config, p, ids);
    expect(Math.abs(loss - Math.log(50257))).toBeLessThan(0.5);
  });
});

/** Mean next-token cross-entropy of GPT-2 (docs/FORMAT.md §1) in float64, for the loss check above. */
function forwardLoss(c: { nLayer: number; nHead: number; nEmbd: number; vocabSize: number }, W: Map<string, Float32Array>, ids: Int32Array): number {
  const T = ids.length;
  const C = c.nEmbd;
  const H = c.nHead;
  const d = C / H;
  const g = (n: string) => W.get(n)!;
  const ln = (x: Float64Array[], w: Float32Array, b: Float32Array) =>
    x.map((r) => {
      const mu = r.reduce((a, v) => a + v, 0) / C;
      const v = r.reduce((a, x) => a + (x - mu) ** 2, 0) / C;
      return r.map((x, i) => ((x - mu) / Math.sqrt(v + 1e-5)) * w[i] + b[i]);
    });
  const mm = (x: Float64Array[], w: Float32Array, b: Float32Array, nOut: number) =>
    x.map((r) => {
      const o = Float64Array.from(b);
      for (let i = 0; i < r.length; i++) for (let j = 0; j < nOut; j++) o[j] += r[i] * w[i * nOut + j];
      return o;
    });
  const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  let x = Array.from({ length: T }, (_, t) => Float64Array.from({ length: C }, (_, i) => g('wte')[ids[t] * C + i] + g('wpe')[t * C + i]));
  for (let l = 0; l < c.nLayer; l++) {
    const h = `h.${l}.`;
    const qkv = mm(ln(x, g(h + 'ln_1.weight'), g(h + 'ln_1.bias')), g(h + 'attn.c_attn.weight'), g(h + 'attn.c_attn.bias'), 3 * C);
    const o = Array.from({ length: T }, () => new Float64Array(C));
    for (let hd = 0; hd < H; hd++)
      for (let i = 0; i < T; i++) {
        const s = Array.from({ length: i + 1 }, (_, j) => {
          let a = 0;
          for (let e = 0; e < d; e++) a += qkv[i][hd * d + e] * qkv[j][C + hd * d + e];
          return a / Math.sqrt(d);
        });
        const m = Math.max(...s);
        const w = s.map((v) => Math.exp(v - m));
        const z = w.reduce((a, v) => a + v, 0);
        for (let j = 0; j <= i; j++) for (let e = 0; e < d; e++) o[i][hd * d + e] += (w[j] / z) * qkv[j][2 * C + hd * d + e];
      }
    const a = mm(o, g(h + 'attn.c_proj.weight'), g(h + 'attn.c_proj.bias'), C);
    x = x.map((r, t) => r.map((v, i) => v + a[t][i]));
    const f = mm(ln(x, g(h + 'ln_2.weight'), g(h + 'ln_2.bias')), g(h + 'mlp.c_fc.weight'), g(h + 'mlp.c_fc.bias'), 4 * C).map((r) => r.map(gelu));
    const m2 = mm(f, g(h + 'mlp.c_proj.weight'), g(h + 'mlp.c_proj.bias'), C);
    x = x.map((r, t) => r.map((v, i) => v + m2[t][i]));
  }
  const y = ln(x, g('ln_f.weight'), g('ln_f.bias'));
  let loss = 0;
  for (let t = 0; t + 1 < T; t++) {
    const logits = new Float64Array(c.vocabSize);
    for (let v = 0; v < c.vocabSize; v++) {
      let a = 0;
      for (let i = 0; i < C; i++) a += y[t][i] * g('wte')[v * C + i];
      logits[v] = a;
    }
    const m = Math.max(...logits);
    const lse = m + Math.log(logits.reduce((a, v) => a + Math.exp(v - m), 0));
    loss += lse - logits[ids[t + 1]];
  }
  return loss / (T - 1);
}

describe('broken folders are refused, naming what is wrong, and left untouched', () => {
  it('damaged or truncated model.safetensors, and a file that shrinks while read', async () => {
    const t = await tiny();
    const w = t.files.get('model.safetensors')!;
    const e = await refused(new Map(t.files).set('model.safetensors', w.subarray(0, w.length - 100)), 'safetensors', 'model.safetensors', 'past the end of the data buffer');
    expect(e.tensor).toBeDefined();
    expect(e.message).toContain(e.tensor!);
    await refused(new Map(t.files).set('model.safetensors', w.subarray(0, 40)), 'safetensors', 'model.safetensors', 'header length', 'goes past the end of the file');
    await refused(new Map(t.files).set('model.safetensors', w.subarray(0, 5)), 'safetensors', '8-byte');
    const huge = w.slice(0, 64);
    new DataView(huge.buffer).setBigUint64(0, 200_000_000n, true);
    await refused(new Map(t.files).set('model.safetensors', huge), 'safetensors', 'exceeds the 100000000-byte limit');
    // A source whose size says more than its reads deliver (the file changed under us).
    const folder = bytesFolder(t.files);
    const real = folder.get('model.safetensors')!;
    folder.set('model.safetensors', { ...real, read: async (o, n) => (await real.read(o, n)).subarray(0, o > 1000 ? n - 1 : n) });
    await expect(openBase(folder)).rejects.toMatchObject({ kind: 'safetensors', message: expect.stringContaining('the file changed or is truncated') });
  });

  it('duplicate keys in the header, and keys mixing the two prefixes', async () => {
    const t = await tiny();
    const w = t.files.get('model.safetensors')!;
    const n = Number(new DataView(w.buffer, w.byteOffset).getBigUint64(0, true));
    const header = dec.decode(w.subarray(8, 8 + n));
    // Rename h.0.ln_1.bias to h.0.ln_2.bias in the text: same length, so every offset stays valid.
    const dup = header.replace('"transformer.h.0.ln_1.bias"', '"transformer.h.0.ln_2.bias"');
    expect(dup).not.toBe(header);
    const bytes = w.slice();
    bytes.set(enc.encode(dup), 8);
    await refused(new Map(t.files).set('model.safetensors', bytes), 'safetensors', 'model.safetensors', 'duplicate key "transformer.h.0.ln_2.bias"');
    await refused(rewriteWeights(t.files, (x) => (x['ln_f.bias'] = x['transformer.ln_f.bias'])), 'tensor-unexpected', 'mixes keys');
  });

  it('wrong shape, missing, extra and non-float tensors', async () => {
    const t = await tiny();
    const k = 'transformer.h.1.attn.c_attn.weight';
    await refused(rewriteWeights(t.files, (x) => (x[k] = { ...x[k], shape: [96, 32] })), 'shape', 'model.safetensors', k, '[32,96]', '[96,32]');
    await refused(rewriteWeights(t.files, (x) => delete x['transformer.h.0.ln_2.bias']), 'tensor-missing', 'transformer.h.0.ln_2.bias');
    await refused(rewriteWeights(t.files, (x) => (x['score.weight'] = { shape: [2, 32], data: new Float32Array(64) })), 'tensor-unexpected', 'score.weight');
    await refused(rewriteWeights(t.files, (x) => (x['transformer.h.2.ln_1.weight'] = { shape: [32], data: new Float32Array(32) })), 'tensor-unexpected', 'transformer.h.2.ln_1.weight', 'n_layer 2');
    await refused(rewriteWeights(t.files, (x) => (x['transformer.wpe.weight'] = { shape: [64, 32], data: new Float64Array(64 * 32) })), 'dtype', 'transformer.wpe.weight', 'F64');
  });

  it('an untied lm_head, even by one element or by one bit', async () => {
    const t = await tiny({ withLmHead: true });
    const untie = (at: number, f: (v: number) => number) =>
      rewriteWeights(t.files, (x) => {
        const d = x['lm_head.weight'].data as Float32Array;
        d[at] = f(d[at]);
      });
    await refused(untie(12345, (v) => v + 1), 'tensor-unexpected', 'lm_head.weight', 'tied', 'element 12345');
    // Past the first 2^20-element chunk: only the sign differs.
    await refused(untie((1 << 20) + 7, (v) => -v), 'tensor-unexpected', 'lm_head.weight', `element ${(1 << 20) + 7}`);
    await refused(rewriteWeights(t.files, (x) => (x['lm_head.weight'] = { ...x['lm_head.weight'], shape: [32, 50257] })), 'shape', 'lm_head.weight');
  });

  it('NaN or ±Inf in a tensor, naming it and the first bad element', async () => {
    const t = await tiny();
    const nan = rewriteWeights(t.files, (x) => {
      const d = x['transformer.h.1.mlp.c_fc.weight'].data as Float32Array;
      d[5 * 128 + 3] = NaN;
      d[9 * 128] = Infinity;
    });
    await refused(nan, 'non-finite', 'transformer.h.1.mlp.c_fc.weight', 'element 643', '[5,3]', 'NaN');
    const f16 = await tiny({ dtype: 'F16' });
    const inf = rewriteWeights(f16.files, (x) => ((x['transformer.wpe.weight'].data as Uint16Array)[70] = 0xfc00));
    await refused(inf, 'non-finite', 'transformer.wpe.weight', 'element 70', '-Infinity');
  });

  it('a folder with only pytorch_model.bin (or TF/Flax weights), or no weights at all', async () => {
    const t = await tiny();
    const pt = without(t.files, 'model.safetensors').set('pytorch_model.bin', new Uint8Array([0x80, 2, 0x7d]));
    const e = await refused(pt, 'missing-file', 'missing model.safetensors', 'pytorch_model.bin', 'never unpickled', 'save_pretrained(dir, safe_serialization=True)', 'Hugging Face page');
    expect(e.message).not.toContain('from_tf');
    await refused(without(t.files, 'model.safetensors').set('tf_model.h5', new Uint8Array(8)), 'missing-file', 'tf_model.h5', 'from_tf=True');
    await refused(without(t.files, 'model.safetensors'), 'missing-file', 'model.safetensors', 'config.json, vocab.json');
  });

  it('every config.json field the forward pass does not implement, by name and value', async () => {
    const t = await tiny();
    const cases: [Record<string, unknown>, ...string[]][] = [
      [{ activation_function: 'gelu' }, '"gelu"', 'erf'],
      [{ activation_function: 'relu' }, 'activation_function "relu"'],
      [{ n_inner: 100 }, 'n_inner 100', '128'],
      [{ scale_attn_by_inverse_layer_idx: true }, 'scale_attn_by_inverse_layer_idx true'],
      [{ add_cross_attention: true }, 'add_cross_attention true'],
      [{ tie_word_embeddings: false }, 'tie_word_embeddings false'],
      [{ layer_norm_epsilon: 1e-6 }, 'layer_norm_epsilon 0.000001'],
      [{ model_type: 'gpt_neo' }, 'model_type', '"gpt_neo"'],
      [{ scale_attn_weights: false }, 'scale_attn_weights false'],
      [{ n_head: 5 }, 'divisible'],
    ];
    for (const [edit, ...mentions] of cases) await refused(editJson(t.files, 'config.json', (j) => Object.assign(j, edit)), 'config', 'config.json', ...mentions);
    await refused(editJson(t.files, 'config.json', (j) => delete j.n_embd), 'json', 'config.json', '"n_embd"');
    await refused(without(t.files, 'config.json'), 'missing-file', 'config.json');
    await refused(new Map(t.files).set('config.json', t.files.get('config.json')!.subarray(0, 30)), 'json', 'config.json', 'not valid JSON');
  });

  it('tokenizer problems: missing merges.txt, a size other than vocab_size, a foreign tokenizer.json, none at all', async () => {
    const vm = (await tiny({ tokenizer: 'vocab-merges' })).files;
    await refused(without(vm, 'merges.txt'), 'missing-file', 'vocab.json', 'merges.txt');
    const both = (await tiny()).files;
    await refused(editJson(both, 'config.json', (j) => (j.vocab_size = 50258)), 'vocab', 'tokenizer.json', '50257 tokens', 'vocab_size 50258');
    await refused(editJson(vm, 'config.json', (j) => (j.vocab_size = 50000)), 'vocab', 'vocab.json + merges.txt', '50257', '50000');
    await refused(editJson(both, 'tokenizer.json', (j) => ((j.model as { type: string }).type = 'WordPiece')), 'vocab', 'tokenizer.json', 'WordPiece');
    await refused(without(both, 'tokenizer.json', 'vocab.json', 'merges.txt'), 'missing-file', 'tokenizer.json', 'merges.txt', 'vocab.json');
  });

  it('importBase (character bases only) points a BPE folder to openBase', async () => {
    await expect(importBase((await tiny()).files)).rejects.toMatchObject({ kind: 'vocab', message: expect.stringContaining('openBase') });
  });
});

describe('streaming', () => {
  /** A source that records every read and how many were in flight at once. */
  function instrument(src: ByteSource, log: { offset: number; length: number }[], inFlight: { now: number; max: number }): ByteSource {
    return {
      name: src.name,
      size: src.size,
      async read(offset, length) {
        log.push({ offset, length });
        inFlight.max = Math.max(inFlight.max, ++inFlight.now);
        try {
          await new Promise((r) => setTimeout(r, 0));
          return await src.read(offset, length);
        } finally {
          inFlight.now--;
        }
      },
    };
  }

  it('reads the header, then each tensor alone (never more than one tensor per read, one read at a time); progress reaches bytesTotal', async () => {
    const t = await tiny({ withLmHead: true, withMaskBuffers: true, dtype: 'BF16' });
    const w = t.files.get('model.safetensors')!;
    const log: { offset: number; length: number }[] = [];
    const inFlight = { now: 0, max: 0 };
    const folder = bytesFolder(t.files);
    folder.set('model.safetensors', instrument(folder.get('model.safetensors')!, log, inFlight));
    const events: BaseProgress[] = [];
    const got = new Map<string, Float32Array>();
    const order: string[] = [];
    const b = await openBase(folder, {
      onProgress: (p) => events.push(p),
      sink: (name, data) => {
        order.push(name);
        got.set(name, data);
      },
    });
    expect(b.params).toBeUndefined();
    expectSameParams(got, t.params);
    expect(order).toEqual(baseParamSpecs(t.config).map((s) => s.name).sort());
    expect(inFlight.max).toBe(1);

    // Where every tensor's bytes lie in the file.
    const n = Number(new DataView(w.buffer, w.byteOffset).getBigUint64(0, true));
    const hdr = JSON.parse(dec.decode(w.subarray(8, 8 + n))) as Record<string, { data_offsets: [number, number] }>;
    const ranges = Object.entries(hdr)
      .filter(([k]) => k !== '__metadata__')
      .map(([k, v]) => ({ k, b: 8 + n + v.data_offsets[0], e: 8 + n + v.data_offsets[1] }));
    expect(log[0]).toEqual({ offset: 0, length: 8 });
    expect(log[1]).toEqual({ offset: 8, length: n });
    const readOf = new Map<string, number>();
    for (const r of log.slice(2)) {
      const inside = ranges.filter((x) => r.offset >= x.b && r.offset + r.length <= x.e);
      expect(inside.length, `read [${r.offset}, +${r.length}) lies inside exactly one tensor`).toBe(1);
      readOf.set(inside[0].k, (readOf.get(inside[0].k) ?? 0) + r.length);
    }
    // Every weight read exactly once, in full; the mask buffers never.
    for (const x of ranges) {
      const want = /\.h\.\d+\.attn\.(masked_)?bias$/.test(x.k) ? undefined : x.e - x.b;
      expect(readOf.get(x.k), x.k).toBe(want);
    }
    // lm_head is compared with wte in chunks of at most 2^20 elements (2 bytes each in BF16).
    const head = ranges.find((x) => x.k === 'lm_head.weight')!;
    const headReads = log.filter((r) => r.offset >= head.b && r.offset < head.e);
    expect(headReads.length).toBe(Math.ceil((head.e - head.b) / 2 / 2 ** 20));
    expect(headReads.every((r) => r.length <= 2 * 2 ** 20)).toBe(true);

    const last = events[events.length - 1];
    expect(events[0]).toMatchObject({ bytesDone: 0, tensorsDone: 0, tensor: null });
    expect(last.bytesDone).toBe(last.bytesTotal);
    expect(last.tensorsDone).toBe(last.tensorsTotal);
    expect(last.tensorsTotal).toBe(order.length + 1); // + lm_head
    expect(last.bytesTotal).toBe([...readOf.values()].reduce((a, v) => a + v, 0));
    for (let i = 1; i < events.length; i++) expect(events[i].bytesDone).toBeGreaterThan(events[i - 1].bytesDone);
  });

  it('an AbortSignal stops the load with a cancellation error, and no read follows', async () => {
    const t = await tiny();
    const log: { offset: number; length: number }[] = [];
    const folder = bytesFolder(t.files);
    folder.set('model.safetensors', instrument(folder.get('model.safetensors')!, log, { now: 0, max: 0 }));
    const ac = new AbortController();
    let readsAtAbort = -1;
    const p = openBase(folder, {
      signal: ac.signal,
      onProgress: (e) => {
        if (e.tensorsDone === 3) {
          ac.abort();
          readsAtAbort = log.length;
        }
      },
    });
    await expect(p).rejects.toMatchObject({ name: 'CheckpointError', kind: 'cancelled', message: expect.stringMatching(/cancelled after 3 of 28 tensors/) });
    expect(log.length).toBe(readsAtAbort);
    const pre = new AbortController();
    pre.abort();
    await expect(open(t.files, { signal: pre.signal })).rejects.toMatchObject({ kind: 'cancelled', message: expect.stringContaining('before it started') });
  });

  it('a model and run that will not fit the device are refused with numbers from config.json alone: no tensor byte, no tokenizer byte read', async () => {
    const t = await tiny();
    const roomy = { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30, budgetBytes: 1e9 };
    const run = { adapter: { method: 'full' } as const, batch: 4, seqLen: 1000, training: true };
    const attempt = async (device: typeof roomy) => {
      const logs = new Map<string, { offset: number; length: number }[]>();
      const folder = bytesFolder(t.files);
      for (const [name, src] of folder) {
        logs.set(name, []);
        folder.set(name, instrument(src, logs.get(name)!, { now: 0, max: 0 }));
      }
      const seen: string[] = [];
      const p = openBase(folder, { fit: { run, device }, onConfig: (c, name) => void seen.push(`${name}: ${c.nLayer} layers, V ${c.vocabSize}, reads so far ${[...logs.values()].flat().length}`) });
      return { p, logs, seen };
    };
    // Full fine-tuning of the tiny GPT-2 (1.6M parameters, 6.5 MB; ×4 with gradients and AdamW) in 20 MB.
    const tight = await attempt({ ...roomy, budgetBytes: 20e6 });
    await expect(tight.p).rejects.toMatchObject({
      kind: 'config',
      message: expect.stringMatching(/^config\.json: gpt2-like \(training, full, batch 4 × sequence 64\) needs about 37\.\d MB of GPU memory \(parameters 6\.\d\d MB, optimizer 19\.\d MB, .*more than the 20\.0 MB allowed.*nothing was loaded$/),
    });
    expect(tight.logs.get('model.safetensors')).toEqual([]);
    expect(tight.logs.get('vocab.json')).toEqual([]);
    expect(tight.logs.get('tokenizer.json')).toEqual([]);
    expect(tight.seen).toEqual([]); // refused before the hook
    // wte [50257, 32] is 6.43 MB: over a 4 MB maxBufferSize, named with both sizes.
    const small = await attempt({ ...roomy, maxBufferSize: 4e6 });
    await expect(small.p).rejects.toMatchObject({ kind: 'config', message: expect.stringContaining('tensor wte needs 6.43 MB in one buffer, but this GPU\'s largest buffer is 4.00 MB') });
    expect(small.logs.get('model.safetensors')).toEqual([]);
    // Where it fits, the hook sees the config before any file but config.json is read, and the load goes on.
    const fits = await attempt(roomy);
    const b = await fits.p;
    expect(fits.seen).toEqual(['gpt2-like: 2 layers, V 50257, reads so far 1']);
    expectSameParams(b.params, t.params);
  });

  it('streams from files on disk (nodeFolderSources) and from browser File objects (fileSource)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tiny-gpt2-'));
    try {
      const written = await writeTinyGpt2(join(dir, 'tiny'), { dtype: 'F16', withLmHead: true, seed: 5, init: 'random' });
      const fromDisk = await openBase(await nodeFolderSources(join(dir, 'tiny')), { folderName: 'tiny' });
      expectSameParams(fromDisk.params, written.params);
      const files = new Map([...written.files].map(([k, v]) => [k, fileSource(new File([v as Uint8Array<ArrayBuffer>], k))]));
      const fromBlobs = await openBase(files);
      expect(fromBlobs.fingerprint).toBe(fromDisk.fingerprint);
      expectSameParams(fromBlobs.params, written.params);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('reads sharded weights (model.safetensors.index.json) and refuses inconsistent shards', async () => {
    const t = await tiny({ dtype: 'F16' });
    const st = readSafetensors(t.files.get('model.safetensors')!);
    const names = Object.keys(st.tensors);
    const shard = (ks: string[]) => writeSafetensors(Object.fromEntries(ks.map((k) => [k, st.tensors[k]])), { format: 'pt' });
    const first = names.filter((_, i) => i % 2 === 0);
    const second = names.filter((_, i) => i % 2 === 1);
    const s1 = 'model-00001-of-00002.safetensors';
    const s2 = 'model-00002-of-00002.safetensors';
    const index = (map: Record<string, string>) => enc.encode(JSON.stringify({ metadata: { total_size: 0 }, weight_map: map }));
    const weightMap = Object.fromEntries([...first.map((k) => [k, s1]), ...second.map((k) => [k, s2])]);
    const sharded = without(t.files, 'model.safetensors').set(s1, shard(first)).set(s2, shard(second)).set('model.safetensors.index.json', index(weightMap));
    const b = await open(sharded);
    expectSameParams(b.params, t.params);
    expect(b.fingerprint).toBe((await open(t.files)).fingerprint);
    await refused(new Map(sharded).set(s2, shard([...second, first[0]])), 'tensor-unexpected', first[0], 'stored twice', s1, s2);
    await refused(without(sharded, s2), 'missing-file', s2);
    await refused(new Map(sharded).set('model.safetensors.index.json', index({ ...weightMap, [first[0]]: s2 })), 'tensor-missing', first[0], s2);
  });
});

describe('our own bases go through the same path', () => {
  it('a folder zipped with a top-level directory and read through File objects loads as importBase reads it', async () => {
    const vocab = Vocab.fromText('abc');
    const cfg = { vocabSize: vocab.size, contextLength: 8, nLayer: 1, nHead: 2, nEmbd: 4 };
    const params = new Map(baseParamSpecs(cfg).map((s, i) => [s.name, Float32Array.from({ length: s.numel }, (_, j) => Math.sin(i * 100 + j))]));
    const files = await exportBase(cfg, vocab, params);
    const viaBlobs = await openBase(new Map([...files].map(([k, v]) => [`mine/${k}`, fileSource(new File([v as Uint8Array<ArrayBuffer>], k))])));
    const viaImport = await importBase(files);
    expect(viaBlobs.format).toBe('prefix-lab');
    expect(viaBlobs.modelName).toBe('mine');
    expect(viaBlobs.vocab!.chars).toEqual(vocab.chars);
    expect(viaBlobs.tokenizer).toBe(viaBlobs.vocab);
    expect(viaBlobs.fingerprint).toBe(viaImport.fingerprint);
    expect(viaImport.recordedFingerprint).toBe(viaImport.fingerprint);
    expectSameParams(viaImport.params, params);
    // Loaded tensors are copies: changing them leaves the caller's file bytes alone.
    const before = files.get('model.safetensors')!.slice();
    viaImport.params.get('wte')!.fill(0);
    expect(sameBytes(files.get('model.safetensors')!, before)).toBe(true);
  });
});

describe('F16 and BF16 rounding used by the tiny folders', () => {
  it('float32ToF16Bits inverts every half (NaN aside) and rounds to nearest even', () => {
    const halves = new Uint16Array(65536).map((_, i) => i);
    const f = f16ToFloat32(halves);
    for (let h = 0; h < 65536; h++) if (!Number.isNaN(f[h])) expect(float32ToF16Bits(f[h]), `half ${h}`).toBe(h);
    expect(float32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(float32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(float32ToF16Bits(65520)).toBe(0x7c00); // rounds past the largest half
    expect(float32ToF16Bits(2 ** -25)).toBe(0); // half of the smallest subnormal: tie → 0
    expect(float32ToF16Bits(2 ** -25 * 1.5)).toBe(1);
  });

  it('float32ToBf16Bits inverts every bfloat16 (NaN aside) and rounds to nearest even', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const f = bf16ToFloat32(all);
    for (let h = 0; h < 65536; h++) if (!Number.isNaN(f[h])) expect(float32ToBf16Bits(f[h]), `bf16 ${h}`).toBe(h);
    expect(float32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(float32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(float32ToBf16Bits(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81); // above the tie: up
    expect(Number.isNaN(bf16ToFloat32(Uint16Array.of(float32ToBf16Bits(NaN)))[0])).toBe(true);
  });
});
