// Property tests of the JSON files a bundle carries: adapter_config.json through
// importAdapter, config.json and vocab.json through importBase. Any value at any place
// (wrong types, huge or negative numbers, missing keys, deep nesting, damaged bytes) gives
// one of the project's errors (CheckpointError, SafetensorsError, DataError), never a
// TypeError or RangeError from a field read without checking.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError } from '../data/errors';
import { Vocab } from '../data/vocab';
import { adapterParamSpecs, baseParamSpecs, type AdapterSpec, type ModelConfig } from '../model/params';
import { Rng } from '../util/rng';
import { baseFingerprint, CheckpointError, exportAdapter, exportBase, importAdapter, importBase, type CheckpointFiles } from './checkpoint';
import { SafetensorsError } from './safetensors';

const OURS = [CheckpointError, SafetensorsError, DataError];
function isOurs(e: unknown): boolean {
  return OURS.some((C) => e instanceof C);
}
async function onlyOurErrors(fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!isOurs(e)) throw e;
  }
}

const vocab = Vocab.fromText('abcdé😀 ');
const cfg: ModelConfig = { vocabSize: vocab.size, contextLength: 7, nLayer: 2, nHead: 2, nEmbd: 6 };
const rng = new Rng(7);
const base = new Map(baseParamSpecs(cfg).map((s) => [s.name, Float32Array.from({ length: s.numel }, () => rng.normal())]));
const ADAPTERS: AdapterSpec[] = [
  { method: 'prefix', prefixLength: 3 },
  { method: 'lora', rank: 2, alpha: 4 },
  { method: 'ntk', featureMap: 'elu1', kParam: 'abs', rank: 0 },
  { method: 'ntk', featureMap: 'taylor2', kParam: 'softplus', rank: 2 },
];

const enc = new TextEncoder();
const dec = new TextDecoder();

const DEEP = '__deep_nesting__';
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
/** Every path (list of keys / indices) in a JSON value, the root included. */
function paths(v: Json, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}
/** v with the value at `path` replaced (or deleted when `value` is undefined). */
function edit(v: Json, path: (string | number)[], value: Json | undefined): Json {
  if (path.length === 0) return value === undefined ? null : value;
  const copy = (Array.isArray(v) ? [...v] : { ...(v as object) }) as Record<string | number, Json>;
  const [k, ...rest] = path;
  if (rest.length === 0 && value === undefined) delete copy[k];
  else copy[k] = edit(copy[k], rest, value);
  return copy as Json;
}

/** Hostile values: numbers at the edges, wrong types, deep nesting. */
const hostile: fc.Arbitrary<Json | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(-1, 0, 0.5, 1e308, -1e308, 2 ** 53, 2 ** 31, 1e9, -0, '', '0', 'NaN', true, false, null, [], {}),
  fc.jsonValue({ depthSize: 'small' }) as fc.Arbitrary<Json>,
  // Deep nesting, written into the text as a marker (a deep value would overflow
  // JSON.stringify's stack in the test itself).
  fc.integer({ min: 2, max: 10_000 }).map((depth): Json => ({ [DEEP]: depth })),
);

/** A JSON file of a bundle edited at one random place, or its bytes damaged. */
const damage = fc.oneof(
  fc.tuple(fc.constant('edit' as const), fc.nat(), hostile),
  fc.tuple(fc.constant('flip' as const), fc.nat(), fc.integer({ min: 1, max: 255 })),
  fc.tuple(fc.constant('cut' as const), fc.nat(), fc.constant(0)),
);
function damaged(bytes: Uint8Array, [how, at, what]: [string, number, unknown]): Uint8Array {
  if (how === 'flip') {
    const b = bytes.slice();
    b[at % b.length] ^= what as number;
    return b;
  }
  if (how === 'cut') return bytes.subarray(0, at % bytes.length);
  const j = JSON.parse(dec.decode(bytes)) as Json;
  const ps = paths(j);
  const text = JSON.stringify(edit(j, ps[at % ps.length], what as Json | undefined));
  return enc.encode(text.replace(new RegExp(`\\{"${DEEP}":(\\d+)\\}`), (_, n) => `${'['.repeat(+n)}1${']'.repeat(+n)}`));
}

describe('adapter_config.json through importAdapter', async () => {
  const fp = await baseFingerprint(cfg, base);
  const identity = { config: cfg, fingerprint: fp };
  const bundles = ADAPTERS.map((a) => {
    const params = new Map(adapterParamSpecs(cfg, a).map((s) => [s.name, Float32Array.from({ length: s.numel }, () => rng.normal())]));
    return exportAdapter(identity, a, params);
  });

  it('the undamaged bundles import (so the damaged ones test the parser, not the fixture)', () => {
    for (const b of bundles) expect(() => importAdapter(b, identity)).not.toThrow();
  });

  it('a damaged adapter_config.json gives a CheckpointError (or imports), never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), damage, fc.boolean(), async (which, dmg, allowUnrecordedBase) => {
        const files: CheckpointFiles = new Map(bundles[which % bundles.length]);
        files.set('adapter_config.json', damaged(files.get('adapter_config.json')!, dmg));
        await onlyOurErrors(() => importAdapter(files, identity, { allowUnrecordedBase }));
      }),
      { numRuns: 400 },
    );
  });
});

describe('config.json and vocab.json through importBase', async () => {
  const bundle = await exportBase(cfg, vocab, base);

  it('the undamaged base imports', async () => {
    await expect(importBase(bundle)).resolves.toBeDefined();
  });

  it('a damaged config.json or vocab.json gives one of our errors (or imports), never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('config.json', 'vocab.json'), damage, async (file, dmg) => {
        const files: CheckpointFiles = new Map(bundle);
        files.set(file, damaged(files.get(file)!, dmg));
        await onlyOurErrors(() => importBase(files));
      }),
      { numRuns: 150 },
    );
  });
});

// Found by the properties above with nesting up to 100,000: a value nested ≥ ~4100 deep in
// adapter_config.json or config.json made importAdapter / importBase throw "RangeError:
// Maximum call stack size exceeded" (JSON.parse coped; error messages that quoted the value
// with JSON.stringify overflowed). Counterexamples: "peft_type" of the prefix adapter set to
// [[[…1…]]] 4110 deep; a config.json value 4112 deep. JSON files nested deeper than
// MAX_JSON_DEPTH are now refused before parsing, and messages quote values with showJson.
describe('deeply nested JSON values', async () => {
  const fp = await baseFingerprint(cfg, base);
  const identity = { config: cfg, fingerprint: fp };
  const a = ADAPTERS[0];
  const params = new Map(adapterParamSpecs(cfg, a).map((s) => [s.name, new Float32Array(s.numel)]));
  const adapter = exportAdapter(identity, a, params);
  const baseFiles = await exportBase(cfg, vocab, base);
  it.each([4110, 100_000])('depth %i in any adapter_config.json or config.json field gives our error', async (depth) => {
    for (const [files, file, run] of [
      [adapter, 'adapter_config.json', (f: CheckpointFiles) => importAdapter(f, identity)],
      [baseFiles, 'config.json', (f: CheckpointFiles) => importBase(f)],
    ] as const) {
      const j = JSON.parse(dec.decode(files.get(file)!)) as Record<string, Json>;
      for (const key of Object.keys(j)) {
        const f: CheckpointFiles = new Map(files);
        f.set(file, damaged(files.get(file)!, ['edit', paths(j).findIndex((p) => p.length === 1 && p[0] === key), { [DEEP]: depth }]));
        await onlyOurErrors(() => run(f));
      }
    }
  });
});

