// Edge cases of the corpus index and loader (parseCorpusIndex is fed fetched, untrusted
// JSON): each field's check, the role, readers' paths and HTTP errors, the mismatch check.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CORPUS_INDEX_PATH, fetchReader, loadCorpus, parseCorpusIndex } from './corpus';
import { DataError } from './errors';
import { rejected, thrown } from '../util/thrown';

const entry = {
  name: 'tiny',
  title: 'Tiny',
  description: 'a test corpus',
  file: 'data/tiny.txt',
  role: 'adapt',
  bytes: 5,
  chars: 4,
  distinctChars: 3,
  source: 'here',
  licence: 'CC0',
};
const index = (corpora: unknown[] = [entry], version: unknown = 1) => JSON.stringify({ version, corpora });

const refusal = (fn: () => unknown) => thrown(DataError, fn);
const refusalAsync = (p: Promise<unknown>) => rejected(DataError, p);

describe('parseCorpusIndex', () => {
  it('keeps every field of a valid entry, both roles', () => {
    expect(parseCorpusIndex(index())).toEqual({ version: 1, corpora: [entry] });
    expect(parseCorpusIndex(index([{ ...entry, role: 'pretrain', bytes: 0 }])).corpora[0]).toMatchObject({ role: 'pretrain', bytes: 0 });
    expect(parseCorpusIndex(index([])).corpora).toEqual([]);
  });

  it('names the field that is wrong: empty or missing strings, negative or fractional counts', () => {
    for (const k of ['name', 'title', 'description', 'file', 'source', 'licence']) {
      for (const bad of ['', 3, undefined]) {
        const e = refusal(() => parseCorpusIndex(index([{ ...entry, [k]: bad }])));
        expect(e.code).toBe('bad-index');
        expect(e.message).toBe(`${CORPUS_INDEX_PATH}: corpus field '${k}' must be a non-empty string`);
      }
    }
    for (const k of ['bytes', 'chars', 'distinctChars']) {
      for (const bad of [-1, 1.5, '5', undefined]) {
        expect(refusal(() => parseCorpusIndex(index([{ ...entry, [k]: bad }]))).message).toBe(`${CORPUS_INDEX_PATH}: corpus field '${k}' must be a non-negative integer`);
      }
    }
  });

  it('refuses another role, a non-object entry, another version, no list, and text that is not JSON', () => {
    expect(refusal(() => parseCorpusIndex(index([{ ...entry, role: 'eval' }]))).message).toBe(`${CORPUS_INDEX_PATH}: role must be pretrain or adapt`);
    expect(refusal(() => parseCorpusIndex(index([null]))).message).toBe(`${CORPUS_INDEX_PATH}: each corpus must be an object`);
    expect(refusal(() => parseCorpusIndex(index([7]))).message).toMatch(/each corpus must be an object/);
    for (const raw of [index([entry], 2), JSON.stringify({ version: 1 }), JSON.stringify({ version: 1, corpora: {} }), 'null']) {
      expect(refusal(() => parseCorpusIndex(raw)).message).toBe(`${CORPUS_INDEX_PATH} must be {version: 1, corpora: [...]}`);
    }
    const e = refusal(() => parseCorpusIndex('<!doctype html><html><body>not found</body></html>'));
    expect(e.code).toBe('bad-index');
    expect(e.message).toBe(`${CORPUS_INDEX_PATH} is not JSON (starts with "<!doctype html><html")`);
  });
});

describe('loadCorpus and fetchReader', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('loads by name, counting code points (not UTF-16 units) against the index', async () => {
    const read = async (p: string) => (p === CORPUS_INDEX_PATH ? index() : p === 'data/tiny.txt' ? 'a😀b\n' : '');
    expect((await loadCorpus('tiny', read)).text).toBe('a😀b\n');
    const wrong = await refusalAsync(loadCorpus('tiny', async (p) => (p === CORPUS_INDEX_PATH ? index() : 'abcde')));
    expect(wrong.code).toBe('corpus-mismatch');
    expect(wrong.message).toBe('data/tiny.txt has 5 characters, the index says 4; rebuild with npx tsx scripts/build-data.ts');
    expect(wrong.details).toEqual({ have: 5, expected: 4 });
    const unknown = await refusalAsync(loadCorpus('other', read));
    expect(unknown.code).toBe('unknown-corpus');
    expect(unknown.message).toBe("no built-in corpus 'other' (have: tiny)");
  });

  it('fetchReader joins the base with one slash and refuses an HTTP error', async () => {
    const asked: string[] = [];
    vi.stubGlobal('fetch', async (url: string) => {
      asked.push(url);
      return url.endsWith('missing.txt') ? { ok: false, status: 404, text: async () => '' } : { ok: true, status: 200, text: async () => 'body' };
    });
    expect(await fetchReader('/app')('data/x.txt')).toBe('body');
    expect(await fetchReader('/app/')('data/x.txt')).toBe('body');
    expect(await fetchReader()('data/x.txt')).toBe('body');
    expect(asked).toEqual(['/app/data/x.txt', '/app/data/x.txt', '/data/x.txt']);
    const e = await refusalAsync(fetchReader('/app/')('data/missing.txt'));
    expect(e.code).toBe('unknown-corpus');
    expect(e.message).toBe('could not load /app/data/missing.txt: HTTP 404');
    expect(e.details).toEqual({ status: 404 });
  });
});
