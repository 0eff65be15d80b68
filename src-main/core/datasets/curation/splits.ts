import { mulberry32 } from '../../random.js';
/**
 * Seeded, reproducible train/validation/test assignment.
 *
 * The procedure, exactly:
 * 1. Validate (an `Error` naming the field): `seed` an integer; `ratios` and `counts` not both given (neither: the
 *    default 0.8/0.1/0.1); every ratio a finite number ≥ 0, summing to 1 ± 1e-9; every count a non-negative
 *    integer, each and their sum ≤ the examples available; `counts.test` > 0 is refused with `frozenTest`; keys
 *    finite and unique; `fixed` one of the three splits or null.
 * 2. Sort the items by key, so the input order never matters.
 * 3. `fixed` is the item's current split and is read only when `frozenTest` is true: then items with
 *    `fixed === 'test'` stay test and are set aside; every other item (whatever its `fixed`) is free, and no free item
 *    becomes test. Without `frozenTest` every item is free.
 * 4. Totals for the F free items:
 *    - ratios: the shares are the ratios; with `frozenTest` the test ratio is dropped and train/validation are
 *      renormalized to train/(train+validation) and validation/(train+validation) (all train when both are 0). The
 *      totals are F × share rounded by largest remainder (ties: train, validation, test), so they sum to F exactly;
 *    - counts: validation = `counts.validation` (default 0), test = `counts.test` (default 0), train = the rest.
 *      The counts apply to the free items: with `frozenTest` the frozen test items are not counted as available.
 * 5. Strata (`stratum`; null/undefined is a stratum of its own): a stratum of size n gets n × share of each split,
 *    rounded so that each stratum's counts sum to n, each split's counts over all strata equal its total exactly, and
 *    every count is the floor or the ceiling of n × share (so each stratum's proportions match the shares as closely
 *    as integers allow): floors first, then the leftover units go to the (stratum, split) cells with the largest
 *    fractional parts (ties: strata in order — null first, then names by code unit —, then train, validation, test)
 *    while both the stratum and the split still need units, and augmenting paths complete the table when that greedy
 *    pass gets stuck. Without strata this is step 4's totals.
 * 6. In each stratum the items (in key order) are shuffled by Fisher–Yates with mulberry32 seeded from `seed` and the
 *    stratum name; the first ones go to train, the next to validation, the rest to test.
 * The result maps every key to its split, in key order. Same items (in any order) and seed → same map.
 */

export type SplitName = 'train' | 'validation' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'validation', 'test'];

export interface SplitItem {
  key: number;
  stratum?: string | null;
  /** The item's current split: with `frozenTest`, `'test'` keeps it in test. */
  fixed?: SplitName | null;
}

export interface SplitRatios {
  train: number;
  validation: number;
  test: number;
}

export interface SplitCounts {
  validation?: number;
  test?: number;
}

export interface AssignSplitsOptions {
  /** Shares of each split (default 0.8/0.1/0.1). Exclusive with `counts`. */
  ratios?: SplitRatios;
  /** Exact numbers of validation and test examples; the rest is train. Exclusive with `ratios`. */
  counts?: SplitCounts;
  seed: number;
  /** Keep `fixed === 'test'` items in test and put no other item in test. */
  frozenTest?: boolean;
}

export const DEFAULT_SPLIT_RATIOS: Readonly<SplitRatios> = Object.freeze({ train: 0.8, validation: 0.1, test: 0.1 });

type Triple = [number, number, number]; // train, validation, test

export { mulberry32 }; // the split shuffle's PRNG (src-main/core/random.ts)

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The PRNG seed of one stratum: depends on the whole seed (also above 2^32) and on the stratum name. */
function stratumSeed(seed: number, stratum: string | null): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  const name = stratum === null ? 0x9e3779b9 : fnv1a(stratum);
  return mix(lo ^ mix(hi ^ mix(name)));
}

/** Rounds away float noise (0.1 × 30 = 3.0000000000000004) before flooring. */
const clean = (x: number) => Math.round(x * 1e9) / 1e9;

/** Integers summing to `total`, proportional to `shares` (which sum to 1), by largest remainder; ties by index. */
function largestRemainder(total: number, shares: Triple): Triple {
  const quotas = shares.map((s) => clean(total * s));
  const result = quotas.map(Math.floor) as Triple;
  let left = total - result.reduce((a, b) => a + b, 0);
  const order = [0, 1, 2].sort((a, b) => quotas[b]! - result[b]! - (quotas[a]! - result[a]!) || a - b);
  for (let k = 0; left > 0; k = (k + 1) % 3) {
    result[order[k]!]!++;
    left--;
  }
  return result;
}

function validate(items: readonly SplitItem[], options: AssignSplitsOptions): void {
  const { ratios, counts, seed, frozenTest } = options;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new Error(`seed must be an integer (got ${String(seed)})`);
  if (ratios !== undefined && counts !== undefined) throw new Error('give either ratios or counts, not both');
  if (ratios !== undefined) {
    for (const name of SPLIT_NAMES) {
      const r = ratios[name];
      if (typeof r !== 'number' || !Number.isFinite(r) || r < 0) throw new Error(`ratios.${name} must be a non-negative number (got ${String(r)})`);
    }
    const sum = ratios.train + ratios.validation + ratios.test;
    if (Math.abs(sum - 1) > 1e-9) throw new Error(`ratios must sum to 1 (train + validation + test = ${sum})`);
  }
  if (counts !== undefined) {
    for (const name of ['validation', 'test'] as const) {
      const c = counts[name];
      if (c !== undefined && (typeof c !== 'number' || !Number.isInteger(c) || c < 0)) {
        throw new Error(`counts.${name} must be a non-negative integer (got ${String(c)})`);
      }
    }
    if (frozenTest && (counts.test ?? 0) > 0) {
      throw new Error(`counts.test must be 0 or absent with a frozen test split: only the frozen test examples are test (got ${counts.test})`);
    }
  }
  const seen = new Set<number>();
  for (const item of items) {
    if (typeof item.key !== 'number' || !Number.isFinite(item.key)) throw new Error(`items: key must be a finite number (got ${String(item.key)})`);
    if (seen.has(item.key)) throw new Error(`items: duplicate key ${item.key}`);
    seen.add(item.key);
    if (item.fixed != null && !SPLIT_NAMES.includes(item.fixed)) {
      throw new Error(`items: fixed must be train, validation, test or null (key ${item.key}: ${String(item.fixed)})`);
    }
    if (item.stratum != null && typeof item.stratum !== 'string') throw new Error(`items: stratum must be a string or null (key ${item.key})`);
  }
}

/** Assigns every item a split; see the module comment for the exact procedure. */
export function assignSplits(items: readonly SplitItem[], options: AssignSplitsOptions): Map<number, SplitName> {
  validate(items, options);
  const frozenTest = options.frozenTest === true;
  const sorted = [...items].sort((a, b) => a.key - b.key);
  const isFrozen = (item: SplitItem) => frozenTest && item.fixed === 'test';
  const free = sorted.filter((item) => !isFrozen(item));
  const F = free.length;

  // Totals and shares of the free items.
  let totals: Triple;
  let shares: Triple;
  if (options.counts !== undefined) {
    const validation = options.counts.validation ?? 0;
    const test = frozenTest ? 0 : (options.counts.test ?? 0);
    const available = `the ${F} example${F === 1 ? '' : 's'} available${frozenTest ? ' outside the frozen test split' : ''}`;
    if (validation > F) throw new Error(`counts.validation (${validation}) exceeds ${available}`);
    if (test > F) throw new Error(`counts.test (${test}) exceeds ${available}`);
    if (validation + test > F) throw new Error(`counts.validation + counts.test (${validation + test}) exceed ${available}`);
    totals = [F - validation - test, validation, test];
    shares = F === 0 ? [1, 0, 0] : (totals.map((t) => t / F) as Triple);
  } else {
    const r = options.ratios ?? DEFAULT_SPLIT_RATIOS;
    if (frozenTest) {
      const rest = r.train + r.validation;
      shares = rest === 0 ? [1, 0, 0] : [r.train / rest, r.validation / rest, 0];
    } else {
      shares = [r.train, r.validation, r.test];
    }
    totals = largestRemainder(F, shares);
  }

  // Strata, in a fixed order: null first, then names by code unit.
  const strata = new Map<string | null, SplitItem[]>();
  for (const item of free) {
    const s = item.stratum ?? null;
    const list = strata.get(s);
    if (list) list.push(item);
    else strata.set(s, [item]);
  }
  const names = [...strata.keys()].sort((a, b) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1));
  const allocation = allocate(
    names.map((n) => strata.get(n)!.length),
    shares,
    totals,
  );

  const assigned = new Map<string | null, Map<number, SplitName>>();
  names.forEach((name, g) => {
    const members = strata.get(name)!.map((item) => item.key);
    const random = mulberry32(stratumSeed(options.seed, name));
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [members[i], members[j]] = [members[j]!, members[i]!];
    }
    const [train, validation] = allocation[g]!;
    const map = new Map<number, SplitName>();
    members.forEach((key, i) => map.set(key, i < train ? 'train' : i < train + validation ? 'validation' : 'test'));
    assigned.set(name, map);
  });

  const result = new Map<number, SplitName>();
  for (const item of sorted) result.set(item.key, isFrozen(item) ? 'test' : assigned.get(item.stratum ?? null)!.get(item.key)!);
  return result;
}

/**
 * Per-stratum split counts: rows sum to the stratum sizes, columns to `totals`, every cell the floor or the ceiling of
 * size × share (such a rounding always exists for a two-way table whose margins are themselves roundings: controlled
 * rounding, Bacharach 1966). Floors first; the leftover units go to the cells with the largest fractional parts while
 * both their stratum and their split still need units; when that greedy pass gets stuck, augmenting paths (bipartite
 * b-matching over the cells with a fractional part) move units until every stratum and split is complete.
 */
function allocate(sizes: number[], shares: Triple, totals: Triple): Triple[] {
  if (sizes.length === 1) return [[...totals]];
  const G = sizes.length;
  const quota = sizes.map((n) => shares.map((sh) => clean(n * sh)) as Triple);
  const cells: Triple[] = quota.map((row) => row.map(Math.floor) as Triple);
  const rowNeed = sizes.map((n, g) => n - cells[g]!.reduce((a, b) => a + b, 0));
  const colNeed = totals.map((t, s) => t - cells.reduce((sum, row) => sum + row[s]!, 0));
  /** Cells holding their ceiling (floor + 1). */
  const extra: [boolean, boolean, boolean][] = sizes.map(() => [false, false, false]);
  /** A cell that can still take its ceiling: it has a fractional part and holds its floor. */
  const open = (g: number, s: number) => !extra[g]![s] && quota[g]![s]! > Math.floor(quota[g]![s]!);

  // Greedy: largest fractional parts first.
  const fractions: { g: number; s: number; frac: number }[] = [];
  for (let g = 0; g < G; g++) {
    for (let s = 0; s < 3; s++) {
      const frac = quota[g]![s]! - Math.floor(quota[g]![s]!);
      if (frac > 0) fractions.push({ g, s, frac });
    }
  }
  fractions.sort((a, b) => b.frac - a.frac || a.g - b.g || a.s - b.s);
  const give = (g: number, s: number, unit: 1 | -1) => {
    cells[g]![s]! += unit;
    extra[g]![s] = unit === 1;
  };
  for (const { g, s } of fractions) {
    if (rowNeed[g]! > 0 && colNeed[s]! > 0) {
      give(g, s, 1);
      rowNeed[g]!--;
      colNeed[s]!--;
    }
  }

  // Augmenting paths: stratum g (needs a unit) → split s through an unused fractional cell; if s is full, split s →
  // stratum g' that holds an extra unit in s, which then needs a unit elsewhere; … until a split that needs a unit.
  for (;;) {
    const start = rowNeed.findIndex((n) => n > 0);
    if (start < 0) break;
    const viaCol: (number | undefined)[] = [undefined, undefined, undefined]; // column → row it was reached from
    const viaRow = new Map<number, number>([[start, -1]]); // row → column it was reached from (-1: start)
    let queue = [start];
    let end = -1;
    while (queue.length > 0 && end < 0) {
      const next: number[] = [];
      for (const g of queue) {
        for (let s = 0; s < 3 && end < 0; s++) {
          if (viaCol[s] !== undefined || !open(g, s)) continue;
          viaCol[s] = g;
          if (colNeed[s]! > 0) {
            end = s;
            break;
          }
          for (let h = 0; h < G; h++) {
            if (extra[h]![s] && !viaRow.has(h)) {
              viaRow.set(h, s);
              next.push(h);
            }
          }
        }
        if (end >= 0) break;
      }
      queue = next;
    }
    if (end < 0) break; // cannot happen for consistent margins; the fallback below completes the table
    // Flip along the path back to the start.
    let s = end;
    colNeed[s]!--;
    for (;;) {
      const g = viaCol[s]!;
      give(g, s, 1);
      const from = viaRow.get(g)!;
      if (from < 0) {
        rowNeed[g]!--;
        break;
      }
      give(g, from, -1);
      s = from;
    }
  }

  // Safety net (inconsistent float margins only): any split that still needs units.
  for (let g = 0; g < G; g++) {
    for (let s = 0; s < 3 && rowNeed[g]! > 0; s++) {
      const k = Math.min(rowNeed[g]!, colNeed[s]!);
      if (k <= 0) continue;
      cells[g]![s]! += k;
      rowNeed[g]! -= k;
      colNeed[s]! -= k;
    }
  }
  if (rowNeed.some((n) => n !== 0) || colNeed.some((n) => n !== 0)) throw new Error('internal error: split allocation does not add up');
  return cells;
}
