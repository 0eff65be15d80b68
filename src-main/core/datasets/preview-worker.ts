/**
 * The thread a file preview runs on (see previewOffThread in preview.ts): detects the file's format, reads its first
 * records, posts the preview or the error, and ends. The main thread terminates it when it takes too long.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { previewFile, type ImportHow, type PreviewMessage } from './preview.js';
import { toErrorShape } from '../../../src-shared/errors.js';

const { file, how, limit } = workerData as { file: string; how: ImportHow; limit: number };
const send = (m: PreviewMessage | 'ready') => parentPort!.postMessage(m);
send('ready'); // loaded: the time limit starts now
previewFile(file, how, limit).then(
  (value) => send({ ok: true, value }),
  (e: unknown) => send({ ok: false, error: toErrorShape(e) }),
);
