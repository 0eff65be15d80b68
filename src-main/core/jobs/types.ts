import type { Db } from '../store/db.js';
import type { LineageKind, LogLevel } from '../../../src-shared/domain/runs.js';
import type { JobConfig, JobItem, JobKindName, JobMetric } from '../../../src-shared/contract/jobs.js';

/**
 * What a running job of kind K may do. Everything it records lands in SQLite and is pushed to the windows as events.
 * Helpers shared by several kinds take a `JobContext` (any kind).
 */
export interface JobContext<K extends JobKindName = JobKindName> {
  readonly runId: number;
  readonly config: JobConfig<K>;
  /** Aborted when the user cancels (or the app shuts down). Pass it to every long call. */
  readonly signal: AbortSignal;
  readonly db: Db;
  progress(done: number, total: number | null, message?: string): void;
  log(level: LogLevel, message: string): void;
  /**
   * One figure the kind declares (its unit comes from the declaration); `step` for series. Recording the same (name,
   * step) again replaces the value.
   */
  metric(name: JobMetric<K>, value: number, step?: number | null): void;
  /** The values this run recorded for a series figure (every step, earlier attempts included), by step. */
  series(name: JobMetric<K>): number[];
  lineage(direction: 'input' | 'output', kind: LineageKind, ref: string, label: string): void;
  /** Keys of the items this run committed before (in an earlier attempt): skip them on resume. */
  doneItems(): Set<string>;
  /**
   * Commits one finished item: `write` (synchronous SQL of the item's results) and the item's key, in one transaction.
   * Returns false, writing nothing, when the key was committed already — so a retry can never insert twice.
   */
  commitItem(key: string, write?: (db: Db) => void, result?: JobItem<K>): boolean;
  /**
   * Records `file` as a temporary file of this run before the job creates it, and returns it: if the run fails, is
   * cancelled, resumed, or the app dies, the file is removed (see TempFiles). `releaseTemp` once it is renamed or gone.
   */
  tempFile(file: string): string;
  releaseTemp(file: string): void;
  throwIfCancelled(): void;
  /** True when the user cancelled (the run ends `cancelled`); false when the app is shutting down (it resumes later). */
  cancelledByUser(): boolean;
}

/** How a kind of run (declared with its config in src-shared/contract) is titled and run. */
export interface JobKind<K extends JobKindName> {
  kind: K;
  title(config: JobConfig<K>): string;
  run(ctx: JobContext<K>): Promise<void>;
  /**
   * The run spends its time waiting (for a trainer's files, say), not computing: it starts at once and takes none of
   * the runner's concurrency slots, so hours of waiting never hold up the runs queued behind it.
   */
  waits?: boolean;
}
