/**
 * Vocabularies of loaded models (engine host only): whether two models share one (lockstep scoring compares their
 * distributions entry by entry, so token i must be the same text in both), and each token's rendered piece (soft
 * labels stored as token texts are mapped back to ids on the main side, evaluate/soft-labels.ts).
 */
import { AppError } from '../../../src-shared/errors.js';
import type { LlamaLib } from './ffi.js';
import type { NativeModel } from './llama.js';

/** llama.h's LLAMA_TOKEN_ATTR_* bits this path reads. */
export const TOKEN_ATTR = { NORMAL: 1 << 2, CONTROL: 1 << 3, BYTE: 1 << 5 } as const;

/** A token's text as the vocabulary stores it (llama_vocab_get_text: "▁the", "<0x0A>", "<|im_end|>"). */
function tokenText(lib: LlamaLib, m: NativeModel, id: number): string {
  return lib.llama_vocab_get_text(m.vocab, id) as string;
}

/** What differs between the two vocabularies (the first difference), or null when they are the same. */
export function vocabularyDifference(lib: LlamaLib, a: NativeModel, b: NativeModel): string | null {
  if (a.nVocab !== b.nVocab) return `${a.name} has ${a.nVocab} tokens, ${b.name} ${b.nVocab}`;
  for (let id = 0; id < a.nVocab; id++) {
    const ta = tokenText(lib, a, id);
    const tb = tokenText(lib, b, id);
    if (ta !== tb) return `token ${id} is ${JSON.stringify(ta)} in ${a.name} but ${JSON.stringify(tb)} in ${b.name}`;
  }
  return null;
}

/** Refuses a pair of models that do not share a vocabulary, naming both and what differs. `field` names the argument. */
export function checkSameVocabulary(lib: LlamaLib, model: NativeModel, base: NativeModel, field: string): void {
  if (model === base) return;
  const diff = vocabularyDifference(lib, base, model);
  if (diff) {
    throw new AppError(
      'invalid_input',
      `${base.name} and ${model.name} do not share a vocabulary (${diff}): their distributions cannot be compared token by token`,
      field,
    );
  }
}

export interface VocabularyPieces {
  /** Per token id: its piece as a generator prints it (special tokens rendered), or null when it is not valid UTF-8 alone. */
  pieces: (string | null)[];
  /** Per token id: llama.h's token attributes (TOKEN_ATTR bits). */
  attrs: Int32Array;
}

/** Every token's rendered piece and attributes (one koffi call or two per token; ~32k tokens take tens of ms). */
export function vocabularyPieces(lib: LlamaLib, m: NativeModel): VocabularyPieces {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const pieces: (string | null)[] = new Array<string | null>(m.nVocab);
  const attrs = new Int32Array(m.nVocab);
  for (let id = 0; id < m.nVocab; id++) {
    attrs[id] = lib.llama_vocab_get_attr(m.vocab, id) as number;
    try {
      pieces[id] = decoder.decode(m.piece(id, true));
    } catch {
      pieces[id] = null;
    }
  }
  return { pieces, attrs };
}
