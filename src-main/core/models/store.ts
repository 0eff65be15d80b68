import type { Db } from '../store/db.js';
import type { GgufSummary, ModelRole } from '../../../src-shared/domain/models.js';

export interface ModelRow {
  id: number;
  path: string;
  name: string;
  sizeBytes: number;
  mtimeMs: number;
  summary: GgufSummary;
  roles: ModelRole[];
  note: string;
  addedAt: string;
}

interface RawRow {
  id: number;
  path: string;
  name: string;
  size_bytes: number;
  mtime_ms: number;
  summary: string;
  roles: string;
  note: string;
  added_at: string;
}

const fromRaw = (r: RawRow): ModelRow => ({
  id: r.id,
  path: r.path,
  name: r.name,
  sizeBytes: r.size_bytes,
  mtimeMs: r.mtime_ms,
  summary: JSON.parse(r.summary) as GgufSummary,
  roles: JSON.parse(r.roles) as ModelRole[],
  note: r.note,
  addedAt: r.added_at,
});

/** SQL for the model library. Rows point at the user's files; we never own or delete those files. */
export class ModelsStore {
  constructor(private readonly db: Db) {}

  all(): ModelRow[] {
    return (this.db.prepare(`SELECT * FROM models ORDER BY name COLLATE NOCASE, id`).all() as RawRow[]).map(fromRaw);
  }

  byId(id: number): ModelRow | null {
    const r = this.db.prepare(`SELECT * FROM models WHERE id = ?`).get(id) as RawRow | undefined;
    return r ? fromRaw(r) : null;
  }

  /** The model at `path`, or at the same file: `realPath` is `path` with its symlinks resolved. */
  idByPath(path: string, realPath: string = path): number | null {
    return (
      (this.db.prepare(`SELECT id FROM models WHERE path = ? OR real_path = ? ORDER BY id LIMIT 1`).pluck().get(path, realPath) as number | undefined) ?? null
    );
  }

  /** Rows added before real paths were kept (migration 009). */
  withoutRealPath(): { id: number; path: string }[] {
    return this.db.prepare(`SELECT id, path FROM models WHERE real_path IS NULL`).all() as { id: number; path: string }[];
  }

  setRealPath(id: number, realPath: string): void {
    this.db.prepare(`UPDATE models SET real_path = ? WHERE id = ?`).run(realPath, id);
  }

  insert(m: Omit<ModelRow, 'id'>, realPath: string): number {
    const info = this.db
      .prepare(
        `INSERT INTO models (path, name, size_bytes, mtime_ms, summary, roles, note, added_at, real_path)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(m.path, m.name, m.sizeBytes, m.mtimeMs, JSON.stringify(m.summary), JSON.stringify(m.roles), m.note, m.addedAt, realPath);
    return Number(info.lastInsertRowid);
  }

  update(id: number, patch: { name?: string; roles?: ModelRole[]; note?: string }): void {
    this.db
      .prepare(
        `UPDATE models SET name = coalesce(@name, name), roles = coalesce(@roles, roles), note = coalesce(@note, note)
         WHERE id = @id`,
      )
      .run({
        id,
        name: patch.name ?? null,
        roles: patch.roles ? JSON.stringify([...new Set(patch.roles)]) : null,
        note: patch.note ?? null,
      });
  }

  delete(id: number): boolean {
    return this.db.prepare(`DELETE FROM models WHERE id = ?`).run(id).changes === 1;
  }
}
