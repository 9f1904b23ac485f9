// Errors from the data layer carry a machine-readable `code` so the UI can explain them
// (e.g. a user's file that is not UTF-8) and tests can assert on the cause, not the wording.

export type DataErrorCode =
  | 'empty' // no text at all (0 bytes, only a byte-order mark, or only whitespace)
  | 'not-utf8' // bytes that are not valid UTF-8 (`byteOffset` says where)
  | 'binary' // valid UTF-8 but contains NUL: almost certainly not a text file
  | 'too-large' // more bytes than the loader accepts
  | 'too-short' // fewer characters than the context length needs (`needed` says how many)
  | 'bad-vocab' // a vocabulary JSON that does not have the required shape (ids, tokens)
  | 'bad-merges' // a BPE merge list that is missing, empty, or names tokens not in the vocabulary
  | 'bad-tokenizer' // a tokenizer.json that is not GPT-2 byte-level BPE, or is malformed
  | 'bad-id' // a token id outside the vocabulary (a bug upstream: loud, never silent)
  | 'bad-shape' // batch size / sequence length that is not a positive integer or too small
  | 'vocab-missing-chars' // a synthetic task's characters are not all in the given vocabulary
  | 'split-empty' // a synthetic task could not draw an example for a split
  | 'unknown-task' // a task name that is neither a corpus nor a synthetic task
  | 'file-not-kept' // a task naming the user's own file ('file:…') when that file is no longer at hand
  | 'unknown-corpus' // a corpus name not in public/data/index.json
  | 'corpus-mismatch' // a loaded corpus file that does not match its index entry
  | 'bad-index'; // public/data/index.json that does not have the required shape

export class DataError extends Error {
  override readonly name = 'DataError';
  constructor(
    readonly code: DataErrorCode,
    message: string,
    /** Extra facts about the failure (byteOffset, line, needed, have, missing, …). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
