/**
 * Contamination: word n-gram overlap (13-grams by default) between evaluation texts and a reference corpus (a training
 * split, distillation outputs, any dataset version).
 *
 * Words follow lm-evaluation-harness's decontamination (lm_eval/decontamination/janitor.py, `Janitor.normalize_string`
 * then `word_ngrams`): ASCII letters lowercased, the characters of Python's `string.punctuation` deleted ("don't" →
 * "dont"), everything else kept as is, words split on Python whitespace; an n-gram is n consecutive words. Like
 * lm-eval's `get_train_overlap` (decontaminate.py), the lookup is built from the evaluation side and the reference
 * corpus is streamed past it, so memory depends on the evaluation split only, never on the corpus (100,000 reference
 * examples or a million cost the same memory). An evaluation text shorter than n words has no n-gram and is never
 * flagged, as in lm-eval.
 *
 * N-grams are kept as 64-bit hashes: each word hashed twice (FNV-1a and a murmur-mixed multiplicative hash, 32 bits
 * each), an n-gram as two polynomial rolling hashes over those (mod 2^32, odd bases). Treating the pair as a random
 * 64-bit value, a reference n-gram falsely matches a given evaluation n-gram with probability 2^-64; over E distinct
 * evaluation n-grams and R reference n-grams the expected number of false matches is about E·R / 2^64, e.g. 1e6 × 1e8
 * / 1.8e19 ≈ 5e-6: negligible. Memory: ~9 bytes per table slot, at most 4 slots per distinct evaluation n-gram.
 */
import { AppError } from '../../../../src-shared/errors.js';
import { isPyWhitespace } from './text.js';

export interface ContaminationOptions {
  /** Words per n-gram (default 13). */
  n?: number;
  /** Found n-grams from which an example is flagged (default 1). */
  minFound?: number;
}

export interface ContaminationRow {
  /** The example's n-grams (positions, repeats counted). */
  ngrams: number;
  /** How many of them occur in the reference corpus. */
  found: number;
  /** found / ngrams, 0 when the example has no n-gram. */
  share: number;
  flagged: boolean;
}

const BASE_A = 0x01000193;
const BASE_B = 0x5bd1e995;

/** Two 32-bit hashes per word of the normalized text, in order: [a0, b0, a1, b1, ...]. */
export function wordHashes(text: string): Uint32Array {
  const out: number[] = [];
  let a = 0x811c9dc5;
  let b = 0x2545f491;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (isPyWhitespace(c)) {
      if (inWord) out.push(a >>> 0, fmix(b));
      a = 0x811c9dc5;
      b = 0x2545f491;
      inWord = false;
      continue;
    }
    // string.punctuation: !"#$%&'()*+,-./ :;<=>?@ [\]^_` {|}~ (deleted, so it neither starts nor ends a word)
    if ((c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e)) continue;
    if (c >= 0x41 && c <= 0x5a) c += 32;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b + c, 0xcc9e2d51) ^ (b >>> 15);
    inWord = true;
  }
  if (inWord) out.push(a >>> 0, fmix(b));
  return Uint32Array.from(out);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Calls `each(hashA, hashB)` for every n-gram of the words, in order. */
function forEachNgram(words: Uint32Array, n: number, each: (a: number, b: number) => void): void {
  const count = words.length / 2;
  if (count < n) return;
  let powA = 1;
  let powB = 1;
  for (let k = 0; k < n; k++) {
    powA = Math.imul(powA, BASE_A);
    powB = Math.imul(powB, BASE_B);
  }
  let ha = 0;
  let hb = 0;
  for (let i = 0; i < count; i++) {
    ha = (Math.imul(ha, BASE_A) + words[2 * i]!) | 0;
    hb = (Math.imul(hb, BASE_B) + words[2 * i + 1]!) | 0;
    if (i >= n) {
      ha = (ha - Math.imul(words[2 * (i - n)]!, powA)) | 0;
      hb = (hb - Math.imul(words[2 * (i - n) + 1]!, powB)) | 0;
    }
    if (i >= n - 1) each(ha >>> 0, hb >>> 0);
  }
}

/**
 * The evaluation side's n-grams in an open-addressing table, marked as the reference corpus streams past:
 * `new ContaminationIndex(evalTexts)`, then `add(text)` for each reference text (any number, in pages), then `rows()`.
 */
export class ContaminationIndex {
  readonly n: number;
  readonly minFound: number;
  private readonly texts: readonly string[];
  private readonly mask: number;
  private readonly keyA: Uint32Array;
  private readonly keyB: Uint32Array;
  /** 0 empty, 1 an evaluation n-gram, 2 one also found in the reference. */
  private readonly state: Uint8Array;
  referenceTexts = 0;

  constructor(evalTexts: readonly string[], opts: ContaminationOptions = {}) {
    this.n = opts.n ?? 13;
    this.minFound = opts.minFound ?? 1;
    if (!Number.isInteger(this.n) || this.n < 1 || this.n > 64) throw new AppError('invalid_input', `n: a whole number from 1 to 64, not ${this.n}`, 'n');
    if (!Number.isInteger(this.minFound) || this.minFound < 1)
      throw new AppError('invalid_input', `minFound: a whole number of at least 1, not ${this.minFound}`, 'minFound');
    this.texts = evalTexts;
    const hashed = evalTexts.map(wordHashes);
    const total = hashed.reduce((s, w) => s + Math.max(0, w.length / 2 - this.n + 1), 0);
    const cap = 1 << Math.max(4, Math.ceil(Math.log2(total * 2 + 1)));
    this.mask = cap - 1;
    this.keyA = new Uint32Array(cap);
    this.keyB = new Uint32Array(cap);
    this.state = new Uint8Array(cap);
    for (const w of hashed) forEachNgram(w, this.n, (a, b) => this.insert(a, b));
  }

  private slot(a: number, b: number): number {
    let s = (a ^ Math.imul(b, 0x9e3779b1)) & this.mask;
    while (this.state[s] !== 0 && (this.keyA[s] !== a || this.keyB[s] !== b)) s = (s + 1) & this.mask;
    return s;
  }

  private insert(a: number, b: number): void {
    const s = this.slot(a, b);
    if (this.state[s] === 0) {
      this.state[s] = 1;
      this.keyA[s] = a;
      this.keyB[s] = b;
    }
  }

  /** Streams one reference text past the evaluation n-grams. */
  add(referenceText: string): void {
    this.referenceTexts++;
    forEachNgram(wordHashes(referenceText), this.n, (a, b) => {
      const s = this.slot(a, b);
      if (this.state[s] === 1) this.state[s] = 2;
    });
  }

  /** Per evaluation text (in the order given): its n-grams, how many were found, the share, whether flagged. */
  rows(): ContaminationRow[] {
    return this.texts.map((text) => {
      let ngrams = 0;
      let found = 0;
      forEachNgram(wordHashes(text), this.n, (a, b) => {
        ngrams++;
        if (this.state[this.slot(a, b)] === 2) found++;
      });
      return { ngrams, found, share: ngrams ? found / ngrams : 0, flagged: found >= this.minFound };
    });
  }
}

/** Every evaluation text against a reference corpus (any iterable, consumed once). */
export function contamination(evalTexts: readonly string[], reference: Iterable<string>, opts: ContaminationOptions = {}): ContaminationRow[] {
  const index = new ContaminationIndex(evalTexts, opts);
  for (const text of reference) index.add(text);
  return index.rows();
}
