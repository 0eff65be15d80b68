import type { z } from 'zod';
import type { Db } from '../store/db.js';
import type { LineageKind, LogLevel } from '../../../src-shared/domain/runs.js';

/** What a running job may do. Everything it records lands in SQLite and is pushed to the windows as events. */
export interface JobContext<C> {
  readonly runId: number;
  readonly config: C;
  /** Aborted when the user cancels (or the app shuts down). Pass it to every long call. */
  readonly signal: AbortSignal;
  readonly db: Db;
  progress(done: number, total: number | null, message?: string): void;
  log(level: LogLevel, message: string): void;
  /** One figure; `step` for series. Recording the same (name, step) again replaces the value. */
  metric(name: string, value: number, unit?: string, step?: number | null): void;
  lineage(direction: 'input' | 'output', kind: LineageKind, ref: string, label: string): void;
  /** Keys of the items this run committed before (in an earlier attempt): skip them on resume. */
  doneItems(): Set<string>;
  /**
   * Commits one finished item: `write` (synchronous SQL of the item's results) and the item's key, in one transaction.
   * Returns false, writing nothing, when the key was committed already — so a retry can never insert twice.
   */
  commitItem(key: string, write?: (db: Db) => void, result?: unknown): boolean;
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

export interface JobKind<C> {
  kind: string;
  /** Validates the stored config (again) before every attempt. */
  schema: z.ZodType<C>;
  title(config: C): string;
  run(ctx: JobContext<C>): Promise<void>;
}
