import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import type { Emit } from '../events.js';
import type { JobContext, JobKind } from './types.js';
import { RunsStore } from '../runs/store.js';
import { TempFiles } from './temp-files.js';
import { fileError, isFileSystemError } from '../files/errors.js';
import { AppError } from '../../../src-shared/errors.js';
import type { LineageLink, RunSummary } from '../../../src-shared/domain/runs.js';
import {
  isJobKind,
  jobDef,
  metricUnit,
  type AnyJob,
  type JobConfig,
  type JobConfigInput,
  type JobItem,
  type JobKindName,
} from '../../../src-shared/contract/jobs.js';

const PROGRESS_EVERY_MS = 150;

/** A job of a kind outside the contract (see registerExternal): its context is typed by its own config. */
export interface ExternalJob<C> {
  title(config: C): string;
  /** As JobKind.waits: outside the concurrency slots. */
  waits?: boolean;
  run(
    ctx: Omit<JobContext, 'config' | 'metric' | 'commitItem'> & {
      config: C;
      metric(name: string, value: number, step?: number | null): void;
      commitItem(key: string, write?: (db: Db) => void, result?: unknown): boolean;
    },
  ): Promise<void>;
}

interface Active {
  controller: AbortController;
  byUser: boolean;
  done: Promise<void>;
  /** A kind that waits (JobKind.waits): outside the concurrency slots. */
  waits: boolean;
}

/**
 * Durable job runner: every run is a row; status moves queued → running → succeeded | failed | cancelled, and a run
 * found `running` at start-up (the app died) becomes `interrupted`. Resuming re-queues it; the job skips the items it
 * committed before (see JobContext.commitItem).
 */
export class JobRunner {
  private readonly kinds = new Map<JobKindName, JobKind<JobKindName>>();
  /** Declarations of kinds outside the contract (tests register their own); the contract's are looked up there. */
  private readonly extra = new Map<string, AnyJob>();
  private readonly active = new Map<number, Active>();
  /** The runs table, read through the kinds' declarations (the runs room reads it here too). */
  readonly store: RunsStore;
  private readonly temps: TempFiles;
  private closed = false;
  /** Until start(), submitted runs wait queued (a process that does not own the data folder never runs jobs). */
  private started = false;

  constructor(
    private readonly db: Db,
    private readonly emit: Emit,
    private readonly concurrency = 1,
  ) {
    this.store = new RunsStore(db, (kind) => this.declaration(kind));
    this.temps = new TempFiles(db);
  }

  /** Adds how a kind of the contract runs. */
  register<K extends JobKindName>(kind: JobKind<K>): void {
    if (!isJobKind(kind.kind)) throw new Error(`job kind ${kind.kind} is not declared in src-shared/contract`);
    this.add(kind.kind, kind);
  }

  /**
   * A kind outside the contract, with its declaration: for the runner's own tests, whose jobs the app does not have.
   * Its runs are submitted as `kind as JobKindName`.
   */
  registerExternal<C>(kind: string, declaration: AnyJob, job: ExternalJob<C>): void {
    if (isJobKind(kind)) throw new Error(`job kind ${kind} is declared in src-shared/contract: register it`);
    this.extra.set(kind, declaration);
    this.add(kind, { kind, ...job });
  }

  private add(name: string, kind: object): void {
    if (this.kinds.has(name as JobKindName)) throw new Error(`job kind ${name} registered twice`);
    this.kinds.set(name as JobKindName, kind as JobKind<JobKindName>);
  }

  private declaration(kind: string): AnyJob | undefined {
    return isJobKind(kind) ? jobDef(kind) : this.extra.get(kind);
  }

  private declared(kind: JobKindName): AnyJob {
    const d = this.declaration(kind);
    if (!d) throw new AppError('not_found', `no job kind named ${kind}`);
    return d;
  }

  /** Marks runs left `running` by a previous process as interrupted, then starts queued ones. */
  start(): number[] {
    this.started = true;
    // Cancels asked from another process (a CLI beside the app) arrive through the database.
    this.cancelPoll = setInterval(() => this.pollCancels(), 500);
    this.cancelPoll.unref();
    const interrupted = this.store.markInterrupted(nowIso());
    for (const id of interrupted) {
      this.store.appendLog(id, 'warn', 'The app stopped while this run was running; resume it to finish the remaining items.');
    }
    // Nothing runs yet: every temporary file still recorded is a leftover of a run that died or ended.
    this.cleanTemps(null);
    this.schedule();
    return interrupted;
  }

  /** Queues a run; `title` overrides the kind's default (which sees only the config, not e.g. a model's name). */
  submit<K extends JobKindName>(kindName: K, config: JobConfigInput<K>, inputs: Omit<LineageLink, 'direction'>[] = [], title?: string): RunSummary {
    const kind = this.kindOf(kindName);
    const parsed = this.declared(kindName).config.parse(config) as JobConfig<K>;
    const id = this.db.transaction(() => {
      const runId = this.store.insert(kindName, title ?? kind.title(parsed), parsed, nowIso());
      for (const link of inputs) this.store.addLineage(runId, { ...link, direction: 'input' });
      return runId;
    })();
    const summary = this.store.summary(id);
    this.emit('runs.changed', summary);
    this.schedule();
    return summary;
  }

  /** The config of run `id`, which must be of `kind` (else not_found), read through the kind's schema. */
  config<K extends JobKindName>(id: number, kind: K): JobConfig<K> {
    return this.store.config(id, kind);
  }

  /** The results held by the committed items of run `id` (of `kind`), read through the kind's item schema. */
  itemResults<K extends JobKindName>(id: number, kind: K): NonNullable<JobItem<K>>[] {
    return this.store.itemResults(id, kind);
  }

  cancel(id: number): RunSummary {
    const run = this.store.summary(id);
    if (run.status === 'queued') {
      this.store.finish(id, 'cancelled', null, nowIso());
      this.store.appendLog(id, 'info', 'Cancelled before it started.');
    } else if (run.status === 'running') {
      const active = this.active.get(id);
      if (active) {
        active.byUser = true;
        active.controller.abort(new AppError('cancelled', 'cancelled by the user'));
      }
    } else {
      throw new AppError('conflict', `run ${id} is ${run.status}; only queued or running runs can be cancelled`);
    }
    const summary = this.store.summary(id);
    this.emit('runs.changed', summary);
    return summary;
  }

  resume(id: number): RunSummary {
    const run = this.store.summary(id);
    if (!['interrupted', 'failed', 'cancelled'].includes(run.status)) {
      throw new AppError('conflict', `run ${id} is ${run.status}; only interrupted, failed or cancelled runs can be resumed`);
    }
    this.kindOf(run.kind);
    this.cleanTemps(id);
    this.store.requeue(id);
    this.store.appendLog(id, 'info', `Resumed (${this.store.itemsDone(id)} items already done).`);
    const summary = this.store.summary(id);
    this.emit('runs.changed', summary);
    this.schedule();
    return summary;
  }

  /** Resolves when the run reaches an end state (for tests and the CLI). */
  async waitFor(id: number): Promise<RunSummary> {
    for (;;) {
      const active = this.active.get(id);
      if (active) await active.done;
      const run = this.store.summary(id);
      if (run.status !== 'queued' && run.status !== 'running') return run;
      if (!active) await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Cancels nothing durable: running jobs are aborted and left `running`, so the next start marks them interrupted. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.cancelPoll) clearInterval(this.cancelPoll);
    const pending = [...this.active.values()];
    for (const a of pending) a.controller.abort(new AppError('cancelled', 'the app is shutting down'));
    await Promise.allSettled(pending.map((a) => a.done));
  }

  private cancelPoll: ReturnType<typeof setInterval> | null = null;

  private pollCancels(): void {
    if (this.active.size === 0) return;
    for (const id of this.store.cancelRequested()) {
      if (!this.active.has(id)) continue;
      this.store.setCancelRequested(id, false);
      this.cancel(id);
    }
  }

  /**
   * Cancel from a process that does not run the job (the CLI beside the app): queued runs end at once; a running one
   * is flagged for its owner, which notices within a second.
   */
  requestCancel(id: number): RunSummary {
    const run = this.store.summary(id);
    if (run.status === 'running' && !this.active.has(id)) {
      this.store.setCancelRequested(id, true);
      this.store.appendLog(id, 'info', 'Cancel asked from another process.');
      return this.store.summary(id);
    }
    return this.cancel(id);
  }

  private kindOf<K extends JobKindName>(name: K): JobKind<K> {
    const kind = this.kinds.get(name);
    if (!kind) throw new AppError('not_found', `no job kind named ${name}`);
    return kind as unknown as JobKind<K>;
  }

  /** Starts queued runs, oldest first, while a slot is free; kinds that wait start at once, beside the slots. */
  private schedule(): void {
    if (this.closed || !this.started) return;
    let busy = [...this.active.values()].filter((a) => !a.waits).length;
    for (const { id, kind } of this.store.queued()) {
      if (this.active.has(id)) continue;
      const waits = this.kinds.get(kind)?.waits === true;
      if (waits) this.launch(id, true);
      else if (busy < this.concurrency) {
        busy++;
        this.launch(id, false);
      }
    }
  }

  private launch(id: number, waits: boolean): void {
    const controller = new AbortController();
    const entry: Active = { controller, byUser: false, done: Promise.resolve(), waits };
    this.active.set(id, entry);
    entry.done = this.execute(id, controller).finally(() => {
      this.active.delete(id);
      this.schedule();
    });
  }

  private async execute(id: number, controller: AbortController): Promise<void> {
    const row = this.store.row(id);
    const kind = this.kindOf(row.kind);
    this.store.markRunning(id, nowIso());
    this.emit('runs.changed', this.store.summary(id));
    try {
      const config = this.declared(row.kind).config.parse(row.config);
      await kind.run(this.context(id, row.kind, config, controller.signal, () => this.active.get(id)?.byUser ?? false));
      controller.signal.throwIfAborted();
      this.store.finish(id, 'succeeded', null, nowIso());
      this.store.appendLog(id, 'info', 'Succeeded.');
    } catch (error) {
      if (this.closed) return; // left `running`: the next start marks it interrupted
      if (controller.signal.aborted) {
        this.store.finish(id, 'cancelled', null, nowIso());
        this.store.appendLog(id, 'info', 'Cancelled.');
      } else {
        const path = (error as NodeJS.ErrnoException | null)?.path;
        const named = isFileSystemError(error) && typeof path === 'string' ? fileError(error, path) : error;
        const message = named instanceof Error ? named.message : String(named);
        this.store.finish(id, 'failed', message, nowIso());
        this.store.appendLog(id, 'error', message);
      }
    } finally {
      if (!this.closed) {
        this.cleanTemps(id);
        this.emit('runs.changed', this.store.summary(id));
      }
    }
  }

  /** Removes the recorded temporary files of one run, or of every run not running now (start-up). */
  private cleanTemps(id: number | null): void {
    for (const file of this.temps.clean(id, id === null ? this.active.keys() : [])) {
      if (id !== null) this.store.appendLog(id, 'info', `Removed the temporary file ${file}.`);
    }
  }

  private context(id: number, kind: JobKindName, config: unknown, signal: AbortSignal, byUser: () => boolean): JobContext {
    const { store, emit, db, temps } = this;
    const declared = this.declared(kind);
    let lastEmit = 0;
    return {
      runId: id,
      config: config as JobContext['config'],
      signal,
      db,
      progress(done, total, message = '') {
        store.setProgress(id, done, total, message);
        const now = Date.now();
        if (now - lastEmit >= PROGRESS_EVERY_MS || (total !== null && done >= total)) {
          lastEmit = now;
          emit('runs.changed', store.summary(id));
        }
      },
      log(level, message) {
        const log = store.appendLog(id, level, message);
        emit('runs.log', { runId: id, log });
      },
      metric(name, value, step = null) {
        const unit = metricUnit(declared, name);
        if (unit === null) throw new Error(`job kind ${kind} declares no figure ${name} (src-shared/contract)`);
        store.putMetric(id, { name, value, unit, step });
      },
      series: (name) => store.series(id, name),
      lineage(direction, kind, ref, label) {
        store.addLineage(id, { direction, kind, ref, label });
      },
      doneItems: () => store.doneItems(id),
      commitItem(key, write, result) {
        return db.transaction(() => {
          if (!store.claimItem(id, key, result, nowIso())) return false;
          write?.(db);
          return true;
        })();
      },
      tempFile(file) {
        temps.record(id, file);
        return file;
      },
      releaseTemp(file) {
        temps.release(id, file);
      },
      throwIfCancelled() {
        signal.throwIfAborted();
      },
      cancelledByUser: byUser,
    };
  }
}
