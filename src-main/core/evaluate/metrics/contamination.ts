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
 * 64-bit value of which 62 bits are kept (2 bits of the table slot hold its state), a reference n-gram falsely
 * matches a given evaluation n-gram with probability 2^-62; over E distinct evaluation n-grams and R reference
 * n-grams the expected number of false matches is about E·R / 2^62, e.g. 1e6 × 1e8 / 4.6e18 ≈ 2e-5: negligible.
 * Memory: 8 bytes per table slot, 2 to 4 slots per evaluation n-gram (16–32 MB for 10,000 examples of ~100 words),
 * plus a 1–2 byte-per-n-gram bit filter in front of it.
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

// Word hashes of the text being read, reused between texts (grown as needed): [a0, b0, a1, b1, ...].
let words = new Uint32Array(1024);

/** Hashes the normalized text's words into `words`; returns how many. */
function hashWords(text: string): number {
  let count = 0;
  let a = 0x811c9dc5;
  let b = 0x2545f491;
  let inWord = false;
  for (let i = 0; i <= text.length; i++) {
    let c = i < text.length ? text.charCodeAt(i) : 0x20;
    if (isPyWhitespace(c)) {
      if (inWord) {
        if (2 * count + 2 > words.length) {
          const grown = new Uint32Array(words.length * 2);
          grown.set(words);
          words = grown;
        }
        words[2 * count] = a >>> 0;
        words[2 * count + 1] = fmix(b);
        count++;
      }
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
  return count;
}

/** Two 32-bit hashes per word of the normalized text, in order: [a0, b0, a1, b1, ...]. */
export function wordHashes(text: string): Uint32Array {
  return words.slice(0, 2 * hashWords(text));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Calls `each(hashA, hashB)` for every n-gram of the text's words, in order. */
function forEachNgram(text: string, n: number, each: (a: number, b: number) => void): void {
  const count = hashWords(text);
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
    if (i >= n - 1) each(ha >>> 0, (hb & ~3) >>> 0);
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
  /**
   * Two words per slot, so one probe touches one cache line: the n-gram's hash A, and hash B with its 2 low bits
   * replaced by the slot's state (1 an evaluation n-gram, 2 one also found in the reference; 0 in both words: empty).
   * The n-gram key is therefore 62 bits.
   */
  private readonly table: Uint32Array;
  /**
   * One bit per bucket of hash B's top bits, set for the evaluation n-grams: ~8 bits per n-gram, small enough to stay
   * in cache, so most reference n-grams (absent from the evaluation side) are dismissed without touching the table.
   */
  private readonly filter: Int32Array;
  private readonly filterShift: number;
  referenceTexts = 0;

  constructor(evalTexts: readonly string[], opts: ContaminationOptions = {}) {
    this.n = opts.n ?? 13;
    this.minFound = opts.minFound ?? 1;
    if (!Number.isInteger(this.n) || this.n < 1 || this.n > 64) throw new AppError('invalid_input', `n: a whole number from 1 to 64, not ${this.n}`, 'n');
    if (!Number.isInteger(this.minFound) || this.minFound < 1)
      throw new AppError('invalid_input', `minFound: a whole number of at least 1, not ${this.minFound}`, 'minFound');
    this.texts = evalTexts;
    const total = evalTexts.reduce((s, t) => s + Math.max(0, hashWords(t) - this.n + 1), 0);
    const cap = 1 << Math.max(4, Math.ceil(Math.log2(total * 2 + 1)));
    this.mask = cap - 1;
    this.table = new Uint32Array(cap * 2);
    const filterBits = Math.min(31, Math.max(16, Math.ceil(Math.log2(total * 8 + 1))));
    this.filter = new Int32Array(2 ** (filterBits - 5));
    this.filterShift = 32 - filterBits;
    for (const t of evalTexts)
      forEachNgram(t, this.n, (a, b) => {
        const f = b >>> this.filterShift;
        this.filter[f >>> 5]! |= 1 << (f & 31);
        const s = this.slot(a, b);
        if (this.table[s + 1] === 0) {
          this.table[s] = a;
          this.table[s + 1] = (b | 1) >>> 0;
        }
      });
  }

  /** The table index (of hash A) holding the n-gram, or the empty slot where it would go; `b` has its low bits 0. */
  private slot(a: number, b: number): number {
    const t = this.table;
    let s = (a ^ Math.imul(b, 0x9e3779b1)) & this.mask;
    for (;;) {
      const tb = t[2 * s + 1]!;
      if (tb === 0 || (t[2 * s] === a && (tb & ~3) >>> 0 === b)) return 2 * s;
      s = (s + 1) & this.mask;
    }
  }

  /** Streams one reference text past the evaluation n-grams. */
  add(referenceText: string): void {
    this.referenceTexts++;
    forEachNgram(referenceText, this.n, (a, b) => {
      const f = b >>> this.filterShift;
      if ((this.filter[f >>> 5]! & (1 << (f & 31))) === 0) return;
      const s = this.slot(a, b);
      const tb = this.table[s + 1]!;
      if ((tb & 3) === 1) this.table[s + 1] = (tb + 1) >>> 0;
    });
  }

  /** Per evaluation text (in the order given): its n-grams, how many were found, the share, whether flagged. */
  rows(): ContaminationRow[] {
    return this.texts.map((text) => {
      let ngrams = 0;
      let found = 0;
      forEachNgram(text, this.n, (a, b) => {
        ngrams++;
        if ((this.table[this.slot(a, b) + 1]! & 3) === 2) found++;
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
