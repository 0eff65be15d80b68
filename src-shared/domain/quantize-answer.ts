// The answer of a quantization ladder: which types are worth shipping (the Pareto front of size against KLD), the
// smallest one within the user's budget, the sentence that says so, and two ladders side by side. Pure functions of
// the figures a ladder run recorded (see contract/quantize.ts's LadderResults), shared by the page and the CLI.

import type { Budget, BudgetMetric } from './quantize.js';

/** What the answer needs of a type: its name, file size and (once gated) the three figures a budget can bound. */
export interface GatedType {
  type: string;
  bytes: number;
  gate: { kld: number; sameTop: number; pplRatio: number } | null;
}

export const BUDGET_METRICS: readonly { metric: BudgetMetric; label: string; short: string; bound: '≤' | '≥'; fallback: number }[] = [
  { metric: 'kld', label: 'mean KLD', short: 'KLD', bound: '≤', fallback: 0.05 },
  { metric: 'sameTop', label: 'same top token', short: 'same top', bound: '≥', fallback: 0.9 },
  { metric: 'pplRatio', label: 'PPL ratio', short: 'PPL ratio', bound: '≤', fallback: 1.05 },
];

export function budgetMeta(metric: BudgetMetric) {
  return BUDGET_METRICS.find((m) => m.metric === metric)!;
}

/** A figure of a budget's metric as the answer writes it: KLD to 2 significant digits, same top in percent, a ratio to 3 decimals. */
export function formatMetric(metric: BudgetMetric, v: number): string {
  if (metric === 'sameTop') return `${(100 * v).toFixed(1)}%`;
  if (metric === 'pplRatio') return v.toFixed(3);
  return Math.abs(v) >= 0.1 || v === 0 ? v.toFixed(2) : v.toPrecision(2);
}

/** Whether a figure is within a budget: KLD and PPL ratio at most the value, same top at least it. */
export function within(budget: Budget, v: number): boolean {
  return budget.metric === 'sameTop' ? v >= budget.value : v <= budget.value;
}

/**
 * The types no other type beats on both counts (smaller or equal file and lower or equal mean KLD, one of them
 * strictly): the ones worth considering. Ungated types are left out. Smallest first.
 */
export function paretoFront<T extends GatedType>(rows: readonly T[]): T[] {
  const gated = rows.filter((r): r is T & { gate: NonNullable<T['gate']> } => r.gate !== null);
  const front = gated.filter(
    (r) => !gated.some((o) => o !== r && o.bytes <= r.bytes && o.gate.kld <= r.gate.kld && (o.bytes < r.bytes || o.gate.kld < r.gate.kld)),
  );
  return front.sort((a, b) => a.bytes - b.bytes || a.gate.kld - b.gate.kld);
}

export type Pick<T extends GatedType> =
  /** `picked`: the smallest type within the budget; `nextSmaller`: the next smaller gated type, which is not. */
  | { kind: 'within'; picked: T; nextSmaller: T | null }
  /** No gated type is within: `closest` has the best figure of the budget's metric. */
  | { kind: 'none'; closest: T }
  /** No type has gate figures (yet, or the ladder has no gate). */
  | { kind: 'unmeasured' };

/** The smallest file whose figure is within the budget (ties: the better figure); none → the one that comes closest. */
export function pickWithin<T extends GatedType>(rows: readonly T[], budget: Budget): Pick<T> {
  const gated = rows.filter((r) => r.gate !== null).sort((a, b) => a.bytes - b.bytes);
  if (gated.length === 0) return { kind: 'unmeasured' };
  const value = (r: T) => r.gate![budget.metric];
  const better = (a: T, b: T) => (budget.metric === 'sameTop' ? value(a) > value(b) : value(a) < value(b));
  const fits = gated.filter((r) => within(budget, value(r)));
  if (fits.length === 0) return { kind: 'none', closest: gated.reduce((best, r) => (better(r, best) ? r : best)) };
  const smallest = fits.filter((r) => r.bytes === fits[0]!.bytes).reduce((best, r) => (better(r, best) ? r : best));
  const nextSmaller = gated.filter((r) => r.bytes < smallest.bytes && !within(budget, value(r))).at(-1) ?? null;
  return { kind: 'within', picked: smallest, nextSmaller };
}

/** "3.1×": how many times smaller than the source a file is. */
export function timesSmaller(sourceBytes: number, bytes: number): string {
  const x = sourceBytes / bytes;
  return `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}×`;
}

/**
 * The answer in one sentence, e.g. "Q4_K_M with your imatrix is within your budget and 3.1× smaller than the source;
 * Q3_K_M is not (KLD 0.10 > 0.05)."
 */
export function answerSentence(
  pick: Pick<GatedType>,
  budget: Budget,
  { sourceBytes, withImatrix, pending = 0 }: { sourceBytes: number; withImatrix: boolean; pending?: number },
): string {
  const meta = budgetMeta(budget.metric);
  const limit = formatMetric(budget.metric, budget.value);
  const fig = (r: GatedType) => `${meta.short} ${formatMetric(budget.metric, r.gate![budget.metric])}`;
  const broken = meta.bound === '≤' ? '>' : '<';
  const later = pending > 0 ? ` (${pending} type${pending === 1 ? '' : 's'} still to measure)` : '';
  if (pick.kind === 'unmeasured') return pending > 0 ? `No type has been scored yet${later}.` : 'No type of this ladder was scored against its source.';
  if (pick.kind === 'none') {
    return `No type is within your budget (${meta.short} ${meta.bound} ${limit})${later}; the closest is ${pick.closest.type} (${fig(pick.closest)}).`;
  }
  const { picked, nextSmaller } = pick;
  const head = `${picked.type}${withImatrix ? ' with your imatrix' : ''} is within your budget and ${timesSmaller(sourceBytes, picked.bytes)} smaller than the source`;
  const tail = nextSmaller ? `; ${nextSmaller.type} is not (${fig(nextSmaller)} ${broken} ${limit})` : '';
  return `${head}${tail}${later}.`;
}

/** One type of two ladders side by side: A's and B's figures (null: not in that ladder, or not gated) and B − A. */
export interface LadderPair {
  type: string;
  a: ComparedFigures | null;
  b: ComparedFigures | null;
  diff: ComparedFigures | null;
}
export interface ComparedFigures {
  bytes: number;
  kld: number | null;
  sameTop: number | null;
  pplRatio: number | null;
}

/** Two ladders type by type, in `order` (the ladder's order, largest first), then types only one of them has. */
export function compareLadders(a: readonly GatedType[], b: readonly GatedType[], order: readonly string[] = []): LadderPair[] {
  const fig = (r: GatedType | undefined): ComparedFigures | null =>
    r ? { bytes: r.bytes, kld: r.gate?.kld ?? null, sameTop: r.gate?.sameTop ?? null, pplRatio: r.gate?.pplRatio ?? null } : null;
  const sub = (x: number | null, y: number | null) => (x === null || y === null ? null : y - x);
  const types = [...new Set([...a.map((r) => r.type), ...b.map((r) => r.type)])];
  const rank = (t: string) => (order.includes(t) ? order.indexOf(t) : order.length);
  types.sort((x, y) => rank(x) - rank(y));
  return types.map((type) => {
    const fa = fig(a.find((r) => r.type === type));
    const fb = fig(b.find((r) => r.type === type));
    const diff =
      fa && fb ? { bytes: fb.bytes - fa.bytes, kld: sub(fa.kld, fb.kld), sameTop: sub(fa.sameTop, fb.sameTop), pplRatio: sub(fa.pplRatio, fb.pplRatio) } : null;
    return { type, a: fa, b: fb, diff };
  });
}
