import { METRIC_INFO, type EvalMetric, type ExampleFilter, type Interval, type LeaderboardRow } from '../../../src-shared/domain/evaluate.js';

/** A metric of the leaderboard: the run's metrics, and the answer length. */
export type BoardMetric = EvalMetric | 'length';

/** Metrics that are a share of answers (0–1 stored), shown as percentages. */
const SHARES: ReadonlySet<BoardMetric> = new Set(['exact', 'contains', 'regex', 'json', 'schema', 'pairwise']);

/**
 * A metric's value as the page shows it: shares as percentages (exact 62.5%), F1 and ROUGE-L on 0–1 (0.412), chrF on
 * its own 0–100 scale (48.3), the judge's 1–10 score (7.25) and lengths in tokens (31.4).
 */
export function formatMetric(metric: BoardMetric, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (SHARES.has(metric)) return `${(100 * v).toFixed(1)}%`;
  if (metric === 'chrf') return v.toFixed(1);
  if (metric === 'judge') return v.toFixed(2);
  if (metric === 'length') return v.toFixed(1);
  return v.toFixed(3);
}

/**
 * One answer's value of a metric: a pass/fail metric as ✓ or ✗, the pairwise verdict as win/tie/loss, the others as
 * on the leaderboard.
 */
export function formatAnswerMetric(metric: EvalMetric, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (metric === 'pairwise') return v >= 1 ? 'win' : v <= 0 ? 'loss' : 'tie';
  if (SHARES.has(metric)) return v >= 1 ? '✓' : v <= 0 ? '✗' : formatMetric(metric, v);
  return formatMetric(metric, v);
}

/**
 * A difference of a metric (variant − teacher, B − A), signed, in the metric's units: shares in percentage points
 * ("−2.1 pt"; without the unit when `unit` is false, for an interval's bounds).
 */
export function formatDelta(metric: BoardMetric, d: number | null | undefined, unit = true): string {
  if (d === null || d === undefined || !Number.isFinite(d)) return '—';
  const sign = d > 0 ? '+' : d < 0 ? '−' : '±';
  const a = Math.abs(d);
  if (SHARES.has(metric)) return `${sign}${(100 * a).toFixed(1)}${unit ? ' pt' : ''}`;
  return `${sign}${formatMetric(metric, a)}`;
}

/** "62.5% [55.0%, 70.0%]": a mean with its 95% interval. */
export function formatInterval(metric: BoardMetric, iv: Interval | undefined): string {
  if (!iv) return '—';
  return `${formatMetric(metric, iv.mean)} [${formatMetric(metric, iv.low)}, ${formatMetric(metric, iv.high)}]`;
}

/** Where a paired difference's interval lies: wholly above zero, wholly below, or across it (no clear difference). */
export function differenceSide(iv: Interval | undefined): 'above' | 'below' | 'across' | null {
  if (!iv) return null;
  if (iv.low > 0) return 'above';
  if (iv.high < 0) return 'below';
  return 'across';
}

/** A paired difference with its interval: "−2.1 pt [−3.5, −0.7]". */
export function formatPaired(metric: BoardMetric, iv: Interval | undefined): string {
  if (!iv) return '—';
  return `${formatDelta(metric, iv.mean)} [${formatDelta(metric, iv.low, false)}, ${formatDelta(metric, iv.high, false)}]`;
}

/** A metric's name on the page. */
export const metricLabel = (m: BoardMetric): string => METRIC_INFO[m].label;

/** The per-example table's filters in plain words. */
export const FILTER_LABELS: Record<ExampleFilter, string> = {
  all: 'All examples',
  'student-wrong-teacher-right': 'Student wrong, teacher right',
  'student-right-teacher-wrong': 'Student right, teacher wrong',
  'judge-disagrees-exact': 'Judge disagrees with exact match',
  contaminated: 'Seen in training data (contaminated)',
  'most-divergent': 'Most divergent from the teacher first',
};

/** A metric's scale on a chart axis: 0 to its maximum when it has one, else 0 to the largest value shown. */
export function axisMax(metric: BoardMetric, values: number[]): number {
  const max = METRIC_INFO[metric].max;
  if (Number.isFinite(max)) return max;
  const top = Math.max(0, ...values.filter(Number.isFinite));
  return top > 0 ? top * 1.15 : 1;
}

/** The rows of a board that have the metric, each with its interval: what the leaderboard chart draws. */
export function chartBars(rows: LeaderboardRow[], metric: BoardMetric): { label: string; variant: number; isTeacher: boolean; iv: Interval }[] {
  return rows.flatMap((r) => {
    const iv = r.metrics[metric];
    return iv && Number.isFinite(iv.mean) ? [{ label: r.label, variant: r.variant, isTeacher: r.isTeacher, iv }] : [];
  });
}

/** The metrics a board shows, in the run's order, with the answer length last when any row has it. */
export function boardMetrics(metrics: EvalMetric[], rows: LeaderboardRow[]): BoardMetric[] {
  const out: BoardMetric[] = metrics.filter((m) => rows.some((r) => r.metrics[m]));
  if (rows.some((r) => r.metrics.length)) out.push('length');
  return out;
}

/**
 * Two boards compared metric by metric, variant by variant (matched by label, then by position): A's mean, B's mean and
 * B − A. A variant only one run has gets null on the other side.
 */
export function compareBoards(
  a: LeaderboardRow[],
  b: LeaderboardRow[],
  metric: BoardMetric,
): { label: string; a: Interval | null; b: Interval | null; diff: number | null }[] {
  const out: { label: string; a: Interval | null; b: Interval | null; diff: number | null }[] = [];
  const usedB = new Set<number>();
  for (const ra of a) {
    let rb = b.find((x) => x.label === ra.label && !usedB.has(x.variant));
    if (!rb) rb = b.find((x) => x.variant === ra.variant && !usedB.has(x.variant) && !a.some((y) => y.label === x.label));
    if (rb) usedB.add(rb.variant);
    const ia = ra.metrics[metric] ?? null;
    const ib = rb?.metrics[metric] ?? null;
    out.push({ label: ra.label, a: ia, b: ib, diff: ia && ib ? ib.mean - ia.mean : null });
  }
  for (const rb of b) {
    if (usedB.has(rb.variant)) continue;
    out.push({ label: rb.label, a: null, b: rb.metrics[metric] ?? null, diff: null });
  }
  return out;
}

/** A KLD in nats: three significant digits, or exponent notation for the tiny ones. */
export const kld = (v: number): string => (!Number.isFinite(v) ? '—' : v === 0 ? '0' : Math.abs(v) < 0.001 ? v.toExponential(2) : v.toPrecision(3));

/** Histogram bins labelled by their lower edge (the last with both): what the x axis shows. */
export function binLabels(edges: number[]): string[] {
  return edges.slice(0, -1).map((e) => kld(e));
}

/** A share typed as a percentage (0–100), as 0–1; null when it is not one. */
export function parseShare(s: string): number | null {
  if (!s.trim()) return null;
  const v = Number(s);
  return Number.isFinite(v) && v >= 0 && v <= 100 ? v / 100 : null;
}

/** A share of queries (0–1) as a percentage. */
export const pct = (v: number | null | undefined, digits = 0): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : `${(100 * v).toFixed(digits)}%`;

/** Variant colours, shared by the charts and the answers (A blue, B orange, …). */
export const VARIANT_COLORS = ['#4fb3ff', '#f2a33a', '#7bd88f', '#e06c75', '#c678dd', '#56b6c2', '#d19a66', '#98c379'];
export const variantColor = (i: number): string => VARIANT_COLORS[i % VARIANT_COLORS.length]!;
export const variantLetter = (i: number): string => String.fromCharCode(65 + i);
