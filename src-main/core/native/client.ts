/**
 * The main-side client of the engine host (engine-host.ts), the child process in which every llama.cpp call of the native
 * path runs:
 *
 *   const client = new EngineClient(() => engine.nativeLibraries());   // LlmEngine.native() holds the app's one
 *   const r = await client.request('score', { model: { path }, text, contextSize: 512, threads: 2 },
 *                                  { signal, onProgress: (p) => … });
 *
 * - The child is forked on the first request (sources: tsx's loader; bundles: `engine-host.js` beside the bundle; in
 *   Electron, process.execPath with ELECTRON_RUN_AS_NODE=1), with advanced serialization (typed arrays cross as such).
 * - A crash or exit of the child (a GGML_ASSERT abort, a kill, out of memory) rejects every pending request with an
 *   `engine_error` AppError carrying the child's last stderr lines; the next request starts a new child.
 * - Cancel: the signal sends a cancel, which the child sees between decode steps; if the request has not settled
 *   `killAfterMs` later (a decode that does not end), the child is killed. Either way the request rejects `cancelled`.
 * - The child does not keep the app alive while idle (unref'd between requests); `dispose()` ends it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { AppError } from '../../../src-shared/errors.js';
import { childEntry } from '../worker-entry.js';
import type { LibraryFiles } from './ffi.js';
import type { EngineOps, FromHost, OpName, ToHost } from './protocol.js';

export interface RequestOptions<P> {
  signal?: AbortSignal;
  onProgress?(progress: P): void;
  /** Called once the request is sent, with a function that feeds it more input while it runs (HostContext.onFeed). */
  feed?(send: (data: unknown) => void): void;
}

export interface EngineClientOptions {
  /** After a cancel, how long the child may take to stop before it is killed. Default 5 s. */
  killAfterMs?: number;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  onProgress?: ((p: unknown) => void) | undefined;
  signal?: AbortSignal | undefined;
}

const STDERR_LINES = 12;

export class EngineClient {
  private child: ChildProcess | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private stderrTail: string[] = [];
  private partial = '';
  private disposed = false;
  private starts = 0;

  constructor(
    private readonly libraries: () => Promise<LibraryFiles>,
    private readonly options: EngineClientOptions = {},
  ) {}

  /** How many times a child was started (1 + restarts after crashes). */
  get childStarts(): number {
    return this.starts;
  }

  /** The running child's pid, or null. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  async request<K extends OpName>(op: K, args: EngineOps[K]['args'], opts: RequestOptions<EngineOps[K]['progress']> = {}): Promise<EngineOps[K]['result']> {
    if (this.disposed) throw new AppError('internal', 'the engine client was disposed');
    const { signal } = opts;
    if (signal?.aborted) throw new AppError('cancelled', `the ${op} request was cancelled`);
    const child = await this.ensureChild();
    const id = this.nextId++;
    return new Promise<EngineOps[K]['result']>((resolve, reject) => {
      let killTimer: NodeJS.Timeout | null = null;
      const onAbort = () => {
        this.post(child, { type: 'cancel', id });
        killTimer = setTimeout(() => {
          if (this.pending.has(id) && this.child === child) child.kill('SIGKILL');
        }, this.options.killAfterMs ?? 5000);
      };
      const settle = () => {
        signal?.removeEventListener('abort', onAbort);
        if (killTimer) clearTimeout(killTimer);
        this.pending.delete(id);
        if (this.pending.size === 0) unref(child);
      };
      this.pending.set(id, {
        resolve: (v) => (settle(), resolve(v as EngineOps[K]['result'])),
        reject: (e) => {
          settle();
          reject(signal?.aborted ? new AppError('cancelled', `the ${op} request was cancelled`) : e);
        },
        onProgress: opts.onProgress as ((p: unknown) => void) | undefined,
        signal,
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      ref(child);
      this.post(child, { type: 'request', id, op, args });
      opts.feed?.((data) => this.post(child, { type: 'feed', id, data }));
    });
  }

  /** Kills the child (tests; a stuck request). Pending requests reject; the next request starts a new child. */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  /** Ends the child and rejects what is pending. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    if (child.connected) child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }

  private async ensureChild(): Promise<ChildProcess> {
    if (this.child) return this.child;
    const libraries = await this.libraries();
    if (this.child) return this.child;
    const entry = childEntry(import.meta.url, 'engine-host');
    const child = fork(entry.file, [JSON.stringify(libraries)], {
      execArgv: entry.execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, ...(process.versions['electron'] ? { ELECTRON_RUN_AS_NODE: '1' } : {}) },
    });
    this.starts++;
    this.child = child;
    this.stderrTail = [];
    this.partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => this.onStderr(s));
    child.on('message', (m: FromHost) => this.onMessage(m));
    child.on('error', (e) => this.onExit(child, `could not run: ${e.message}`));
    child.on('exit', (code, sig) => this.onExit(child, sig ? `was killed (${sig})` : `exited with code ${code}`));
    unref(child);
    return child;
  }

  private post(child: ChildProcess, m: ToHost): void {
    if (child.connected) child.send(m);
  }

  private onMessage(m: FromHost): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    // after a cancel the caller hears no more progress (the child may still finish the step it is in)
    if (m.type === 'progress') {
      if (!p.signal?.aborted) p.onProgress?.(m.progress);
    } else if (m.type === 'result') p.resolve(m.result);
    else p.reject(new AppError(m.error.code, m.error.message, m.error.field));
  }

  private onStderr(s: string): void {
    const lines = (this.partial + s).split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) this.stderrTail.push(l.trim());
    if (this.stderrTail.length > STDERR_LINES) this.stderrTail.splice(0, this.stderrTail.length - STDERR_LINES);
  }

  private onExit(child: ChildProcess, how: string): void {
    if (this.child !== child) return;
    this.child = null;
    if (this.partial.trim()) this.stderrTail.push(this.partial.trim());
    const tail = this.stderrTail.slice(-6).join(' | ');
    const error = new AppError('engine_error', `the inference engine process ${how}${tail ? `: ${tail}` : ''}`);
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(error);
  }
}

function ref(child: ChildProcess): void {
  child.ref();
  (child.channel as { ref?(): void } | undefined)?.ref?.();
}

function unref(child: ChildProcess): void {
  child.unref();
  (child.channel as { unref?(): void } | undefined)?.unref?.();
}
