/**
 * ROUGE-L exactly as google-research's `rouge-score` package computes it with `RougeScorer(['rougeL'])` (default
 * tokenizer, no stemmer): rouge/tokenize.py lowercases, turns every run of characters outside [a-z0-9] into a space and
 * keeps the [a-z0-9]+ tokens; rouge/rouge_scorer.py `_score_lcs` takes the LCS length of the token lists, precision =
 * LCS / prediction tokens, recall = LCS / reference tokens, F = 2PR / (P + R), and 0 for all three when either side
 * has no token. Python's `str.lower()` and JavaScript's `toLowerCase()` agree on the characters that lowercase into
 * [a-z0-9] (İ → i̇, K (Kelvin) → k).
 *
 * Unlike the package's full (n+1)×(m+1) table, the LCS length here is computed bit-parallel (Hyyrö 2004) in
 * O(n·m/32) time and O(σ·n/32) memory, or, when that mask table would pass MAX_MASK_WORDS, with two DP rows in O(m)
 * memory. Each side is capped at MAX_ROUGE_TOKENS tokens (the rest ignored): bounded time (≤ 20,000² / 32 word
 * operations, ~10 ms) on a runaway answer; answers are far shorter, so no real score is affected.
 */

export interface RougeScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

export const MAX_ROUGE_TOKENS = 20_000;
const MAX_MASK_WORDS = 1 << 20; // 4 MiB of Uint32 masks

/** rouge-score's default tokenizer (no stemmer). */
export function rougeTokens(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

/** ROUGE-L of a prediction against a reference (rouge-score's `score(target=reference, prediction)`). */
export function rougeL(prediction: string, reference: string): RougeScore {
  const p = rougeTokens(prediction).slice(0, MAX_ROUGE_TOKENS);
  const r = rougeTokens(reference).slice(0, MAX_ROUGE_TOKENS);
  if (p.length === 0 || r.length === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const lcs = lcsLength(r, p);
  const precision = lcs / p.length;
  const recall = lcs / r.length;
  const fmeasure = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, fmeasure };
}

/** Length of the longest common subsequence of two token lists. */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  const ids = new Map<string, number>();
  const aIds = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    let id = ids.get(a[i]!);
    if (id === undefined) ids.set(a[i]!, (id = ids.size));
    aIds[i] = id;
  }
  const bIds = new Int32Array(b.length);
  for (let j = 0; j < b.length; j++) bIds[j] = ids.get(b[j]!) ?? -1;
  const words = (a.length + 31) >>> 5;
  return ids.size * words <= MAX_MASK_WORDS ? lcsBitParallel(aIds, ids.size, bIds, words) : lcsTwoRows(aIds, bIds);
}

/**
 * Hyyrö's bit-vector LCS: V starts all ones over a's positions; for each token c of b, U = V & M[c],

 * V = (V + U) | (V − U); the LCS length is the number of zero bits of V among a's positions.
 */
function lcsBitParallel(a: Int32Array, sigma: number, b: Int32Array, words: number): number {
  const masks = new Uint32Array(sigma * words);
  for (let i = 0; i < a.length; i++) masks[a[i]! * words + (i >>> 5)]! |= 1 << (i & 31);
  const v = new Uint32Array(words).fill(0xffffffff);
  for (let j = 0; j < b.length; j++) {
    const c = b[j]!;
    if (c < 0) continue; // a token absent from a: U = 0, V unchanged
    const base = c * words;
    let carry = 0;
    for (let w = 0; w < words; w++) {
      const vw = v[w]!;
      const m = masks[base + w]!;
      const sum = vw + ((vw & m) >>> 0) + carry; // V + U, U = V & M, carried across words
      carry = sum > 0xffffffff ? 1 : 0;
      v[w] = ((sum >>> 0) | (vw & ~m)) >>> 0; // | (V − U), which is V & ~M: U's bits are V's, so no borrow
    }
  }
  let zeros = 0;
  for (let i = 0; i < a.length; i++) if ((v[i >>> 5]! & (1 << (i & 31))) === 0) zeros++;
  return zeros;
}

/** The textbook DP keeping two rows: O(|a|·|b|) time, O(|b|) memory. */
function lcsTwoRows(a: Int32Array, b: Int32Array): number {
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let i = 0; i < a.length; i++) {
    const ai = a[i]!;
    for (let j = 1; j <= b.length; j++) cur[j] = ai === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}
