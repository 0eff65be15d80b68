/**
 * chrF exactly as sacrebleu's default CHRF (chrF2) computes `sentence_chrf(hypothesis, [reference]).score`
 * (sacrebleu/metrics/chrf.py and helpers.py, github.com/mjpost/sacrebleu): character n-grams of orders 1..6 over the
 * text with Python's `str.split()` whitespace removed, counted per order; per order hyp count (0 when the reference has
 * no n-gram of that order), ref count and clipped matches; precision and recall averaged over the orders where both
 * sides have n-grams ("effective order", eps_smoothing=False); F-beta with beta = 2; × 100. No lowercasing, no word
 * n-grams. Characters are code points, as in Python (an emoji is one character, not two UTF-16 units). The arithmetic
 * follows `_compute_f_score` step by step, so the float is bit-identical to sacrebleu's.
 *
 * Speed: reference n-grams are interned in a trie held in a reused open-addressing table (node = (parent, code point)),
 * so each n-gram costs one probe instead of a string key; hypothesis n-grams only probe (a miss ends the extension).
 */
import { isPyWhitespace } from './text.js';

export const CHAR_ORDER = 6;
const BETA = 2;

/** Code points of `s` without Python whitespace. */
function codePoints(s: string): Int32Array {
  const out = new Int32Array(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out[n++] = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        continue;
      }
    }
    if (!isPyWhitespace(c)) out[n++] = c;
  }
  return out.subarray(0, n);
}

// The trie of the reference's n-grams, reused between calls: an open-addressing table of 4 ints per slot (stamp,
// parent node, code point, node), one cache line per probe; a slot is in use when its stamp equals the current call's.
let cap = 0;
let shift = 32;
let table = new Int32Array(0);
let stamp = 0;
let refCounts = new Int32Array(0);
let hypCounts = new Int32Array(0);
let nextNode = 0;
// order-1 nodes of BMP characters, looked up directly: the node when the stamp is the current call's
const bmpStamp = new Int32Array(65536);
const bmpNode = new Int32Array(65536);

function prepare(refLength: number): void {
  const need = Math.max(64, refLength * CHAR_ORDER * 2);
  if (need > cap) {
    const bits = Math.ceil(Math.log2(need));
    cap = 1 << bits;
    shift = 32 - bits;
    table = new Int32Array(cap * 4);
    refCounts = new Int32Array(cap);
    hypCounts = new Int32Array(cap);
    // the stamp keeps counting: bmpStamp outlives the table
  }
  stamp++;
  if (stamp === 0x7fffffff) {
    table.fill(0);
    bmpStamp.fill(0);
    stamp = 1;
  }
  nextNode = 0;
}

// Fibonacci hashing of (parent, code point): one multiply, the product's top bits
const slotOf = (parent: number, c: number) => (Math.imul((parent << 11) ^ c, 0x9e3779b1) >>> shift) << 2;

/** The order-1 node of c, made when new. */
function internChar(c: number): number {
  if (c >= 65536) return intern(0, c);
  if (bmpStamp[c] === stamp) return bmpNode[c]!;
  const node = ++nextNode;
  bmpStamp[c] = stamp;
  bmpNode[c] = node;
  refCounts[node] = 0;
  hypCounts[node] = 0;
  return node;
}

/** The order-1 node of c, or -1. */
function findChar(c: number): number {
  if (c >= 65536) return find(0, c);
  return bmpStamp[c] === stamp ? bmpNode[c]! : -1;
}

/** The node for (parent, c), or -1. */
function find(parent: number, c: number): number {
  const mask = (cap << 2) - 1;
  for (let s = slotOf(parent, c); table[s] === stamp; s = (s + 4) & mask) if (table[s + 1] === parent && table[s + 2] === c) return table[s + 3]!;
  return -1;
}

/** The node for (parent, c), made (counts 0) when new; nodes are numbered from 1 (0 is the root). */
function intern(parent: number, c: number): number {
  const mask = (cap << 2) - 1;
  let s = slotOf(parent, c);
  for (; table[s] === stamp; s = (s + 4) & mask) if (table[s + 1] === parent && table[s + 2] === c) return table[s + 3]!;
  const node = ++nextNode;
  table[s] = stamp;
  table[s + 1] = parent;
  table[s + 2] = c;
  table[s + 3] = node;
  refCounts[node] = 0;
  hypCounts[node] = 0;
  return node;
}

/** sacrebleu's `sentence_chrf(hypothesis, [reference]).score` with default arguments: 0..100. */
export function chrF(hypothesis: string, reference: string): number {
  const hyp = codePoints(hypothesis);
  const ref = codePoints(reference);
  prepare(ref.length);
  for (let i = 0; i < ref.length; i++) {
    let node = internChar(ref[i]!);
    refCounts[node]!++;
    for (let k = 1; k < CHAR_ORDER && i + k < ref.length; k++) {
      node = intern(node, ref[i + k]!);
      refCounts[node]!++;
    }
  }
  const matches = new Array<number>(CHAR_ORDER).fill(0);
  for (let i = 0; i < hyp.length; i++) {
    let node = findChar(hyp[i]!);
    if (node < 0) continue;
    if (++hypCounts[node]! <= refCounts[node]!) matches[0]!++;
    for (let k = 1; k < CHAR_ORDER && i + k < hyp.length; k++) {
      node = find(node, hyp[i + k]!);
      if (node < 0) break;
      if (++hypCounts[node]! <= refCounts[node]!) matches[k]!++;
    }
  }
  const stats: number[] = [];
  for (let k = 0; k < CHAR_ORDER; k++) {
    const refN = Math.max(0, ref.length - k);
    stats.push(refN > 0 ? Math.max(0, hyp.length - k) : 0, refN, matches[k]!);
  }
  return fScore(stats);
}

/** sacrebleu's CHRF._compute_f_score with eps_smoothing=False, operation for operation. */
function fScore(stats: number[]): number {
  const eps = 1e-16;
  const factor = BETA ** 2;
  let avgPrec = 0;
  let avgRec = 0;
  let effective = 0;
  for (let k = 0; k < CHAR_ORDER; k++) {
    const nHyp = stats[3 * k]!;
    const nRef = stats[3 * k + 1]!;
    const nMatch = stats[3 * k + 2]!;
    const prec = nHyp > 0 ? nMatch / nHyp : eps;
    const rec = nRef > 0 ? nMatch / nRef : eps;
    if (nHyp > 0 && nRef > 0) {
      avgPrec += prec;
      avgRec += rec;
      effective++;
    }
  }
  if (effective === 0) {
    avgPrec = avgRec = 0;
  } else {
    avgPrec /= effective;
    avgRec /= effective;
  }
  if (avgPrec + avgRec) {
    let score = (1 + factor) * avgPrec * avgRec;
    score /= factor * avgPrec + avgRec;
    return 100 * score;
  }
  return 0;
}
