/**
 * An evaluation run's report, computed from what it stored: the leaderboard (each metric's mean with a seeded 95%
 * bootstrap interval, the paired difference with the teacher on the same examples, the pairwise tally), the same board
 * without contaminated examples, the divergence summaries, the systems table and the routing simulation.
 */
import type { JobConfig } from '../../../src-shared/contract/jobs.js';
import {
  METRIC_INFO,
  type DivergenceSummary,
  type EvalMetric,
  type EvalReport,
  type EvalVariantInfo,
  type Interval,
  type LeaderboardRow,
  type RoutingReport,
  type SystemsRow,
} from '../../../src-shared/domain/evaluate.js';
import { bootstrapMean, pairedDifference, pointAtShare, routingCurve, thresholdForTarget, type Interval as RawInterval } from './metrics/index.js';
import type { EvaluateStore, StoredAnswer } from './store.js';
import { variantLabel } from './sources.js';
import type { MeasuredSystems } from './jobs/systems-phase.js';

type Config = JobConfig<'evaluate.run'>;
export interface RoutingOptions {
  variant?: number | undefined;
  metric?: EvalMetric | undefined;
  confidence: 'meanLogprob' | 'minProb' | 'judge';
  share: number;
  target: number;
}

const interval = (r: RawInterval): Interval | null =>
  r.mean === null || r.low === null || r.high === null ? null : { mean: r.mean, low: r.low, high: r.high, n: r.n };

export function variantInfos(c: Config): EvalVariantInfo[] {
  return c.variants.map((v, index) => ({
    index,
    label: variantLabel(v),
    kind: v.kind,
    isTeacher: c.teacher === index,
    modelId: v.kind === 'model' ? v.model.modelId : null,
    describe:
      v.kind === 'model'
        ? `${v.model.modelName}${v.model.adapters.map((a) => ` + ${a.name}×${a.scale}`).join('')}`
        : v.kind === 'server'
          ? v.server.name
          : v.kind === 'distill'
            ? `answers of distillation run ${v.runId}`
            : `predictions from ${v.file}`,
  }));
}

type Scores = Map<string, Map<number, Map<number, number>>>;

function leaderboard(c: Config, runId: number, scores: Scores, answers: StoredAnswer[], keep: (position: number) => boolean): LeaderboardRow[] {
  const seed = runId;
  const metrics: (EvalMetric | 'length')[] = [...c.metrics, 'length'];
  return c.variants.map((v, i) => {
    const mine = answers.filter((a) => a.variant === i && keep(a.position));
    const row: LeaderboardRow = {
      variant: i,
      label: variantLabel(v),
      isTeacher: c.teacher === i,
      answered: mine.filter((a) => a.text !== null).length,
      failed: mine.filter((a) => a.text === null).length,
      metrics: {},
      vsTeacher: {},
      pairwise: null,
    };
    for (const m of metrics) {
      const values = [...(scores.get(m)?.get(i) ?? new Map<number, number>())].filter(([p]) => keep(p)).map(([, x]) => x);
      if (values.length === 0) continue;
      const iv = interval(bootstrapMean(values, { seed }));
      if (iv) row.metrics[m] = iv;
      if (m === 'length' || m === 'pairwise' || c.teacher === null || c.teacher === i) continue;
      const theirs = scores.get(m)?.get(c.teacher);
      if (!theirs) continue;
      const a: number[] = [];
      const b: number[] = [];
      for (const [p, x] of scores.get(m)!.get(i)!) {
        const y = theirs.get(p);
        if (y !== undefined && keep(p)) {
          a.push(x);
          b.push(y);
        }
      }
      if (a.length > 0) {
        const d = interval(pairedDifference(a, b, { seed }));
        if (d) row.vsTeacher[m] = d;
      }
    }
    const pw = scores.get('pairwise')?.get(i);
    if (pw) {
      const all = [...pw].filter(([p]) => keep(p)).map(([, x]) => x);
      row.pairwise = { win: all.filter((x) => x === 1).length, tie: all.filter((x) => x === 0.5).length, loss: all.filter((x) => x === 0).length };
    }
    return row;
  });
}

function histogram(values: number[], bins = 20): { edges: number[]; counts: number[] } {
  const max = Math.max(...values, 1e-9);
  const edges = Array.from({ length: bins + 1 }, (_, k) => (max * k) / bins);
  const counts = new Array<number>(bins).fill(0);
  for (const x of values) counts[Math.min(bins - 1, Math.floor((x / max) * bins))]!++;
  return { edges, counts };
}

function divergenceSummaries(runId: number, store: EvaluateStore): DivergenceSummary[] {
  const rows = store.divergence(runId);
  const variants = [...new Set(rows.map((r) => r.variant))];
  return variants.map((v) => {
    const mine = rows.filter((r) => r.variant === v);
    let tokens = 0;
    let kld = 0;
    let top1 = 0;
    let nll = 0;
    for (const r of mine) {
      tokens += r.figures.tokens;
      kld += r.figures.kld * r.figures.tokens;
      top1 += r.figures.top1 * r.figures.tokens;
      nll += r.figures.nll * r.figures.tokens;
    }
    const per = mine.map((r) => r.figures.kld);
    const iv = interval(bootstrapMean(per, { seed: runId }));
    return {
      variant: v,
      method: mine.some((r) => r.method === 'topk') ? 'topk' : 'full',
      examples: mine.length,
      kld: tokens ? kld / tokens : 0,
      top1: tokens ? top1 / tokens : 0,
      meanNll: tokens ? nll / tokens : 0,
      histogram: histogram(per),
      kldInterval: iv ?? { mean: 0, low: 0, high: 0, n: 0 },
    };
  });
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);

function systemsRows(c: Config, runId: number, store: EvaluateStore, answers: StoredAnswer[], board: LeaderboardRow[]): SystemsRow[] {
  const measured = store.systems(runId) as Map<number, Partial<MeasuredSystems>>;
  return c.variants.map((v, i) => {
    const m = measured.get(i);
    const mine = answers.filter((a) => a.variant === i && a.text !== null);
    const quality: Partial<Record<EvalMetric, number>> = {};
    for (const metric of c.metrics) {
      const iv = board[i]?.metrics[metric];
      if (iv) quality[metric] = iv.mean;
    }
    const measuredNote =
      v.kind === 'model'
        ? m
          ? (m.speedNote ?? null)
          : c.systems
            ? 'not measured yet'
            : 'systems figures were not asked for in this run'
        : v.kind === 'server'
          ? "a server's memory, load time and energy are the server's: only latency and speed as seen from here"
          : 'answers that already existed: nothing was run here';
    return {
      variant: i,
      label: variantLabel(v),
      parameters: m?.parameters ?? null,
      fileBytes: m?.fileBytes ?? null,
      bitsPerWeight: m?.bitsPerWeight ?? null,
      peakRssBytes: m?.peakRssBytes ?? null,
      peakDeviceBytes: m?.peakDeviceBytes ?? null,
      loadSeconds: m?.loadSeconds ?? null,
      ttftMs: mean(mine.map((a) => a.ttftMs).filter((x): x is number => x !== null)),
      promptTokensPerSecond: m?.promptTokensPerSecond ?? null,
      genTokensPerSecond: m?.genTokensPerSecond ?? mean(mine.map((a) => a.tps).filter((x): x is number => x !== null)),
      energyJoulesPerAnswer: m?.energyJoulesPerAnswer ?? null,
      energyNote: m ? (m.energyNote ?? null) : v.kind === 'model' ? 'not measured' : 'n/a: not run on this machine',
      quality,
      note: measuredNote,
    };
  });
}

function routingReport(c: Config, scores: Scores, answers: StoredAnswer[], o: RoutingOptions): RoutingReport | null {
  if (c.teacher === null) return null;
  const student = o.variant ?? c.variants.findIndex((_, i) => i !== c.teacher);
  if (student < 0 || student === c.teacher || student >= c.variants.length) return null;
  const metric = o.metric ?? c.metrics.find((m) => m !== 'pairwise' && scores.get(m)?.get(student)?.size);
  if (!metric) return null;
  const s = scores.get(metric)?.get(student);
  const t = scores.get(metric)?.get(c.teacher);
  if (!s || !t) return null;
  const judge = scores.get('judge')?.get(student);
  const confidence = (a: StoredAnswer): number | null =>
    o.confidence === 'meanLogprob' ? a.meanLogprob : o.confidence === 'minProb' ? a.minProb : (judge?.get(a.position) ?? null);
  const examples: { student: number; teacher: number; confidence: number }[] = [];
  for (const a of answers) {
    if (a.variant !== student) continue;
    const x = s.get(a.position);
    const y = t.get(a.position);
    const k = confidence(a);
    if (x !== undefined && y !== undefined && k !== null) examples.push({ student: x, teacher: y, confidence: k });
  }
  if (examples.length === 0) return null;
  const curve = routingCurve(examples);
  const at = pointAtShare(curve, o.share);
  const reach = thresholdForTarget(curve, o.target);
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    variant: student,
    metric,
    confidence: o.confidence,
    studentScore: curve.student,
    teacherScore: curve.teacher,
    curve: curve.points.map((p) => ({ threshold: finite(p.threshold), share: p.escalated, quality: p.quality })),
    apgr: curve.apgr,
    pgrAt: { share: at.escalated, pgr: at.pgr, threshold: finite(at.threshold) },
    reach: reach ? { target: o.target, share: reach.escalated, threshold: finite(reach.threshold) } : null,
  };
}

/** "student is 2.1 ± 1.4 points below the teacher on chrF": one line per student and metric. */
function sentences(board: LeaderboardRow[], c: Config): string[] {
  if (c.teacher === null) return [];
  const teacher = board[c.teacher]!.label;
  const out: string[] = [];
  for (const row of board) {
    for (const [m, d] of Object.entries(row.vsTeacher) as [EvalMetric, Interval][]) {
      const info = METRIC_INFO[m];
      const scale = info.max === 1 ? 100 : 1; // 0–1 metrics in percentage points
      const diff = d.mean * scale;
      const pm = ((d.high - d.low) / 2) * scale;
      const unit = info.max === 1 ? 'points' : m === 'judge' ? 'points (of 10)' : 'points';
      const significant = d.low > 0 || d.high < 0;
      out.push(
        `${row.label} is ${Math.abs(diff).toFixed(1)} ± ${pm.toFixed(1)} ${unit} ${diff < 0 ? 'below' : 'above'} ${teacher} on ${info.label}` +
          (significant ? '' : ' (not significant at 95%)'),
      );
    }
  }
  return out;
}

export function buildReport(c: Config, runId: number, status: string, store: EvaluateStore, routing: RoutingOptions): EvalReport {
  const answers = store.answers(runId);
  const scores = store.scores(runId);
  const flagged = store.contamination(runId);
  const flaggedSet = new Set(flagged.map((f) => f.position));
  const board = leaderboard(c, runId, scores, answers, () => true);
  const divergence = divergenceSummaries(runId, store);
  const notes: string[] = [];
  if (divergence.some((d) => d.method === 'topk'))
    notes.push('Divergence against a server teacher uses its top-k soft labels plus the remaining mass as one bucket: a lower bound of the full KLD.');
  if (c.against === 'teacher') notes.push("Metrics are scored against the teacher's answers, not the examples' references.");
  const r = routingReport(c, scores, answers, routing);
  const examples = new Set(answers.map((a) => a.position)).size;
  return {
    runId,
    status,
    dataset: `${c.dataset}@${c.versionNumber}`,
    split: c.split,
    examples,
    against: c.against,
    metrics: c.metrics,
    variants: variantInfos(c),
    leaderboard: board,
    leaderboardClean: flagged.length ? leaderboard(c, runId, scores, answers, (p) => !flaggedSet.has(p)) : null,
    divergence,
    systems: systemsRows(c, runId, store, answers, board),
    routing: r ? [r] : [],
    contamination: c.contamination
      ? {
          n: c.contamination.n,
          against: c.contamination.against.map((a) => `${a.dataset}@${a.versionNumber}`),
          checked: examples,
          flagged: flagged.length,
          positions: flagged.slice(0, 1000).map((f) => f.position),
        }
      : null,
    sentences: sentences(board, c),
    notes,
  };
}
