import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ImportHow, PreviewMessage } from './preview.js';
import { workerEntry } from '../worker-entry.js';
import { AppError } from '../../../src-shared/errors.js';
import type { ImportPreview } from '../../../src-shared/domain/datasets.js';

// (Not in preview.ts: the worker imports that one, so the bundler puts it in a shared chunk in another folder, from
// where the worker script beside the main bundle would not be found.)

/** A preview gets this long before its thread is stopped (the import dialog waits for it). */
export const PREVIEW_TIMEOUT_MS = 20_000;
const STARTUP_MS = 60_000;

/**
 * previewFile on a worker thread with a time limit, so that no file (a damaged Parquet footer sending a decoder into
 * a huge loop, a record that takes gigabytes) can stop the app answering: past `timeoutMs` the thread is terminated
 * and the call fails with "preview of <file> took longer than N s"; a thread that runs out of its memory fails too.
 */
export async function previewOffThread(file: string, how: ImportHow, limit: number, timeoutMs = PREVIEW_TIMEOUT_MS): Promise<ImportPreview> {
  const entry = workerEntry(import.meta.url, 'preview-worker');
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
