// Settings for "Pretrain a new base model": the model sizes, the run length, the corpus and
// the seed, with the rules the page checks before anything is sent to the worker (and the
// worker checks again). Pure: no DOM, no GPU, so Vitest tests it in Node.

export const PRETRAIN_CORPORA = ['moby-dick', 'sotu'] as const;
export type PretrainCorpus = (typeof PRETRAIN_CORPORA)[number];

export const CORPUS_LABELS: Record<PretrainCorpus, string> = {
  'moby-dick': 'Moby Dick',
  sotu: 'State of the Union addresses',
};

export interface PretrainSettings {
  nLayer: number;
  nHead: number;
  nEmbd: number;
  contextLength: number;
  steps: number;
  corpus: PretrainCorpus;
  seed: number;
}

export type PretrainNumberField = Exclude<keyof PretrainSettings, 'corpus'>;

/** The NTK-Attention kernels keep a head's d-vector in registers: d ≤ 64 (NTK_MAX_HEAD_DIM). */
export const MAX_HEAD_DIM = 64;

/** Bounds for each number: small enough that a browser tab can hold and train the model. */
export const PRETRAIN_BOUNDS: Record<PretrainNumberField, { min: number; max: number; label: string }> = {
  nLayer: { min: 1, max: 12, label: 'Layers' },
  nHead: { min: 1, max: 16, label: 'Heads' },
  nEmbd: { min: 4, max: 768, label: 'Width' },
  contextLength: { min: 8, max: 512, label: 'Context' },
  steps: { min: 1, max: 100_000, label: 'Steps' },
  seed: { min: 0, max: 2 ** 31 - 1, label: 'Seed' },
};

/** The defaults match the in-worker base (2 layers, 2 heads, width 32, context 64). */
export function defaultPretrainSettings(software: boolean): PretrainSettings {
  return { nLayer: 2, nHead: 2, nEmbd: 32, contextLength: 64, steps: software ? 12 : 300, corpus: 'moby-dick', seed: 1234 };
}

export type PretrainErrors = Partial<Record<keyof PretrainSettings, string>>;

/**
 * Every problem with the settings, by field (empty when they are fine). Values arrive as
 * whatever the form holds (strings from inputs, or numbers), so each is parsed here.
 */
export function validatePretrain(raw: Record<keyof PretrainSettings, unknown>): { settings: PretrainSettings | null; errors: PretrainErrors } {
  const errors: PretrainErrors = {};
  const nums = {} as Record<PretrainNumberField, number>;
  for (const k of Object.keys(PRETRAIN_BOUNDS) as PretrainNumberField[]) {
    const b = PRETRAIN_BOUNDS[k];
    const v = raw[k];
    const s = typeof v === 'string' ? v.trim() : v;
    const n = typeof s === 'number' ? s : typeof s === 'string' && /^-?\d+$/.test(s) ? Number(s) : NaN;
    if (s === '' || s === undefined || s === null) errors[k] = `${b.label} is required`;
    else if (!Number.isInteger(n)) errors[k] = `${b.label} must be a whole number (got ${String(v)})`;
    else if (n < b.min || n > b.max) errors[k] = `${b.label} must be between ${b.min.toLocaleString('en-US')} and ${b.max.toLocaleString('en-US')} (got ${n})`;
    nums[k] = n;
  }
  // Relations between fields, only when both numbers themselves are fine.
  if (!errors.nEmbd && !errors.nHead) {
    if (nums.nEmbd % nums.nHead !== 0) {
      errors.nEmbd = `Width ${nums.nEmbd} must be divisible by the number of heads (${nums.nHead}): each head gets width / heads channels`;
    } else if (nums.nEmbd / nums.nHead > MAX_HEAD_DIM) {
      errors.nEmbd = `Width / heads is ${nums.nEmbd / nums.nHead}, but a head can have at most ${MAX_HEAD_DIM} channels: use more heads or a smaller width`;
    }
  }
  const corpus = raw.corpus;
  if (typeof corpus !== 'string' || !(PRETRAIN_CORPORA as readonly string[]).includes(corpus)) {
    errors.corpus = `Corpus must be one of ${PRETRAIN_CORPORA.join(', ')} (got ${String(corpus)})`;
  }
  if (Object.keys(errors).length) return { settings: null, errors };
  return { settings: { ...nums, corpus: corpus as PretrainCorpus }, errors };
}

/** "2 layers, 2 heads, width 32, context 64": how the runs list and messages name a base. */
export function describeSizes(s: Pick<PretrainSettings, 'nLayer' | 'nHead' | 'nEmbd' | 'contextLength'>): string {
  return `${s.nLayer} layer${s.nLayer === 1 ? '' : 's'}, ${s.nHead} head${s.nHead === 1 ? '' : 's'}, width ${s.nEmbd}, context ${s.contextLength}`;
}
