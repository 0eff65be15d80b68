/**
 * Quantizations in a child process (quantize-child.ts): llama.cpp aborts the process on some inputs, and a native call
 * cannot be interrupted, so cancelling kills the child. One child serves a whole ladder run (a `QuantizeSession`: one
 * start-up, the jobs sent one after another; it ends when closed or idle for a while); `quantizeFile` is a session of
 * one job. The caller names a temporary
 * output and renames it once a job resolves: a killed or failed quantization never leaves a file at its final name.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { childEntry } from '../worker-entry.js';
import { AppError } from '../../../src-shared/errors.js';
import type { QuantizeJob } from './quantize-child.js';

export interface QuantizeOptions {
  signal?: AbortSignal;
  /** Per tensor, as llama.cpp logs it: `[  3/ 21] blk.0.attn_q.weight`. */
  onTensor?(done: number, total: number, name: string): void;
}

/** The line the child writes on stderr after each job's own log lines: `DONE_MARKER id code`. */
export const DONE_MARKER = '@@distillery-quantize-done';

const STDERR_LINES = 8;
const PROGRESS = /^\[\s*(\d+)\s*\/\s*(\d+)\]\s+(\S+)/;

interface Current {
  id: number;
  /** The child running it: an earlier child's exit or late output is never this job's. */
  child: ChildProcess;
  job: QuantizeJob;
  opts: QuantizeOptions;
  tail: string[];
  callbackError: unknown;
  resolve(): void;
  reject(e: unknown): void;
}

export class QuantizeSession {
  private child: ChildProcess | null = null;
  private current: Current | null = null;
  private nextId = 1;
  private partial = '';
  private starts = 0;
  private idle: NodeJS.Timeout | null = null;

  /**
   * An idle child is ended after `idleMs` (a failed or abandoned run leaves no process behind) and never holds the app
   * open. `entry`: the child's script (default: beside this module, bundled or the TypeScript source; the bench passes
   * the bundled one so it measures what users run, not tsx's start-up).
   */
  constructor(
    private readonly idleMs = 2000,
    private readonly entry: { file: string; execArgv: string[] } = childEntry(import.meta.url, 'quantize-child'),
  ) {}

  /** How many children this session started (1 for a ladder, unless one was killed). */
  get childStarts(): number {
    return this.starts;
  }

  /** The child's pid while it runs, else null. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Quantizes one file in the session's child (started on first use, again after a kill). One job at a time. */
  run(job: QuantizeJob, opts: QuantizeOptions = {}): Promise<void> {
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(new AppError('cancelled', 'the quantization was cancelled'));
    if (this.current) return Promise.reject(new AppError('internal', 'a quantization is already running in this session'));
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const child = this.ensureChild();
    hold(child, true);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => child.kill('SIGKILL');
      const settle = () => {
        signal?.removeEventListener('abort', onAbort);
        this.current = null;
        hold(child, false);
        this.idle = setTimeout(() => this.close(), this.idleMs).unref();
      };
      this.current = {
        id: this.nextId++,
        child,
        job,
        opts,
        tail: [],
        callbackError: null,
        resolve: () => (settle(), resolve()),
        reject: (e) => (settle(), reject(signal?.aborted ? new AppError('cancelled', 'the quantization was cancelled') : e)),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      child.send({ type: 'job', id: this.current.id, job });
    });
  }

  /** Ends the child (it exits when its parent disconnects). */
  close(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const child = this.child;
    this.child = null;
    if (child?.connected) child.disconnect();
  }

  private ensureChild(): ChildProcess {
    if (this.child) return this.child;
    const entry = this.entry;
    const child = fork(entry.file, [], {
      execArgv: entry.execArgv,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, ...(process.versions['electron'] ? { ELECTRON_RUN_AS_NODE: '1' } : {}) },
    });
    this.child = child;
    this.starts++;
    this.partial = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => this.onStderr(child, chunk));
    child.on('error', (e) => this.fail(child, new AppError('engine_error', `the quantization could not start: ${e.message}`)));
    child.on('exit', (code, sig) => {
      const c = this.current;
      const why = c ? reason(c.tail) : '';
      this.fail(
        child,
        new AppError(
          'engine_error',
          `llama.cpp could not quantize ${c?.job.input ?? 'the model'}${sig ? ` (the process ended by ${sig})` : ''}: ${why || `exit code ${code}`}`,
        ),
      );
    });
    return child;
  }

  private fail(child: ChildProcess, error: AppError): void {
    if (this.child === child) this.child = null;
    const c = this.current;
    // a child closed while idle may exit after the next job has started in a new one: that job is not its
    if (c && c.child === child) c.reject(c.callbackError ?? error);
  }

  private onStderr(child: ChildProcess, chunk: string): void {
    if (this.child !== child) return; // a closed child's last lines
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const raw of lines) {
      const line = raw.trim();
      const c = this.current;
      if (!c || !line) continue;
      if (line.startsWith(DONE_MARKER)) {
        const [, id, code] = line.split(' ');
        if (Number(id) !== c.id) continue;
        if (c.callbackError !== null) c.reject(c.callbackError);
        else if (code === '0') c.resolve();
        else c.reject(new AppError('engine_error', `llama.cpp could not quantize ${c.job.input}: ${reason(c.tail) || `exit code ${code}`}`));
        continue;
      }
      const m = PROGRESS.exec(line);
      if (m) {
        try {
          c.opts.onTensor?.(Number(m[1]), Number(m[2]), m[3]!);
        } catch (e) {
          // the caller's failure ends the quantization with it, never an unhandled error on this stream
          c.callbackError ??= e;
          this.child?.kill('SIGKILL');
        }
      } else {
        c.tail.push(line);
        if (c.tail.length > STDERR_LINES) c.tail.shift();
      }
    }
  }
}

/** A running job keeps the app alive; an idle child (and its IPC channel) does not. */
function hold(child: ChildProcess, on: boolean): void {
  if (on) {
    child.ref();
    (child.channel as { ref?(): void } | undefined)?.ref?.();
  } else {
    child.unref();
    (child.channel as { unref?(): void } | undefined)?.unref?.();
  }
}

function reason(tail: string[]): string {
  return (
    tail
      .filter((l) => /error|fail|assert|abort|refus|requires/i.test(l))
      .slice(-3)
      .join(' · ') || tail.slice(-3).join(' · ')
  );
}

/** One quantization in a child of its own. */
export async function quantizeFile(job: QuantizeJob, opts: QuantizeOptions & { entry?: { file: string; execArgv: string[] } } = {}): Promise<void> {
  const session = new QuantizeSession(undefined, opts.entry);
  try {
    await session.run(job, opts);
  } finally {
    session.close();
  }
}
