import { z } from 'zod';
import { op } from './define.js';
import { JSON_FORMATS, type DatasetDetail, type DatasetSummary, type ExamplesPage, type ImportPreview, type RejectedRecord } from '../domain/datasets.js';

const DatasetName = z.string().trim().min(1, 'a name is required').max(200).regex(/^[^@/\\]+$/, 'a name cannot contain @, / or \\');

export const datasetsOps = {
  'datasets.list': op<DatasetSummary[]>()(z.strictObject({})),
  /** A dataset by name, at a version number (default: the latest), with its first examples. */
  'datasets.get': op<DatasetDetail>()(
    z.strictObject({ name: DatasetName, version: z.number().int().positive().optional(), previewLimit: z.number().int().min(0).max(1000).default(20) }),
  ),
  /** Starts an import run: a JSONL file becomes version 1 of a new dataset. */
  'datasets.import': op<{ runId: number; format: (typeof JSON_FORMATS)[number] }>()(
    z.strictObject({ path: z.string().trim().min(1).max(4096), name: DatasetName, format: z.enum([...JSON_FORMATS, 'auto']).default('auto') }),
  ),
  /** Reads the first records of a file as an import would, without importing (the import dialog's preview). */
  'datasets.previewImport': op<ImportPreview>()(
    z.strictObject({ path: z.string().trim().min(1).max(4096), format: z.enum([...JSON_FORMATS, 'auto']).default('auto'), limit: z.number().int().min(1).max(200).default(20) }),
  ),
  /** A page of a version's examples, in order (the browse table). */
  'datasets.examples': op<ExamplesPage>()(
    z.strictObject({
      name: DatasetName,
      version: z.number().int().positive().optional(),
      offset: z.number().int().min(0),
      limit: z.number().int().min(1).max(500),
      /** Words that must all appear in the example (full-text search). */
      search: z.string().max(500).optional(),
      hasReference: z.boolean().optional(),
    }),
  ),
  /** Starts an export run: a version as JSONL in a training format, with `<out>.manifest.json` beside it. */
  'datasets.export': op<{ runId: number }>()(
    z.strictObject({
      name: DatasetName,
      version: z.number().int().positive().optional(),
      format: z.enum(['openai', 'sharegpt', 'alpaca']),
      out: z.string().trim().min(1).max(4096),
    }),
  ),
  /** The lines an import skipped, with their reasons. */
  'datasets.rejects': op<RejectedRecord[]>()(z.strictObject({ runId: z.number().int().positive(), limit: z.number().int().min(1).max(100_000).default(1000) })),
};
