import fs from 'node:fs';
import path from 'node:path';
import { detectImport } from './formats/detect.js';
import { readRecords } from './formats/read.js';
import { withFileErrors, withFileErrorsAsync } from '../files/errors.js';
import { AppError, type AppErrorShape } from '../../../src-shared/errors.js';
import type {
  ColumnMapping,
  ImportContainer,
  ImportPreview,
  ImportSpec,
  JsonRecordFormat,
  NormalizedExample,
  RejectedRecord,
} from '../../../src-shared/domain/datasets.js';

export interface ImportHow {
  format?: JsonRecordFormat | 'auto';
  container?: ImportContainer | 'auto';
  mapping?: ColumnMapping;
}

/** The file to import and how to read it: detected, then the user's choices applied; or a clear refusal. */
export async function resolveImport(file: string, how: ImportHow): Promise<{ absolute: string; spec: ImportSpec; columns: string[] | null }> {
  const absolute = path.resolve(file);
  const st = withFileErrors(absolute, () => fs.statSync(absolute, { throwIfNoEntry: false }), 'path');
  if (!st) throw new AppError('file_missing', `${absolute} does not exist`);
  if (!st.isFile()) throw new AppError('not_a_file', `${path.basename(absolute)} is not a file`);
  const detected = await withFileErrorsAsync(absolute, () => detectImport(absolute), 'path');
  const spec: ImportSpec = { ...detected.spec };
  if (how.container && how.container !== 'auto' && how.container !== spec.container) {
    spec.container = how.container;
    delete spec.record;
    delete spec.mapping;
  }
  if (how.format && how.format !== 'auto') {
    spec.record = how.format;
    delete spec.mapping;
  }
  if (how.mapping) {
    spec.mapping = how.mapping;
    delete spec.record;
  }
  return { absolute, spec, columns: detected.columns };
}

/** Detects how to read a file and reads its first `limit` records (none for 0) as an import would. */
export async function previewFile(file: string, how: ImportHow, limit: number): Promise<ImportPreview> {
  const { absolute, spec, columns } = await resolveImport(file, how);
  const examples: NormalizedExample[] = [];
  const rejects: RejectedRecord[] = [];
  let linesRead = 0;
  // A table none of whose columns looks like the prompt: show its columns, the user maps them
  if (limit === 0 || (!spec.record && !spec.mapping && spec.container !== 'text')) return { path: absolute, spec, columns, examples, rejects, linesRead };
  await withFileErrorsAsync(absolute, async () => {
    for await (const item of readRecords(absolute, spec)) {
      linesRead = item.line;
      if ('example' in item) examples.push(item.example);
      else rejects.push(item.rejected);
      if (examples.length + rejects.length >= limit) break;
    }
  });
  return { path: absolute, spec, columns, examples, rejects, linesRead };
}

export type PreviewMessage = { ok: true; value: ImportPreview } | { ok: false; error: AppErrorShape };
