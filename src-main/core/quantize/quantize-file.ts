/**
 * One quantization, in a child process of its own (quantize-child.ts): llama.cpp aborts the process on some inputs,
 * and a native call cannot be interrupted, so cancelling kills the child. The caller names a temporary output and
 * renames it once this resolves: a killed or failed quantization never leaves a file at its final name.
 */
import { fork } from 'node:child_process';
import { childEntry } from '../worker-entry.js';
import { AppError } from '../../../src-shared/errors.js';
import type { QuantizeJob } from './quantize-child.js';

export interface QuantizeOptions {
  signal?: AbortSignal;
  /** Per tensor, as llama.cpp logs it: `[  3/ 21] blk.0.attn_q.weight`. */
  onTensor?(done: number, total: number, name: string): void;
}

const STDERR_LINES = 8;
const PROGRESS = /^\[\s*(\d+)\s*\/\s*(\d+)\]\s+(\S+)/;

export function quantizeFile(job: QuantizeJob, opts: QuantizeOptions = {}): Promise<void> {
  const { signal } = opts;
  if (signal?.aborted) return Promise.reject(new AppError('cancelled', 'the quantization was cancelled'));
  const entry = childEntry(import.meta.url, 'quantize-child');
  const child = fork(entry.file, [JSON.stringify(job)], {
    execArgv: entry.execArgv,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, ...(process.versions['electron'] ? { ELECTRON_RUN_AS_NODE: '1' } : {}) },
  });
  const tail: string[] = [];
  let callbackError: unknown = null;
  let partial = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const m = PROGRESS.exec(line.trim());
      if (m) {
        try {
          opts.onTensor?.(Number(m[1]), Number(m[2]), m[3]!);
        } catch (e) {
          // the caller's failure ends the quantization with it, never an unhandled error on this stream
          callbackError ??= e;
          child.kill('SIGKILL');
        }
      } else if (line.trim()) {
        tail.push(line.trim());
        if (tail.length > STDERR_LINES) tail.shift();
      }
    }
  });
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => reject(new AppError('engine_error', `the quantization could not start: ${e.message}`)));
    child.on('exit', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(new AppError('cancelled', 'the quantization was cancelled'));
      if (callbackError !== null) return reject(callbackError);
      if (code === 0) return resolve();
      const why =
        tail
          .filter((l) => /error|fail|assert|abort|refus|requires/i.test(l))
          .slice(-3)
          .join(' · ') || tail.slice(-3).join(' · ');
      reject(
        new AppError('engine_error', `llama.cpp could not quantize ${job.input}${sig ? ` (the process ended by ${sig})` : ''}: ${why || `exit code ${code}`}`),
      );
    });
  });
}
