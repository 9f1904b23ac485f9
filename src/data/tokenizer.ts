// What every tokenizer the engine runs with offers: the shipped base's character vocabulary
// (./vocab.ts) and a Hugging Face GPT-2's byte-level BPE (./bpe.ts). Tasks, generation and
// the model layer see only this, so a run is the same code whichever base it adapts.

export type TokenizerKind = 'char' | 'bpe';

export interface Tokenizer {
  readonly kind: TokenizerKind;
  /** Number of token ids: every id is in [0, size). Equals the model's vocab_size. */
  readonly size: number;
  /** The end-of-text id generation stops at (GPT-2: 50256 "<|endoftext|>"), or null. */
  readonly eosId: number | null;
  /** Text → ids. Byte-level BPE covers every string; the character vocabulary maps an
   *  unknown character to its unknown id (see Vocab.encodeWithStats for the counts). */
  encode(text: string): Int32Array;
  /** Ids → text. An id outside [0, size) throws a DataError 'bad-id'. */
  decode(ids: ArrayLike<number>): string;
  /** One line for summaries, e.g. "byte-level BPE, 50257 tokens (tokenizer.json)". */
  describe(): string;
  /** Optional: how many UTF-8 bytes one id stands for (bits per byte). Without it, callers
   *  measure the decoded text. */
  tokenBytes?(id: number): number;
}
