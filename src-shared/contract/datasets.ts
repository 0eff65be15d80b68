import { z } from 'zod';
import { job, op } from './define.js';
import { FilePath } from '../domain/paths.js';
import { Seed } from '../domain/playground.js';
import {
  CHAT_ROLES,
  EXPORT_FORMATS,
  EXPORT_SPLITS,
  IMPORT_CONTAINERS,
  JSON_FORMATS,
  SPLITS,
  type CurationResult,
  type DatasetDetail,
  type DatasetSummary,
  type DatasetVersionSummary,
  type DuplicateCluster,
  type ExamplesPage,
  type ImportPreview,
  type ImportSpec,
  type RejectedRecord,
  type VersionDiff,
} from '../domain/datasets.js';

/** A message as the edit form sends it: role and text, and the tool and per-message fields the example already had. */
const EditedMessage = z.strictObject({
  role: z.enum(CHAT_ROLES),
  content: z.string().max(1_000_000),
  tool_calls: z
    .array(
      z.strictObject({ id: z.string().optional(), type: z.literal('function'), function: z.strictObject({ name: z.string().min(1), arguments: z.string() }) }),
    )
    .optional(),
  tool_call_id: z.string().optional(),
  name: z.string().optional(),
  weight: z.number().finite().optional(),
  loss_weight: z.number().finite().optional(),
});
const ToolDefinitionInput = z.strictObject({ type: z.literal('function'), function: z.looseObject({ name: z.string().min(1) }) });

const DatasetName = z
  .string()
  .trim()
  .min(1, 'a name is required')
  .max(200)
  .regex(/^[^@/\\]+$/, 'a name cannot contain @, / or \\');
const Version = z.number().int().positive();
/** Tags and flag reasons are stored '|'-delimited. */
const Label = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[^|]+$/, 'cannot contain |');
const Count = z.number().int().min(0);

export const ExamplesFilterSchema = z.strictObject({
  search: z.string().max(500).optional(),
  hasReference: z.boolean().optional(),
  split: z.enum([...SPLITS, 'none']).optional(),
  tag: Label.optional(),
  source: z.number().int().min(0).optional(),
  flagged: z.boolean().optional(),
  flag: Label.optional(),
  duplicates: z.boolean().optional(),
  cluster: z.number().int().optional(),
  tokenizerModel: z.number().int().positive().optional(),
  minTokens: Count.optional(),
  maxTokens: Count.optional(),
});

const SelectionSchema = z.union([
  z.strictObject({ positions: z.array(z.number().int()).min(1).max(100_000) }),
  z.strictObject({ filter: ExamplesFilterSchema }),
]);

const Ratio = z.number().min(0).max(1);
const Column = z.string().min(1).max(500);

/** A file to import and how to read it: each part detected unless given. */
const ImportSource = {
  path: FilePath,
  /** The record shape (JSON Lines, JSON arrays, Parquet). */
  format: z.enum([...JSON_FORMATS, 'auto']).default('auto'),
  container: z.enum([...IMPORT_CONTAINERS, 'auto']).default('auto'),
  /** Which columns hold the prompt, the answer and the system prompt (tables). */
  mapping: z.strictObject({ prompt: Column, response: Column.optional(), system: Column.optional() }).optional(),
};

export const datasetsOps = {
  'datasets.list': op<DatasetSummary[]>()(z.strictObject({})),
  /** A dataset by name, at a version number (default: the latest), with its first examples. */
  'datasets.get': op<DatasetDetail>()(
    z.strictObject({ name: DatasetName, version: Version.optional(), previewLimit: z.number().int().min(0).max(1000).default(20) }),
  ),
  /** Starts an import run: a file (JSONL, JSON, CSV, TSV, text, Parquet) becomes version 1 of a new dataset. */
  'datasets.import': op<{ runId: number; spec: ImportSpec }>()(
    z.strictObject({
      ...ImportSource,
      name: DatasetName,
      /** Add the file's examples to an existing dataset as its next version (instead of creating the dataset). */
      append: z.boolean().default(false),
    }),
  ),
  /** Reads the first records of a file as an import would, without importing (the import dialog's preview). */
  'datasets.previewImport': op<ImportPreview>()(z.strictObject({ ...ImportSource, limit: z.number().int().min(1).max(200).default(20) })),
  /** A page of a version's examples, in order (the browse table). */
  'datasets.examples': op<ExamplesPage>()(
    z.strictObject({
      name: DatasetName,
      /** Default: the working copy when there is one, else the latest version. */
      version: Version.optional(),
      offset: z.number().int().min(0),
      limit: z.number().int().min(1).max(500),
      filter: ExamplesFilterSchema.default({}),
    }),
  ),
  /** Tag, untag, flag, unflag or delete a selection of the working copy (made on first change): one undoable operation. */
  'datasets.curate': op<CurationResult>()(
    z.strictObject({
      name: DatasetName,
      selection: SelectionSchema,
      action: z.discriminatedUnion('kind', [
        z.strictObject({ kind: z.literal('tag'), tag: Label }),
        z.strictObject({ kind: z.literal('untag'), tag: Label }),
        z.strictObject({ kind: z.literal('flag') }),
        z.strictObject({ kind: z.literal('unflag') }),
        z.strictObject({ kind: z.literal('delete') }),
      ]),
    }),
  ),
  /** Replaces one example's conversation in the working copy. */
  'datasets.edit': op<CurationResult>()(
    z.strictObject({
      name: DatasetName,
      position: z.number().int(),
      messages: z.array(EditedMessage).min(1).max(1000),
      /** The tools the conversation may call; left out: kept as they are; an empty list removes them. */
      tools: z.array(ToolDefinitionInput).max(1000).optional(),
    }),
  ),
  /** Undoes the working copy's last operation. */
  'datasets.undo': op<CurationResult>()(z.strictObject({ name: DatasetName })),
  /** Freezes the working copy as the next version. */
  'datasets.commit': op<DatasetVersionSummary>()(z.strictObject({ name: DatasetName, message: z.string().trim().min(1, 'a message is required').max(2000) })),
  /** Throws the working copy away. */
  'datasets.discard': op<{ discarded: boolean }>()(z.strictObject({ name: DatasetName })),
  /** Seeded random train/validation/test assignment of the working copy, by ratios or by counts (the rest is train). */
  'datasets.split': op<CurationResult>()(
    z
      .strictObject({
        name: DatasetName,
        ratios: z.strictObject({ train: Ratio, validation: Ratio, test: Ratio }).optional(),
        counts: z.strictObject({ validation: Count.optional(), test: Count.optional() }).optional(),
        seed: Seed,
        stratify: z.boolean().default(false),
        /** Freeze the test split once this split has made it (the split panel's box ticked before the first split). */
        freezeTest: z.boolean().default(false),
      })
      .refine((v) => (v.ratios === undefined) !== (v.counts === undefined), { message: 'give either ratios or counts', path: ['ratios'] }),
  ),
  /** Freezes (or unfreezes) the test split: curation then never moves examples into or out of it. */
  'datasets.freezeTest': op<{ testFrozen: boolean }>()(z.strictObject({ name: DatasetName, frozen: z.boolean() })),
  /** Differences between two versions (to: default the working copy or latest), counted, with a page of rows. */
  'datasets.diff': op<VersionDiff>()(
    z.strictObject({
      name: DatasetName,
      from: Version,
      to: Version.optional(),
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(500).default(50),
      only: z.enum(['added', 'removed', 'changed', 'relabeled']).optional(),
    }),
  ),
  /** Starts a duplicate detection run: exact (normalized text), or near (MinHash + LSH) at a Jaccard threshold. */
  'datasets.dedupe': op<{ runId: number }>()(
    z.strictObject({
      name: DatasetName,
      near: z.number().min(0.5).max(1).optional(),
      /** Keep one per cluster at once (else: clusters stored for review). */
      apply: z.boolean().default(false),
      /** With apply: commit the result as a new version with this message (refused when the working copy has other changes). */
      commitMessage: z.string().trim().min(1).max(2000).optional(),
    }),
  ),
  /** Keeps one example per duplicate cluster (the chosen position, else the first) and deletes the others. */
  'datasets.resolveDuplicates': op<CurationResult>()(
    z.strictObject({
      name: DatasetName,
      keep: z
        .array(z.strictObject({ cluster: z.number().int(), position: z.number().int() }))
        .max(100_000)
        .default([]),
    }),
  ),
  /** Starts a scan run: quality checks and/or PII (flag, or flag and redact). */
  'datasets.scan': op<{ runId: number }>()(
    z.strictObject({ name: DatasetName, quality: z.boolean().default(true), pii: z.enum(['off', 'flag', 'redact']).default('flag') }),
  ),
  /** Starts a run counting every example's tokens with a model's tokenizer (cached; enables the length filter). */
  'datasets.countTokens': op<{ runId: number }>()(z.strictObject({ name: DatasetName, modelId: z.number().int().positive() })),
  /** The near-duplicate clusters found in a version, for review. */
  'datasets.clusters': op<{ total: number; clusters: DuplicateCluster[] }>()(
    z.strictObject({
      name: DatasetName,
      version: Version.optional(),
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(200).default(20),
    }),
  ),
  /** Starts an export run: a committed version as JSONL or Parquet in a training format, with `<out>.manifest.json` beside it. */
  'datasets.export': op<{ runId: number }>()(
    z.strictObject({
      name: DatasetName,
      version: z.number().int().positive().optional(),
      format: z.enum(EXPORT_FORMATS),
      container: z.enum(['jsonl', 'parquet']).default('jsonl'),
      /** all: one file; each: one file per split (`<out without extension>.<split>.<ext>`); or one split only. */
      split: z.enum(EXPORT_SPLITS).default('all'),
      out: FilePath,
      /** Replace existing files (otherwise an existing file is refused with code file_exists). */
      replace: z.boolean().default(false),
    }),
  ),
  /** The lines an import skipped, whole (read again from the file), for the report's download. */
  'datasets.rejectedLines': op<{ file: string | null; lines: (RejectedRecord & { text: string; whole: boolean })[] }>()(
    z.strictObject({ runId: z.number().int().positive() }),
  ),
  /** The lines an import skipped, with their reasons. */
  'datasets.rejects': op<RejectedRecord[]>()(z.strictObject({ runId: z.number().int().positive(), limit: z.number().int().min(1).max(100_000).default(1000) })),
};

/** A committed version a curation run works on. */
const RunTarget = {
  name: z.string().min(1),
  datasetId: z.number().int().positive(),
  versionId: z.number().int().positive(),
  versionNumber: z.number().int().positive(),
};

const ImportMapping = z.strictObject({ prompt: z.string(), response: z.string().optional(), system: z.string().optional() });

/** The runs this room starts (see docs/runs.md). */
export const datasetsJobs = {
  /** A file into a new dataset, or the next version of one (`append`); items are batches of lines. */
  'datasets.import': job({
    config: z
      .strictObject({
        file: z.string().min(1),
        name: z.string().min(1),
        /** Add to the existing dataset `name` as its next version. */
        append: z.boolean().default(false),
        spec: z.strictObject({ container: z.enum(IMPORT_CONTAINERS), record: z.enum(JSON_FORMATS).optional(), mapping: ImportMapping.optional() }).optional(),
        /** Runs made before other containers existed: a JSONL record format. */
        format: z.enum(JSON_FORMATS).optional(),
      })
      .transform(({ file, name, append, spec, format }) => ({
        file,
        name,
        append,
        spec: spec ?? { container: 'jsonl' as const, record: format ?? 'openai' },
      })),
    metrics: { examples: 'examples', rejected: 'lines' },
  }),
  /** A version as JSONL or Parquet in a training format, with a manifest beside it. */
  'datasets.export': job({
    config: z.strictObject({
      name: z.string().min(1),
      version: z.number().int().positive(),
      versionId: z.number().int().positive(),
      format: z.enum(EXPORT_FORMATS),
      container: z.enum(['jsonl', 'parquet']).default('jsonl'),
      split: z.enum(EXPORT_SPLITS).default('all'),
      out: z.string().min(1),
      /** The user asked to replace existing files (`--force`, confirmed in the UI). */
      replace: z.boolean().default(false),
    }),
    metrics: { examples: 'examples', bytes: 'bytes', examples_skipped: 'examples' },
  }),
  /** Exact or near-duplicate clusters of a version, stored for review; optionally resolved and committed. */
  'datasets.dedupe': job({
    config: z.strictObject({
      ...RunTarget,
      /** Jaccard similarity for near-duplicates (MinHash + LSH); absent: exact duplicates of the normalized text. */
      near: z.number().min(0.5).max(1).optional(),
      /** Delete all but one example per cluster in the working copy (otherwise clusters are only stored for review). */
      apply: z.boolean(),
      /** Commit the working copy with this message afterwards (the CLI's one-shot dedupe). */
      commitMessage: z.string().optional(),
    }),
    metrics: { clusters: 'clusters', duplicates: 'examples', removed: 'examples' },
  }),
  /** Quality checks and PII: findings flag examples of the working copy; `redact` also replaces the PII. */
  'datasets.scan': job({
    config: z.strictObject({ ...RunTarget, quality: z.boolean(), pii: z.enum(['off', 'flag', 'redact']) }),
    metrics: { 'quality:*': 'matches', 'pii:*': 'matches', examples_flagged: 'examples', examples_redacted: 'examples' },
  }),
  /** Every example's length with a model's tokenizer, cached per example and tokenizer. */
  'datasets.countTokens': job({
    config: z.strictObject({ ...RunTarget, modelId: z.number().int().positive(), modelPath: z.string().min(1), modelName: z.string() }),
    metrics: { examples_counted: 'examples', mean_tokens: 'tokens' },
  }),
};
