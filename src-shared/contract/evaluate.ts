import { z } from 'zod';
import { job, op } from './define.js';
import { FilePath } from '../domain/paths.js';
import { AttachedAdapter } from '../domain/adapters.js';
import { FleetInput, oneApiKey, ServerFields, TeacherInput, TeacherConfig } from './distill.js';
import { VariantConfig } from './adapters.js';
import {
  CONFIDENCE_KINDS,
  EVAL_METRICS,
  EXAMPLE_FILTERS,
  EvalGeneration,
  type ContaminationSummary,
  type EvalExamplesPage,
  type EvalReport,
} from '../domain/evaluate.js';
import type { CurationResult } from '../domain/datasets.js';

const DatasetName = z.string().trim().min(1).max(200);
const Split = z.enum(['train', 'validation', 'test', 'all']);
const RunId = z.number().int().positive();
const Label = z.string().trim().min(1).max(100).optional();

/**
 * What answers an evaluation: a library model with adapters at scales, an OpenAI-compatible server (or a fleet of them), the answers of a
 * distillation run (by example position), or a trainer's predictions file (JSONL, one `{"prediction": text}` per line
 * in the split's order, or with `"id"`: the example's position).
 */
export const EvalVariantInput = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('model'), modelId: z.number().int().positive(), adapters: z.array(AttachedAdapter).max(8).default([]), label: Label }),
  z.strictObject({ kind: z.literal('server'), ...ServerFields, label: Label }).refine(oneApiKey.check, oneApiKey.error),
  /** Several servers of the same model as one variant (a teacher fleet): see FleetInput. */
  z.strictObject({ kind: z.literal('fleet'), endpoints: FleetInput.shape.endpoints, label: Label }),
  z.strictObject({ kind: z.literal('distill'), runId: RunId, label: Label }),
  z.strictObject({ kind: z.literal('predictions'), file: FilePath, label: Label }),
]);
export type EvalVariantInput = z.infer<typeof EvalVariantInput>;

const DatasetRef = z.strictObject({ dataset: DatasetName, version: z.number().int().positive().optional(), split: Split.default('all') });

export const EvaluateStartInput = z.strictObject({
  dataset: DatasetName,
  /** A committed version (default: the latest). */
  version: z.number().int().positive().optional(),
  /** The frozen test split by default. */
  split: Split.default('test'),
  variants: z.array(EvalVariantInput).min(1).max(8),
  /** Which variant is the teacher (its index in `variants`): pairwise judging, divergence and routing need one. */
  teacher: z.number().int().min(0).max(7).nullable().default(null),
  /** Metrics against each example's reference answer, or against the teacher's answer. */
  against: z.enum(['reference', 'teacher']).default('reference'),
  metrics: z.array(z.enum(EVAL_METRICS)).min(1).max(EVAL_METRICS.length).default(['exact', 'f1', 'rougeL', 'chrf']),
  /** The pattern the `regex` metric tests answers against. */
  regex: z.string().min(1).max(1000).optional(),
  /** The JSON schema the `schema` metric checks answers against. */
  jsonSchema: z.record(z.string(), z.unknown()).optional(),
  /** The LLM judge of the `judge` (rubric, 1–10) and `pairwise` (against the teacher, both orders) metrics. */
  judge: z
    .strictObject({
      model: TeacherInput,
      rubric: z.string().trim().min(1).max(20_000).default('Is the answer correct, complete and helpful for the question?'),
      maxTokens: z.number().int().min(16).max(4096).default(256),
    })
    .optional(),
  generation: EvalGeneration.default(EvalGeneration.parse({})),
  /** Answers generated at once per variant (default from the hardware). */
  parallel: z.number().int().min(1).max(64).optional(),
  /** Evaluate only the first N examples of the split (a trial run). */
  limit: z.number().int().positive().optional(),
  /** Teacher-forced divergence of every local model variant from the teacher (on the teacher's answers). */
  divergence: z.boolean().default(true),
  /** Measure each local model's systems figures (load time, speed, memory) in a fresh engine. */
  systems: z.boolean().default(true),
  /** An n-gram overlap check of the split against training data, run with the evaluation. */
  contamination: z.strictObject({ against: z.array(DatasetRef).min(1).max(8), n: z.number().int().min(3).max(50).default(13) }).optional(),
});

const Routing = z.strictObject({
  variant: z.number().int().min(0).max(7).optional(),
  metric: z.enum(EVAL_METRICS).optional(),
  confidence: z.enum(CONFIDENCE_KINDS).default('meanLogprob'),
  /** PGR is reported at this share of queries escalated to the teacher. */
  share: z.number().min(0).max(1).default(0.5),
  /** The threshold reaching this share of the teacher's quality is reported. */
  target: z.number().min(0).max(1).default(0.95),
});

export const evaluateOps = {
  /** Starts an evaluation run: every variant answers (or brings) every example of the split; metrics, judge, divergence, systems. */
  'evaluate.start': op<{ runId: number }>()(EvaluateStartInput),
  /** A run's report: the leaderboard with intervals, paired differences, divergence, systems table and routing. */
  'evaluate.report': op<EvalReport>()(z.strictObject({ runId: RunId, routing: Routing.default(Routing.parse({})) })),
  /** A page of the per-example table: every variant's answer side by side with its metrics. */
  'evaluate.examples': op<EvalExamplesPage>()(
    z.strictObject({
      runId: RunId,
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(200).default(50),
      filter: z.enum(EXAMPLE_FILTERS).default('all'),
      /** The student for the filters that compare a student with the teacher (default: the first non-teacher variant). */
      variant: z.number().int().min(0).max(7).optional(),
      /** The metric the right/wrong filters read (default: the run's first). */
      metric: z.enum(EVAL_METRICS).optional(),
    }),
  ),
  /** The report as a file's text: Markdown or CSV (the systems table and the leaderboard), or JSON. */
  'evaluate.export': op<{ text: string; fileName: string }>()(
    z.strictObject({ runId: RunId, format: z.enum(['md', 'csv', 'json']), table: z.enum(['systems', 'leaderboard', 'all']).default('all') }),
  ),
  /** Tags the examples where a student diverges most in the source dataset's working copy (undoable there). */
  'evaluate.sendToCuration': op<CurationResult>()(
    z.strictObject({
      runId: RunId,
      variant: z.number().int().min(0).max(7),
      /** The N most divergent examples... */
      top: z.number().int().min(1).max(100_000).optional(),
      /** ...or these positions. */
      positions: z.array(z.number().int()).min(1).max(100_000).optional(),
      tag: z
        .string()
        .trim()
        .min(1)
        .max(60)
        .regex(/^[^\s,]+$/, 'one word')
        .default('diverges'),
    }),
  ),
  /** Starts a contamination check on its own: n-gram overlap of an evaluation split with other datasets. */
  'evaluate.contamination': op<{ runId: number }>()(
    z.strictObject({
      eval: DatasetRef.extend({ split: Split.default('test') }),
      against: z.array(DatasetRef).min(1).max(8),
      n: z.number().int().min(3).max(50).default(13),
    }),
  ),
  /** What a contamination check (its own run, or part of an evaluation) found. */
  'evaluate.contaminationOf': op<ContaminationSummary | null>()(z.strictObject({ runId: RunId })),
};

/** A variant as a run's config holds it. */
export const EvalVariantConfig = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('model'), model: VariantConfig }),
  z.strictObject({ kind: z.literal('server'), server: TeacherConfig, label: z.string() }),
  z.strictObject({ kind: z.literal('distill'), runId: RunId, label: z.string() }),
  z.strictObject({ kind: z.literal('predictions'), file: z.string(), label: z.string() }),
]);
export type EvalVariantConfig = z.infer<typeof EvalVariantConfig>;

const DatasetConfig = z.strictObject({ dataset: z.string(), versionId: z.number().int().positive(), versionNumber: z.number().int().positive(), split: Split });

/** The runs this room starts (see docs/runs.md). */
export const evaluateJobs = {
  /** Every variant's answer to every example (one item each), its metrics, the judge, divergence and systems figures. */
  'evaluate.run': job({
    config: z.strictObject({
      ...DatasetConfig.shape,
      variants: z.array(EvalVariantConfig).min(1).max(8),
      teacher: z.number().int().min(0).nullable(),
      against: z.enum(['reference', 'teacher']),
      metrics: z.array(z.enum(EVAL_METRICS)).min(1),
      regex: z.string().optional(),
      jsonSchema: z.record(z.string(), z.unknown()).optional(),
      judge: z.strictObject({ model: TeacherConfig, rubric: z.string(), maxTokens: z.number().int().positive() }).optional(),
      generation: EvalGeneration,
      parallel: z.number().int().min(1).max(64),
      limit: z.number().int().positive().optional(),
      divergence: z.boolean(),
      systems: z.boolean(),
      contamination: z.strictObject({ against: z.array(DatasetConfig).min(1), n: z.number().int() }).optional(),
    }),
    metrics: {
      answers: 'answers',
      failed: 'answers',
      'gen_tps:*': 'tokens/s',
      'kld:*': '',
      flagged: 'examples',
      // a fleet variant's endpoints: `endpoint_tps:<variant>:<endpoint>`…
      'endpoint_answers:*': 'answers',
      'endpoint_tokens:*': 'tokens',
      'endpoint_tps:*': 'tokens/s',
      'endpoint_failures:*': 'attempts',
      'endpoint_drained:*': '',
    },
  }),
  /** N-gram overlap of an evaluation split with training data; one item. */
  'evaluate.contamination': job({
    config: z.strictObject({ eval: DatasetConfig, against: z.array(DatasetConfig).min(1), n: z.number().int() }),
    metrics: { checked: 'examples', flagged: 'examples' },
  }),
};
