import { z } from 'zod';
import { Sampling, Seed } from './playground.js';

/**
 * The Evaluate room's domain: what an evaluation run measures and what its report holds. Metric values are stored in
 * their tools' own units: 0–1 for exact/contains/regex/f1/rougeL/json/schema and pairwise (win 1, tie 0.5, loss 0),
 * 0–100 for chrF (sacrebleu's), 1–10 for the judge's score.
 */
export const EVAL_METRICS = ['exact', 'contains', 'regex', 'f1', 'rougeL', 'chrf', 'json', 'schema', 'judge', 'pairwise'] as const;
export type EvalMetric = (typeof EVAL_METRICS)[number];

/** What a metric is called on pages and in reports, and its scale. */
export const METRIC_INFO: Record<EvalMetric | 'length', { label: string; max: number; unit: string }> = {
  exact: { label: 'Exact match', max: 1, unit: '' },
  contains: { label: 'Contains', max: 1, unit: '' },
  regex: { label: 'Regex', max: 1, unit: '' },
  f1: { label: 'Token F1', max: 1, unit: '' },
  rougeL: { label: 'ROUGE-L F', max: 1, unit: '' },
  chrf: { label: 'chrF', max: 100, unit: '' },
  json: { label: 'JSON valid', max: 1, unit: '' },
  schema: { label: 'Schema match', max: 1, unit: '' },
  judge: { label: 'Judge (1–10)', max: 10, unit: '' },
  pairwise: { label: 'Win rate vs teacher', max: 1, unit: '' },
  length: { label: 'Length', max: Infinity, unit: 'tokens' },
};

/** The generation settings every generated answer of a run shares (same seed per example for every variant). */
export const EvalGeneration = Sampling.extend({
  temperature: z.number().min(0).max(5).default(0),
  maxTokens: z.number().int().min(1).max(32_768).default(256),
  seed: Seed.default(42),
});
export type EvalGeneration = z.infer<typeof EvalGeneration>;

/** How confident the student is in an answer, for routing (higher = more confident). */
export const CONFIDENCE_KINDS = ['meanLogprob', 'minProb', 'judge'] as const;
export type ConfidenceKind = (typeof CONFIDENCE_KINDS)[number];

/** A bootstrap interval of a mean (95% by default), seeded. */
export interface Interval {
  mean: number;
  low: number;
  high: number;
  n: number;
}

/** A variant as a run holds it (resolved from its input). */
export type EvalVariantKind = 'model' | 'server' | 'distill' | 'predictions';
export interface EvalVariantInfo {
  index: number;
  label: string;
  kind: EvalVariantKind;
  isTeacher: boolean;
  /** Library model (with adapters) for 'model'; what the answers come from otherwise. */
  modelId: number | null;
  describe: string;
}

/** One variant's row of the leaderboard: each metric's mean with its interval, and against the teacher. */
export interface LeaderboardRow {
  variant: number;
  label: string;
  isTeacher: boolean;
  answered: number;
  failed: number;
  metrics: Partial<Record<EvalMetric | 'length', Interval>>;
  /** Paired difference variant − teacher per metric (same examples), when the run has a teacher. */
  vsTeacher: Partial<Record<EvalMetric, Interval>>;
  /** Pairwise judge tally against the teacher. */
  pairwise: { win: number; tie: number; loss: number } | null;
}

/** Teacher-forced divergence of a student from the teacher, per example and in all. */
export interface DivergenceFigures {
  tokens: number;
  kld: number;
  maxKld: number;
  top1: number;
  nll: number;
}
export interface DivergenceSummary {
  variant: number;
  /** 'full': local teacher, whole distributions in lockstep; 'topk': a server teacher's top-k soft labels + rest bucket. */
  method: 'full' | 'topk';
  examples: number;
  /** Token-weighted means over every scored answer token. */
  kld: number;
  top1: number;
  meanNll: number;
  /** Per-example mean KLD histogram (bin edges and counts). */
  histogram: { edges: number[]; counts: number[] };
  kldInterval: Interval;
}

/** The systems table (what edge-AI papers print), one row per variant, measured in the run. */
export interface SystemsRow {
  variant: number;
  label: string;
  parameters: number | null;
  fileBytes: number | null;
  bitsPerWeight: number | null;
  peakRssBytes: number | null;
  peakDeviceBytes: number | null;
  loadSeconds: number | null;
  ttftMs: number | null;
  promptTokensPerSecond: number | null;
  genTokensPerSecond: number | null;
  /** Joules per answer, or null with the reason in `energyNote`. */
  energyJoulesPerAnswer: number | null;
  energyNote: string | null;
  quality: Partial<Record<EvalMetric, number>>;
  /** Why a figure is missing (a server: its memory is not ours to measure). */
  note: string | null;
}

/** The routing simulation: a student answers, and below a confidence threshold the teacher does instead. */
export interface RoutingReport {
  variant: number;
  metric: EvalMetric;
  confidence: ConfidenceKind;
  studentScore: number;
  teacherScore: number;
  /** Share of queries escalated to the teacher → quality, from 0 (all student) to 1 (all teacher). */
  /** threshold null: escalate everything (past the highest confidence). */
  curve: { threshold: number | null; share: number; quality: number }[];
  /** RouteLLM's APGR; null when student and teacher score the same (no gap to recover). */
  apgr: number | null;
  /** PGR at the chosen share (default 0.5): the point with the largest share not above it. */
  pgrAt: { share: number; pgr: number | null; threshold: number | null };
  /** The smallest share of escalations that reaches `target` of the teacher's quality, null when none does. */
  reach: { target: number; share: number; threshold: number | null } | null;
}

export interface ContaminationSummary {
  n: number;
  against: string[];
  checked: number;
  flagged: number;
  /** Flagged positions (the first 1000). */
  positions: number[];
}

/** Everything the Evaluate run page shows, computed from what the run stored. */
export interface EvalReport {
  runId: number;
  status: string;
  dataset: string;
  split: string;
  examples: number;
  against: 'reference' | 'teacher';
  metrics: EvalMetric[];
  variants: EvalVariantInfo[];
  leaderboard: LeaderboardRow[];
  /** The same board without the contaminated examples, when a contamination check flagged some. */
  leaderboardClean: LeaderboardRow[] | null;
  divergence: DivergenceSummary[];
  systems: SystemsRow[];
  routing: RoutingReport[];
  contamination: ContaminationSummary | null;
  /** Lines such as "student is 2.1 ± 1.4 points below teacher on chrF". */
  sentences: string[];
  notes: string[];
}

/** One example of the per-example table: its prompt, reference and every variant's answer with its metric values. */
export interface EvalExampleRow {
  position: number;
  prompt: string;
  reference: string | null;
  contaminated: boolean;
  answers: {
    variant: number;
    text: string | null;
    error: string | null;
    tokens: number | null;
    metrics: Partial<Record<EvalMetric, number>>;
    judgeReason: string | null;
    divergence: DivergenceFigures | null;
  }[];
}

export const EXAMPLE_FILTERS = [
  'all',
  'student-wrong-teacher-right',
  'student-right-teacher-wrong',
  'judge-disagrees-exact',
  'contaminated',
  'most-divergent',
] as const;
export type ExampleFilter = (typeof EXAMPLE_FILTERS)[number];

export interface EvalExamplesPage {
  total: number;
  rows: EvalExampleRow[];
}
