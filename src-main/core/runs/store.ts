import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import { AppError } from '../../../src-shared/errors.js';
import type { LineageKind, LineageLink, LogLevel, RunDetail, RunLog, RunMetric, RunStatus, RunSummary } from '../../../src-shared/domain/runs.js';
import { isJobKind, jobDef, type AnyJob, type JobConfig, type JobItem, type JobKindName, type JobMetric } from '../../../src-shared/contract/jobs.js';

interface RunRow {
  id: number;
  /** Every stored kind is one of the contract's (migration 011 renamed the older names). */
  kind: JobKindName;
  title: string;
  config: string;
  status: RunStatus;
  progress_done: number;
  progress_total: number | null;
  progress_msg: string;
  error: string | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
}

const toSummary = (r: RunRow): RunSummary => ({
  id: r.id,
  kind: r.kind,
  title: r.title,
  status: r.status,
  progress: { done: r.progress_done, total: r.progress_total, message: r.progress_msg },
  createdAt: r.created_at,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  error: r.error,
});

/** SQL for the runs tables; the only place that knows their columns. */
export class RunsStore {
  /** `declaration` finds a kind's schemas: the contract's, and kinds a test registers beside them. */
  constructor(
    private readonly db: Db,
    private readonly declaration: (kind: string) => AnyJob | undefined = (kind) => (isJobKind(kind) ? jobDef(kind) : undefined),
  ) {}

  insert(kind: JobKindName, title: string, config: unknown, at: string): number {
    const info = this.db
      .prepare(`INSERT INTO runs (kind, title, config, status, created_at) VALUES (?, ?, ?, 'queued', ?)`)
      .run(kind, title, JSON.stringify(config), at);
    return Number(info.lastInsertRowid);
  }

  /** A run's kind and its config as stored (the runner parses it through the kind before each attempt). */
  row(id: number): { kind: JobKindName; config: unknown } {
    const r = this.rawRow(id);
    return { kind: r.kind, config: JSON.parse(r.config) as unknown };
  }

  /** The config of run `id`, which must be of `kind`, read through the kind's schema (defaults of later versions filled). */
  config<K extends JobKindName>(id: number, kind: K): JobConfig<K> {
    const r = this.rawRow(id);
    if (r.kind !== kind) throw new AppError('not_found', `run ${id} is not a run of kind ${kind} (it is ${r.kind})`);
    return jobDef(kind).config.parse(JSON.parse(r.config)) as JobConfig<K>;
  }

  /** The results the committed items of run `id` (of `kind`) hold, read through the kind's item schema. */
  itemResults<K extends JobKindName>(id: number, kind: K): NonNullable<JobItem<K>>[] {
    const r = this.rawRow(id);
    if (r.kind !== kind) throw new AppError('not_found', `run ${id} is not a run of kind ${kind} (it is ${r.kind})`);
    const schema = jobDef(kind).item;
    const rows = this.db.prepare(`SELECT result FROM run_items WHERE run_id = ? AND result IS NOT NULL ORDER BY done_at, item_key`).pluck().all(id) as string[];
    return rows.map((raw) => schema.parse(JSON.parse(raw)) as NonNullable<JobItem<K>>);
  }

  summary(id: number): RunSummary {
    return toSummary(this.rawRow(id));
  }

  list(filter: { status?: RunStatus; kind?: JobKindName; limit: number }): RunSummary[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM runs WHERE (@status IS NULL OR status = @status) AND (@kind IS NULL OR kind = @kind)
         ORDER BY id DESC LIMIT @limit`,
      )
      .all({ status: filter.status ?? null, kind: filter.kind ?? null, limit: filter.limit }) as RunRow[];
    return rows.map(toSummary);
  }

  detail(id: number): RunDetail {
    const r = this.rawRow(id);
    const logs = this.db.prepare(`SELECT seq, at, level, message FROM run_logs WHERE run_id = ? ORDER BY seq`).all(id) as RunLog[];
    const metrics = this.db.prepare(`SELECT name, value, unit, step FROM run_metrics WHERE run_id = ? ORDER BY name, step`).all(id) as RunMetric[];
    const lineage = this.db
      .prepare(`SELECT direction, kind, ref, label FROM run_lineage WHERE run_id = ? ORDER BY direction, kind, ref`)
      .all(id) as LineageLink[];
    const parsed = this.declaration(r.kind)?.config.safeParse(JSON.parse(r.config));
    const config = parsed?.success
      ? { config: parsed.data }
      : { config: null, configError: `its stored settings do not read as a ${r.kind} config${parsed ? `: ${parsed.error.issues[0]?.message ?? ''}` : ''}` };
    return { ...toSummary(r), ...config, logs, metrics, lineage, itemsDone: this.itemsDone(id) } as RunDetail;
  }

  /** The queued runs, oldest first, with their kinds (the runner starts waiting kinds beside its busy slots). */
  queued(): { id: number; kind: JobKindName }[] {
    return this.db.prepare(`SELECT id, kind FROM runs WHERE status = 'queued' ORDER BY id`).all() as { id: number; kind: JobKindName }[];
  }

  /** The kind of run `id` as stored (a kind this version may not know), or null when there is no such run. */
  kindOf(id: number): string | null {
    return (this.db.prepare(`SELECT kind FROM runs WHERE id = ?`).pluck().get(id) as string | undefined) ?? null;
  }

  /**
   * The result of item `key` in every run of `kind` that committed it (newest run first), read through the kind's item
   * schema; results that no longer read are left out. E.g. every adapter the `adapters.watch` runs imported.
   */
  itemResultsOfKind<K extends JobKindName>(kind: K, key: string): { runId: number; result: NonNullable<JobItem<K>> }[] {
    const schema = jobDef(kind).item;
    const rows = this.db
      .prepare(
        `SELECT i.run_id AS runId, i.result FROM run_items i JOIN runs r ON r.id = i.run_id
          WHERE r.kind = ? AND i.item_key = ? AND i.result IS NOT NULL ORDER BY i.run_id DESC`,
      )
      .all(kind, key) as { runId: number; result: string }[];
    return rows.flatMap((r) => {
      const parsed = schema.safeParse(JSON.parse(r.result));
      return parsed.success ? [{ runId: r.runId, result: parsed.data as NonNullable<JobItem<K>> }] : [];
    });
  }

  markInterrupted(at: string): number[] {
    const rows = this.db.prepare(`SELECT id FROM runs WHERE status = 'running'`).all() as { id: number }[];
    this.db.prepare(`UPDATE runs SET status = 'interrupted', ended_at = ? WHERE status = 'running'`).run(at);
    return rows.map((r) => r.id);
  }

  markRunning(id: number, at: string): void {
    this.db.prepare(`UPDATE runs SET status = 'running', started_at = coalesce(started_at, ?), error = NULL WHERE id = ?`).run(at, id);
  }

  finish(id: number, status: RunStatus, error: string | null, at: string): void {
    this.db.prepare(`UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE id = ?`).run(status, error, at, id);
  }

  requeue(id: number): void {
    this.db.prepare(`UPDATE runs SET status = 'queued', error = NULL, ended_at = NULL WHERE id = ?`).run(id);
  }

  setProgress(id: number, done: number, total: number | null, message: string): void {
    this.db.prepare(`UPDATE runs SET progress_done = ?, progress_total = ?, progress_msg = ? WHERE id = ?`).run(done, total, message, id);
  }

  appendLog(id: number, level: LogLevel, message: string): RunLog {
    const at = nowIso();
    const seq = this.db
      .prepare(
        `INSERT INTO run_logs (run_id, seq, at, level, message)
         VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM run_logs WHERE run_id = ?), ?, ?, ?) RETURNING seq`,
      )
      .pluck()
      .get(id, id, at, level, message) as number;
    return { seq, at, level, message };
  }

  putMetric(id: number, m: RunMetric): void {
    this.db
      .prepare(
        `INSERT INTO run_metrics (run_id, name, value, unit, step) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (run_id, name, ifnull(step, -1)) DO UPDATE SET value = excluded.value, unit = excluded.unit`,
      )
      .run(id, m.name, m.value, m.unit, m.step);
  }

  series(id: number, name: string): number[] {
    return this.db.prepare(`SELECT value FROM run_metrics WHERE run_id = ? AND name = ? AND step IS NOT NULL ORDER BY step`).pluck().all(id, name) as number[];
  }

  addLineage(id: number, link: LineageLink): void {
    this.db
      .prepare(`INSERT OR IGNORE INTO run_lineage (run_id, direction, kind, ref, label) VALUES (?, ?, ?, ?, ?)`)
      .run(id, link.direction, link.kind, link.ref, link.label);
  }

  /** Every run's lineage rows (the chain view reads them all at once: a few rows per run). */
  allLineage(): (LineageLink & { runId: number })[] {
    return this.db
      .prepare(`SELECT run_id AS runId, direction, kind, ref, label FROM run_lineage ORDER BY run_id, direction, kind, ref`)
      .all() as (LineageLink & {
      runId: number;
    })[];
  }

  claimItem(id: number, key: string, result: unknown, at: string): boolean {
    const info = this.db
      .prepare(`INSERT OR IGNORE INTO run_items (run_id, item_key, result, done_at) VALUES (?, ?, ?, ?)`)
      .run(id, key, result === undefined ? null : JSON.stringify(result), at);
    return info.changes === 1;
  }

  doneItems(id: number): Set<string> {
    const keys = this.db.prepare(`SELECT item_key FROM run_items WHERE run_id = ?`).pluck().all(id) as string[];
    return new Set(keys);
  }

  itemsDone(id: number): number {
    return this.db.prepare(`SELECT count(*) FROM run_items WHERE run_id = ?`).pluck().get(id) as number;
  }

  /**
   * The latest run of `kind` that read `input` and recorded `figure` (a single figure, not a series): its id and the
   * value. `succeededOnly` skips runs that failed or were cancelled.
   */
  lastFigure<K extends JobKindName>(
    kind: K,
    figure: JobMetric<K>,
    input: { kind: LineageKind; ref: string },
    succeededOnly = false,
  ): { runId: number; value: number } | null {
    const row = this.db
      .prepare(
        `SELECT r.id AS runId, m.value FROM runs r
           JOIN run_lineage l ON l.run_id = r.id AND l.direction = 'input' AND l.kind = @linkKind AND l.ref = @ref
           JOIN run_metrics m ON m.run_id = r.id AND m.name = @figure AND m.step IS NULL
          WHERE r.kind = @kind AND (@succeededOnly = 0 OR r.status = 'succeeded')
          ORDER BY r.id DESC LIMIT 1`,
      )
      .get({ kind, figure, linkKind: input.kind, ref: input.ref, succeededOnly: succeededOnly ? 1 : 0 }) as { runId: number; value: number } | undefined;
    return row ?? null;
  }

  /**
   * The succeeded runs of `kind` whose config passes `keep`, oldest (by end) first, each with its config read through
   * the kind and its single figures by name.
   */
  succeededWithFigures<K extends JobKindName>(
    kind: K,
    keep: (config: JobConfig<K>) => boolean,
  ): { runId: number; endedAt: string; config: JobConfig<K>; figures: Map<string, number> }[] {
    const runs = this.db.prepare(`SELECT id, config, ended_at FROM runs WHERE kind = ? AND status = 'succeeded' ORDER BY ended_at, id`).all(kind) as {
      id: number;
      config: string;
      ended_at: string;
    }[];
    const figures = this.db.prepare(`SELECT name, value FROM run_metrics WHERE run_id = ? AND step IS NULL`);
    const schema = jobDef(kind).config;
    return runs.flatMap((r) => {
      const parsed = schema.safeParse(JSON.parse(r.config));
      if (!parsed.success || !keep(parsed.data as JobConfig<K>)) return [];
      const values = figures.all(r.id) as { name: string; value: number }[];
      return [{ runId: r.id, endedAt: r.ended_at, config: parsed.data as JobConfig<K>, figures: new Map(values.map((v) => [v.name, v.value])) }];
    });
  }

  /** Runs running here whose cancel was asked from another process (see JobRunner.requestCancel). */
  cancelRequested(): number[] {
    return this.db.prepare(`SELECT id FROM runs WHERE cancel_requested = 1 AND status = 'running'`).pluck().all() as number[];
  }

  setCancelRequested(id: number, asked: boolean): void {
    this.db.prepare(`UPDATE runs SET cancel_requested = ? WHERE id = ?`).run(asked ? 1 : 0, id);
  }

  private rawRow(id: number): RunRow {
    const r = this.db.prepare(`SELECT * FROM runs WHERE id = ?`).get(id) as RunRow | undefined;
    if (!r) throw new AppError('not_found', `there is no run ${id}`);
    return r;
  }
}
