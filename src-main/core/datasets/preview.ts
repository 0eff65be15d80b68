import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { detectImport, readRecords } from './formats/index.js';
import { workerEntry } from '../worker-entry.js';
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
  const st = fs.statSync(absolute, { throwIfNoEntry: false });
  if (!st) throw new AppError('file_missing', `${absolute} does not exist`);
  if (!st.isFile()) throw new AppError('not_a_file', `${path.basename(absolute)} is not a file`);
  const detected = await detectImport(absolute);
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
  for await (const item of readRecords(absolute, spec)) {
    linesRead = item.line;
    if ('example' in item) examples.push(item.example);
    else rejects.push(item.rejected);
    if (examples.length + rejects.length >= limit) break;
  }
  return { path: absolute, spec, columns, examples, rejects, linesRead };
}

export type PreviewMessage = { ok: true; value: ImportPreview } | { ok: false; error: AppErrorShape };

/** A preview gets this long before its thread is stopped (the import dialog waits for it). */
export const PREVIEW_TIMEOUT_MS = 20_000;
const STARTUP_MS = 60_000;

/**
 * previewFile on a worker thread with a time limit, so that no file (a damaged Parquet footer sending a decoder into
 * a huge loop, a record that takes gigabytes) can stop the app answering: past `timeoutMs` the thread is terminated
 * and the call fails with "preview of <file> took longer than N s"; a thread that runs out of its memory fails too.
 * Without a worker script (a bundle that lacks it), it runs here.
 */
export async function previewOffThread(file: string, how: ImportHow, limit: number, timeoutMs = PREVIEW_TIMEOUT_MS): Promise<ImportPreview> {
  const entry = workerEntry(import.meta.url, 'preview-worker');
  if (!entry) return previewFile(file, how, limit);
  const name = path.basename(file);
  const worker = new Worker(entry, { workerData: { file, how, limit }, resourceLimits: { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 16 } });
  try {
    return await new Promise<ImportPreview>((resolve, reject) => {
      // The limit counts from when the thread is ready to read (loading it from TypeScript sources, as the CLI and
      // the tests do, takes seconds on a busy machine); loading itself gets a minute.
      const late = (ms: number) =>
        setTimeout(
          () => reject(new AppError('invalid_input', `preview of ${name} took longer than ${Math.round(timeoutMs / 1000)} s; the file may be damaged`)),
          ms,
        );
      let timer = late(Math.max(timeoutMs, STARTUP_MS));
      const settle = () => clearTimeout(timer);
      worker.on('message', (m: PreviewMessage | 'ready') => {
        settle();
        if (m === 'ready') timer = late(timeoutMs);
        else if (m.ok) resolve(m.value);
        else reject(new AppError(m.error.code, m.error.message, m.error.field));
      });
      worker.once('error', (e: Error & { code?: string }) => {
        settle();
        reject(
          e.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new AppError('invalid_input', `preview of ${name} needed more memory than allowed; the file may be damaged`)
            : new AppError('invalid_input', `preview of ${name} failed: ${e.message}`),
        );
      });
      worker.once('exit', (code) => {
        settle();
        reject(new AppError('invalid_input', `preview of ${name} stopped unexpectedly (exit code ${code})`));
      });
    });
  } finally {
    await worker.terminate();
  }
}
