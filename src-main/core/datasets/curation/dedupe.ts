/**
 * Exact and near-duplicate detection for dataset curation. Pure functions, no I/O: the caller feeds examples (page by
 * page from SQLite if it likes) and stores the verdicts.
 *
 * Exact duplicates: two examples are exact duplicates when their normalized role-tagged texts are equal
 * (`exactKey`). Near duplicates: MinHash signatures over character 5-shingles of the same normalized text, candidate
 * pairs from LSH banding, every candidate pair verified with the Jaccard similarity estimated from the full
 * signatures, union-find into clusters.
 *
 * Over 400 lines for a reason: shingling, MinHash, banding, verification and union-find are one algorithm sharing the
 * normalized text and the signature layout; they are read together, in this order.
 */
import { createHash } from 'node:crypto';
import { messageText, type NormalizedExample } from '../../../../src-shared/domain/datasets.js';

// ---------------------------------------------------------------------------------------------------------------------
// Normalization

/** Quotation marks of any script (straight, curly, guillemets, CJK corner brackets, backtick, acute accent). */
const QUOTES = /["'`´\p{Pi}\p{Pf}「」『』〝〞〟]/gu;
/** Sentence punctuation that `normalizeText` drops (after NFKC full-width forms are already ASCII). `?` is kept. */
const SENTENCE_PUNCT = /[.,;:!¡。、،؛।…]+/gu;
/** Characters of alphabetic scripts (plus digits and `_`) between which sentence punctuation is kept: 3.14, a.b, 10:30. */
const WORDISH = /^[\p{N}_\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}]$/u;
/** Invisible format characters: zero-width spaces and joiners, soft hyphen, BOM, bidi marks. */
const FORMAT_CHARS = /\p{Cf}/gu;
/** Whitespace runs other than a lone space (replacing every single space with itself would be 4× slower). */
const WHITESPACE = / \s+|[^\S ]\s*/gu;

/**
 * The text as compared for dedupe. The rule, in order:
 * 1. Unicode NFKC (full-width and compatibility forms become their plain equivalents: `Ａ` → `A`, `！` → `!`, `…` → `...`).
 * 2. Lowercase (locale-independent `toLowerCase`).
 * 3. Remove invisible format characters (`\p{Cf}`: zero-width space/joiner, soft hyphen, BOM, bidi marks).
 * 4. Remove quotation marks of every kind: `" ' \` ´`, `\p{Pi}`/`\p{Pf}` (“ ” ‘ ’ « » ‹ ›) and CJK quotes 「」『』〝〞〟.
 *    Quoting style never changes what is said (`'x'` vs `"x"`, `don't` vs `dont`).
 * 5. Remove runs of sentence punctuation `. , ; : ! ¡ 。 、 ، ؛ । …` EXCEPT when the run sits between two characters
 *    of an alphabetic script (Latin, Greek, Cyrillic), digits or `_` on both sides: `3.14`, `1,000`, `10:30`,
 *    `example.com`, `std::vector` keep their punctuation; `Hello, world.` becomes `hello world`, `你好，世界。` becomes
 *    `你好世界`. Question marks, brackets, operators, `#`, `@`, `/`, `-` and all other symbols are kept: they carry
 *    meaning (a question vs a statement, code, maths).
 * 6. Collapse every whitespace run (`\s+`, including newlines and tabs) to one space; trim.
 */
export function normalizeText(s: string): string {
  let t = s.normalize('NFKC').toLowerCase().replace(FORMAT_CHARS, '').replace(QUOTES, '');
  t = t.replace(SENTENCE_PUNCT, (run: string, offset: number, whole: string) => {
    const before = whole[offset - 1];
    const after = whole[offset + run.length];
    return before !== undefined && after !== undefined && WORDISH.test(before) && WORDISH.test(after) ? run : '';
  });
  return t.replace(WHITESPACE, ' ').trim();
}

/**
 * The text used for dedupe and search: one `[role] content` line per message, joined with newlines. The reference is
 * the last assistant message and so already included; when it is set but differs from that message (a hand-built
 * example), it is appended as `[reference] …`.
 */
export function exampleText(e: NormalizedExample): string {
  const parts = e.messages.map((m) => `[${m.role}] ${messageText(m)}`);
  if (e.reference !== null) {
    const lastAssistant = e.messages.findLast((m) => m.role === 'assistant');
    if ((lastAssistant && messageText(lastAssistant)) !== e.reference) parts.push(`[reference] ${e.reference}`);
  }
  return parts.join('\n');
}

/** SHA-1 (hex, 40 characters) of the normalized example text: equal for examples that differ only in case, whitespace, quotes or sentence punctuation. */
export function exactKey(e: NormalizedExample): string {
  return createHash('sha1')
    .update(normalizeText(exampleText(e)), 'utf8')
    .digest('hex');
}

/** Groups of ids sharing an exact key (only groups of ≥ 2), ids sorted, groups sorted by first id. */
export function exactDuplicateGroups(items: Iterable<{ id: number; key: string }>): number[][] {
  const byKey = new Map<string, number[]>();
  for (const { id, key } of items) {
    const list = byKey.get(key);
    if (list) list.push(id);
    else byKey.set(key, [id]);
  }
  const groups: number[][] = [];
  for (const ids of byKey.values()) if (ids.length > 1) groups.push(ids.sort((a, b) => a - b));
  return groups.sort((a, b) => a[0]! - b[0]!);
}

// ---------------------------------------------------------------------------------------------------------------------
// 32-bit hashing helpers

/** splitmix32: a seeded stream of 32-bit integers (used to draw the permutation parameters). */
function splitmix32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) | 0;
  };
}

/** MurmurHash3's 32-bit finalizer: a bijection on 32-bit integers with full avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

const ROLL_BASE = 0x01000193; // odd multiplier of the rolling polynomial hash over UTF-16 code units
const EMPTY_SLOT = 0x7fffffff; // signature value of an empty text (every slot, signed maximum)

// ---------------------------------------------------------------------------------------------------------------------
// MinHash

export interface MinHasherOptions {
  /** Number of hash functions (signature length). A multiple of 8 is fastest. Default 128. */
  numPerm?: number;
  /** Shingle length in characters (UTF-16 code units). Default 5. */
  shingle?: number;
  /** Seed of the hash family: signatures are comparable only between hashers with the same numPerm, shingle and seed. Default 1. */
  seed?: number;
  /** Apply `normalizeText` before shingling. Default true; pass false when the text is already normalized. */
  normalize?: boolean;
}

/**
 * MinHash over character shingles.
 *
 * Why character 5-shingles rather than word 3-grams: they work on text without spaces (CJK, Thai, code, URLs) as
 * well as on prose, and a small edit changes few of them (one replaced word touches about `5 + length - 1` shingles
 * out of ~600 for a 600-character text), so light edits keep a high Jaccard and stand out clearly from unrelated
 * texts; k = 5 is the usual choice for short documents (emails, chat turns), long enough that unrelated texts share
 * few shingles.
 *
 * Hashing: each shingle is hashed once with a rolling polynomial hash over code units (no substring is allocated),
 * finalized with MurmurHash3's fmix32; permutation j is `h_j(x) = a_j·x + b_j mod 2^32` (a_j odd, so a bijection) with
 * `Math.imul`, and the slot keeps the minimum in signed 32-bit order (a fixed reordering of the permutation's range,
 * so still a min-wise hash). The result is returned as the same bits in a `Uint32Array`. The inner loop runs eight
 * permutations per pass over the shingles, the shingle hashes sitting in a reused `Int32Array`.
 */
export class MinHasher {
  readonly numPerm: number;
  readonly shingle: number;
  readonly seed: number;
  readonly normalize: boolean;
  private readonly a: Int32Array;
  private readonly b: Int32Array;
  private hashes = new Int32Array(1024);

  constructor({ numPerm = 128, shingle = 5, seed = 1, normalize = true }: MinHasherOptions = {}) {
    if (!Number.isInteger(numPerm) || numPerm < 1) throw new Error(`numPerm must be a positive integer, not ${numPerm}`);
    if (!Number.isInteger(shingle) || shingle < 1) throw new Error(`shingle must be a positive integer, not ${shingle}`);
    if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, not ${seed}`);
    this.numPerm = numPerm;
    this.shingle = shingle;
    this.seed = seed;
    this.normalize = normalize;
    // Padded to a multiple of 8 so the unrolled loop needs no tail; the extra slots are dropped.
    const padded = Math.ceil(numPerm / 8) * 8;
    const next = splitmix32(seed ^ 0x5bd1e995);
    this.a = new Int32Array(padded);
    this.b = new Int32Array(padded);
    for (let j = 0; j < padded; j++) {
      this.a[j] = next() | 1;
      this.b[j] = next();
    }
  }

  /** The 32-bit hashes of the text's shingles into `this.hashes`; returns how many. Texts shorter than a shingle are one shingle. */
  private shingleHashes(text: string): number {
    const k = this.shingle;
    const len = text.length;
    if (len === 0) return 0;
    const count = len < k ? 1 : len - k + 1;
    if (this.hashes.length < count) this.hashes = new Int32Array(Math.max(count, this.hashes.length * 2));
    const out = this.hashes;
    const width = Math.min(k, len);
    let pow = 1; // ROLL_BASE^(width-1)
    for (let i = 1; i < width; i++) pow = Math.imul(pow, ROLL_BASE);
    let h = 0;
    for (let i = 0; i < width; i++) h = (Math.imul(h, ROLL_BASE) + text.charCodeAt(i)) | 0;
    const salt = Math.imul(this.seed, 0x9e3779b9) ^ k;
    out[0] = fmix32(h ^ salt);
    for (let i = 1; i < count; i++) {
      h = (Math.imul(h - Math.imul(text.charCodeAt(i - 1), pow), ROLL_BASE) + text.charCodeAt(i + k - 1)) | 0;
      out[i] = fmix32(h ^ salt);
    }
    return count;
  }

  /** The MinHash signature of `text` (normalized first unless `normalize: false`). An empty text has every slot at 0x7fffffff. */
  signature(text: string): Uint32Array {
    const sig = new Int32Array(this.numPerm);
    this.signatureInto(text, sig);
    return new Uint32Array(sig.buffer, sig.byteOffset, sig.length);
  }

  /** Writes the signature of `text` into `out` (numPerm slots, e.g. a subarray of a big signature matrix). */
  signatureInto(text: string, out: Int32Array | Uint32Array): void {
    if (out.length < this.numPerm) throw new Error(`the output needs ${this.numPerm} slots, not ${out.length}`);
    const n = this.shingleHashes(this.normalize ? normalizeText(text) : text);
    const xs = this.hashes;
    const A = this.a;
    const B = this.b;
    const P = this.numPerm;
    for (let j = 0; j < P; j += 8) {
      const a0 = A[j]!,
        a1 = A[j + 1]!,
        a2 = A[j + 2]!,
        a3 = A[j + 3]!,
        a4 = A[j + 4]!,
        a5 = A[j + 5]!,
        a6 = A[j + 6]!,
        a7 = A[j + 7]!;
      const b0 = B[j]!,
        b1 = B[j + 1]!,
        b2 = B[j + 2]!,
        b3 = B[j + 3]!,
        b4 = B[j + 4]!,
        b5 = B[j + 5]!,
        b6 = B[j + 6]!,
        b7 = B[j + 7]!;
      let m0 = EMPTY_SLOT,
        m1 = EMPTY_SLOT,
        m2 = EMPTY_SLOT,
        m3 = EMPTY_SLOT,
        m4 = EMPTY_SLOT,
        m5 = EMPTY_SLOT,
        m6 = EMPTY_SLOT,
        m7 = EMPTY_SLOT;
      for (let i = 0; i < n; i++) {
        const x = xs[i]!;
        let v = (Math.imul(a0, x) + b0) | 0;
        if (v < m0) m0 = v;
        v = (Math.imul(a1, x) + b1) | 0;
        if (v < m1) m1 = v;
        v = (Math.imul(a2, x) + b2) | 0;
        if (v < m2) m2 = v;
        v = (Math.imul(a3, x) + b3) | 0;
        if (v < m3) m3 = v;
        v = (Math.imul(a4, x) + b4) | 0;
        if (v < m4) m4 = v;
        v = (Math.imul(a5, x) + b5) | 0;
        if (v < m5) m5 = v;
        v = (Math.imul(a6, x) + b6) | 0;
        if (v < m6) m6 = v;
        v = (Math.imul(a7, x) + b7) | 0;
        if (v < m7) m7 = v;
      }
      if (j + 8 <= P) {
        out[j] = m0;
        out[j + 1] = m1;
        out[j + 2] = m2;
        out[j + 3] = m3;
        out[j + 4] = m4;
        out[j + 5] = m5;
        out[j + 6] = m6;
        out[j + 7] = m7;
      } else {
        // The last, padded pass: only the real slots (out may be a row of a bigger matrix).
        const mins = [m0, m1, m2, m3, m4, m5, m6, m7];
        for (let t = 0; j + t < P; t++) out[j + t] = mins[t]!;
      }
    }
  }
}

/** Jaccard similarity estimated from two signatures of the same hasher: the fraction of equal slots. */
export function estimatedJaccard(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`signatures differ in length (${a.length} vs ${b.length})`);
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return a.length === 0 ? 0 : same / a.length;
}

// ---------------------------------------------------------------------------------------------------------------------
// LSH parameters

/** Probability that two texts with Jaccard s share at least one of b bands of r rows. */
const candidateProbability = (s: number, b: number, r: number) => 1 - Math.pow(1 - Math.pow(s, r), b);

function integrate(f: (x: number) => number, lo: number, hi: number, steps = 100): number {
  // Simpson's rule (steps even).
  if (hi <= lo) return 0;
  const h = (hi - lo) / steps;
  let sum = f(lo) + f(hi);
  for (let i = 1; i < steps; i++) sum += f(lo + i * h) * (i % 2 === 1 ? 4 : 2);
  return (sum * h) / 3;
}

const bandCache = new Map<string, { bands: number; rows: number }>();

/**
 * The standard optimal LSH banding for a Jaccard threshold (as in datasketch's MinHashLSH): over all b·r ≤ numPerm,
 * the (b, r) minimizing `fpWeight·∫₀ᵗ P(s) ds + fnWeight·∫ₜ¹ (1 − P(s)) ds` with `P(s) = 1 − (1 − s^r)^b`
 * (false-positive and false-negative areas). Default weights 0.5/0.5 (datasketch's): t = 0.8, 128 perms → 9 bands of
 * 13 rows; with 0.1/0.9 (`CLUSTER_BAND_WEIGHTS`, what clustering uses) → 14 bands of 9 rows.
 */
export function optimalBands(threshold: number, numPerm: number, { fpWeight = 0.5, fnWeight = 0.5 } = {}): { bands: number; rows: number } {
  checkThreshold(threshold);
  const key = `${threshold}/${numPerm}/${fpWeight}/${fnWeight}`;
  const cached = bandCache.get(key);
  if (cached) return cached;
  let best = { bands: 1, rows: numPerm };
  let bestError = Infinity;
  for (let b = 1; b <= numPerm; b++) {
    for (let r = 1; r <= Math.floor(numPerm / b); r++) {
      const fp = integrate((s) => candidateProbability(s, b, r), 0, threshold);
      const fn = integrate((s) => 1 - candidateProbability(s, b, r), threshold, 1);
      const error = fpWeight * fp + fnWeight * fn;
      if (error < bestError - 1e-12) {
        bestError = error;
        best = { bands: b, rows: r };
      }
    }
  }
  bandCache.set(key, best);
  return best;
}

function checkThreshold(threshold: number): void {
  if (!(typeof threshold === 'number' && threshold > 0 && threshold <= 1))
    throw new Error(`threshold must be a Jaccard similarity in (0, 1], not ${threshold}`);
}

// ---------------------------------------------------------------------------------------------------------------------
// Union-find

class UnionFind {
  private readonly parent: Int32Array;
  private readonly rank: Uint8Array;
  constructor(n: number) {
    this.parent = new Int32Array(n);
    for (let i = 0; i < n; i++) this.parent[i] = i;
    this.rank = new Uint8Array(n);
  }
  find(x: number): number {
    const p = this.parent;
    let root = x;
    while (p[root]! !== root) root = p[root]!;
    while (p[x]! !== root) {
      const next = p[x]!;
      p[x] = root;
      x = next;
    }
    return root;
  }
  /** Joins the sets of a and b; returns the new root. */
  union(a: number, b: number): number {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return ra;
    if (this.rank[ra]! < this.rank[rb]!) [ra, rb] = [rb, ra];
    this.parent[rb] = ra;
    if (this.rank[ra] === this.rank[rb]) this.rank[ra]!++;
    return ra;
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Near-duplicate index

export interface NearDupCluster {
  /** Member ids, ascending. */
  ids: number[];
  /** The smallest Jaccard similarity, estimated from the signatures, between the first id and any other member. */
  similarity: number;
}

export interface ClusterOptions {
  /** LSH bands; with `rows`, overrides the optimal banding for the threshold (bands·rows ≤ numPerm). */
  bands?: number;
  rows?: number;
  /** Weights of the optimal-banding criterion (see `optimalBands`); default `CLUSTER_BAND_WEIGHTS` (0.1/0.9). */
  fpWeight?: number;
  fnWeight?: number;
}

/**
 * The banding weights `clusters` uses by default: false negatives weigh 0.9, false positives 0.1. Every candidate
 * pair is verified on the full signature, so a false positive of the banding costs one signature comparison while
 * a false negative loses a duplicate. With the classic 0.5/0.5 weights a threshold of 0.8 gives 9 bands × 13 rows,
 * which makes a pair a candidate with probability 0.40 at J = 0.8, 0.69 at 0.85 and 0.93 at 0.9 (planted groups
 * with 2–3% of their words edited are routinely split); with 0.1/0.9 it gives 14 × 9: 0.87, 0.97 and 0.999.
 */
export const CLUSTER_BAND_WEIGHTS: Readonly<{ fpWeight: number; fnWeight: number }> = Object.freeze({ fpWeight: 0.1, fnWeight: 0.9 });

/**
 * Near-duplicate index fed one example at a time (e.g. page by page from SQLite): keeps one signature per id in a
 * growing `Int32Array` matrix (numPerm·4 bytes per example: 51 MB for 100k examples at 128 perms) and clusters on
 * demand, for any threshold.
 */
export class NearDupIndex {
  readonly hasher: MinHasher;
  private sigs: Int32Array;
  private ids: Float64Array;
  private count = 0;
  private readonly seen = new Set<number>();

  constructor(options: MinHasherOptions = {}) {
    this.hasher = new MinHasher(options);
    this.sigs = new Int32Array(1024 * this.hasher.numPerm);
    this.ids = new Float64Array(1024);
  }

  get size(): number {
    return this.count;
  }

  private slot(id: number): number {
    if (!Number.isFinite(id)) throw new Error(`id must be a finite number, not ${id}`);
    if (this.seen.has(id)) throw new Error(`id ${id} was already added`);
    this.seen.add(id);
    if (this.count === this.ids.length) {
      const ids = new Float64Array(this.ids.length * 2);
      ids.set(this.ids);
      this.ids = ids;
      const sigs = new Int32Array(this.sigs.length * 2);
      sigs.set(this.sigs);
      this.sigs = sigs;
    }
    this.ids[this.count] = id;
    return this.count++;
  }

  /** Adds one text (normalized by the hasher unless it was built with `normalize: false`). */
  add(id: number, text: string): void {
    const P = this.hasher.numPerm;
    const i = this.slot(id);
    this.hasher.signatureInto(text, this.sigs.subarray(i * P, i * P + P));
  }

  /** Adds a signature computed elsewhere by an equivalent hasher (same numPerm, shingle and seed). */
  addSignature(id: number, signature: Uint32Array | Int32Array): void {
    const P = this.hasher.numPerm;
    if (signature.length !== P) throw new Error(`the signature has ${signature.length} slots, not ${P}`);
    const i = this.slot(id);
    this.sigs.set(new Int32Array(signature.buffer, signature.byteOffset, P), i * P);
  }

  /** The signature stored for `id`, or null. */
  signatureOf(id: number): Uint32Array | null {
    if (!this.seen.has(id)) return null;
    const i = this.ids.subarray(0, this.count).indexOf(id);
    const P = this.hasher.numPerm;
    return new Uint32Array(this.sigs.slice(i * P, i * P + P).buffer);
  }

  /**
   * Clusters of near duplicates at `threshold` (estimated Jaccard). Candidate pairs are the items sharing an LSH
   * bucket in at least one band; each candidate pair whose items are not already in the same cluster is verified
   * with the similarity estimated over the whole signature and joined (union-find) when it is ≥ threshold. Clusters
   * are transitive: two members may be less similar than the threshold through a chain. Only clusters of ≥ 2 items;
   * ids ascending in each; clusters ordered by first id.
   *
   * Buckets are kept as groups of items already in one cluster, so an item entering a bucket is compared with the
   * members of the other clusters only: thousands of near-identical items (a shared template) cost linear time.
   */
  clusters(threshold: number, options: ClusterOptions = {}): NearDupCluster[] {
    checkThreshold(threshold);
    const P = this.hasher.numPerm;
    let { bands, rows } = options;
    if (bands === undefined || rows === undefined) {
      ({ bands, rows } = optimalBands(threshold, P, {
        fpWeight: options.fpWeight ?? CLUSTER_BAND_WEIGHTS.fpWeight,
        fnWeight: options.fnWeight ?? CLUSTER_BAND_WEIGHTS.fnWeight,
      }));
    }
    if (!Number.isInteger(bands) || !Number.isInteger(rows) || bands < 1 || rows < 1 || bands * rows > P) {
      throw new Error(`bands (${bands}) × rows (${rows}) must be positive integers with a product ≤ numPerm (${P})`);
    }
    const n = this.count;
    const sigs = this.sigs;
    const uf = new UnionFind(n);
    const maxMismatch = Math.floor(P * (1 - threshold) + 1e-9);
    const similar = (x: number, y: number): boolean => {
      let mismatches = 0;
      const ox = x * P;
      const oy = y * P;
      for (let k = 0; k < P; k++) {
        if (sigs[ox + k] !== sigs[oy + k] && ++mismatches > maxMismatch) return false;
      }
      return true;
    };

    // One bucket: a single item index (number) or groups of items, each group a cluster at the time it was formed.
    type Bucket = number | number[][];
    for (let band = 0; band < bands; band++) {
      const buckets = new Map<number, Bucket>();
      const start = band * rows;
      for (let i = 0; i < n; i++) {
        let h = band;
        const o = i * P + start;
        for (let r = 0; r < rows; r++) h = fmix32(Math.imul(h, 0x9e3779b1) ^ sigs[o + r]!);
        const bucket = buckets.get(h);
        if (bucket === undefined) {
          buckets.set(h, i);
          continue;
        }
        const groups: number[][] = typeof bucket === 'number' ? [[bucket]] : bucket;
        if (typeof bucket === 'number') buckets.set(h, groups);
        // Compare i with the groups of other clusters until it joins one; then keep checking the rest (it may bridge).
        for (const group of groups) {
          if (uf.find(group[0]!) === uf.find(i)) continue;
          for (const j of group) {
            if (similar(i, j)) {
              uf.union(i, j);
              break;
            }
          }
        }
        // Regroup: every group now in i's cluster is merged, with i, into the largest of them (amortized copying).
        const root = uf.find(i);
        let target: number[] | null = null;
        for (const group of groups) {
          if (uf.find(group[0]!) === root && (target === null || group.length > target.length)) target = group;
        }
        if (target === null) {
          groups.push([i]);
          continue;
        }
        target.push(i);
        let w = 0;
        for (const group of groups) {
          if (group !== target && uf.find(group[0]!) === root) {
            for (const j of group) target.push(j);
          } else {
            groups[w++] = group;
          }
        }
        groups.length = w;
      }
    }

    const setSize = new Int32Array(n);
    for (let i = 0; i < n; i++) setSize[uf.find(i)]!++;
    const byRoot = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const root = uf.find(i);
      if (setSize[root]! < 2) continue;
      const list = byRoot.get(root);
      if (list) list.push(i);
      else byRoot.set(root, [i]);
    }

    const clusters: NearDupCluster[] = [];
    for (const members of byRoot.values()) {
      members.sort((x, y) => this.ids[x]! - this.ids[y]!);
      const first = members[0]!;
      let minSame = P;
      for (let m = 1; m < members.length; m++) {
        const o1 = first * P;
        const o2 = members[m]! * P;
        let same = 0;
        for (let k = 0; k < P; k++) if (sigs[o1 + k] === sigs[o2 + k]) same++;
        if (same < minSame) minSame = same;
      }
      clusters.push({ ids: members.map((x) => this.ids[x]!), similarity: minSame / P });
    }
    return clusters.sort((x, y) => x.ids[0]! - y.ids[0]!);
  }
}

export interface NearDupOptions extends ClusterOptions {
  /** Estimated Jaccard similarity at or above which two texts are near duplicates, e.g. 0.85. */
  threshold: number;
  numPerm?: number;
  shingle?: number;
  seed?: number;
  /** Called with the number of items signed so far, every 1,000 items and once at the end. */
  onProgress?: (done: number) => void;
}

/** Near-duplicate clusters of `items` (texts as from `exampleText`; normalized here). See `NearDupIndex.clusters`. */
export function nearDuplicateClusters(items: Iterable<{ id: number; text: string }>, options: NearDupOptions): { clusters: NearDupCluster[] } {
  const { threshold, numPerm, shingle, seed, onProgress, ...clusterOptions } = options;
  checkThreshold(threshold);
  const index = new NearDupIndex({ numPerm, shingle, seed });
  let done = 0;
  for (const { id, text } of items) {
    index.add(id, text);
    if (++done % 1000 === 0) onProgress?.(done);
  }
  if (done % 1000 !== 0 || done === 0) onProgress?.(done);
  return { clusters: index.clusters(threshold, clusterOptions) };
}
