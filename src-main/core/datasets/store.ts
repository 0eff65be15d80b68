import type { Db } from '../store/db.js';
import type { DatasetSummary, DatasetVersionSummary, NormalizedExample, RejectedRecord } from '../../../src-shared/domain/datasets.js';

interface VersionRow {
  id: number;
  number: number;
  message: string;
  example_count: number;
  created_at: string;
  run_id: number | null;
}
const toVersion = (v: VersionRow): DatasetVersionSummary => ({
  id: v.id,
  number: v.number,
  message: v.message,
  exampleCount: v.example_count,
  createdAt: v.created_at,
  runId: v.run_id,
});

/** SQL for datasets, versions (immutable snapshots) and examples. */
export class DatasetsStore {
  constructor(private readonly db: Db) {}

  list(): DatasetSummary[] {
    const rows = this.db.prepare(`SELECT id, name, created_at FROM datasets WHERE state = 'ready' ORDER BY name COLLATE NOCASE`).all() as {
      id: number;
      name: string;
      created_at: string;
    }[];
    return rows.map((d) => ({ id: d.id, name: d.name, createdAt: d.created_at, latest: this.versions(d.id).at(-1)! }));
  }

  byName(name: string): { id: number; name: string; createdAt: string; state: string } | null {
    const d = this.db.prepare(`SELECT id, name, created_at, state FROM datasets WHERE name = ?`).get(name) as
      | { id: number; name: string; created_at: string; state: string }
      | undefined;
    return d ? { id: d.id, name: d.name, createdAt: d.created_at, state: d.state } : null;
  }

  versions(datasetId: number): DatasetVersionSummary[] {
    return (this.db.prepare(`SELECT * FROM dataset_versions WHERE dataset_id = ? ORDER BY number`).all(datasetId) as VersionRow[]).map(toVersion);
  }

  preview(versionId: number, limit: number): NormalizedExample[] {
    const rows = this.db
      .prepare(
        `SELECT e.messages, e.reference FROM version_examples ve JOIN examples e ON e.id = ve.example_id
         WHERE ve.version_id = ? ORDER BY ve.position LIMIT ?`,
      )
      .all(versionId, limit) as { messages: string; reference: string | null }[];
    return rows.map((r) => ({ messages: JSON.parse(r.messages) as NormalizedExample['messages'], reference: r.reference }));
  }

  /**
   * Rows [offset, offset + limit) of a version in order, optionally only those matching a full-text query (FTS5 syntax)
   * and/or having a reference answer; with the number of matching rows.
   */
  page(
    versionId: number,
    offset: number,
    limit: number,
    filter: { match?: string; hasReference?: boolean } = {},
  ): { total: number; rows: { position: number; messages: string; reference: string | null }[] } {
    const where = ['ve.version_id = @versionId'];
    if (filter.match) where.push('ve.example_id IN (SELECT rowid FROM examples_fts WHERE examples_fts MATCH @match)');
    if (filter.hasReference !== undefined) where.push(filter.hasReference ? 'e.reference IS NOT NULL' : 'e.reference IS NULL');
    const from = `FROM version_examples ve JOIN examples e ON e.id = ve.example_id WHERE ${where.join(' AND ')}`;
    const params = { versionId, match: filter.match ?? null, limit, offset };
    const unfiltered = !filter.match && filter.hasReference === undefined;
    const total = unfiltered ? this.versionSize(versionId) : (this.db.prepare(`SELECT count(*) ${from}`).pluck().get(params) as number);
    const rows = this.db
      .prepare(`SELECT ve.position, e.messages, e.reference ${from} ORDER BY ve.position LIMIT @limit OFFSET @offset`)
      .all(params) as { position: number; messages: string; reference: string | null }[];
    return { total, rows };
  }

  versionSize(versionId: number): number {
    return this.db.prepare(`SELECT count(*) FROM version_examples WHERE version_id = ?`).pluck().get(versionId) as number;
  }

  /** Keyset paging for full scans (export): the rows after `position`, in order. */
  pageAfter(versionId: number, position: number, limit: number): { position: number; messages: string; reference: string | null }[] {
    return this.db
      .prepare(
        `SELECT ve.position, e.messages, e.reference FROM version_examples ve JOIN examples e ON e.id = ve.example_id
         WHERE ve.version_id = ? AND ve.position > ? ORDER BY ve.position LIMIT ?`,
      )
      .all(versionId, position, limit) as { position: number; messages: string; reference: string | null }[];
  }

  /** The dataset and first version an import run is writing (null before its setup). */
  importTarget(runId: number): { datasetId: number; versionId: number } | null {
    const r = this.db.prepare(`SELECT dataset_id, id FROM dataset_versions WHERE run_id = ? AND number = 1`).get(runId) as
      | { dataset_id: number; id: number }
      | undefined;
    return r ? { datasetId: r.dataset_id, versionId: r.id } : null;
  }

  createImporting(name: string, message: string, runId: number, at: string): { datasetId: number; versionId: number } {
    const datasetId = Number(this.db.prepare(`INSERT INTO datasets (name, created_at, state) VALUES (?, ?, 'importing')`).run(name, at).lastInsertRowid);
    const versionId = Number(
      this.db
        .prepare(`INSERT INTO dataset_versions (dataset_id, number, message, run_id, created_at) VALUES (?, 1, ?, ?, ?)`)
        .run(datasetId, message, runId, at).lastInsertRowid,
    );
    return { datasetId, versionId };
  }

  /** The last source line an import already handled (imported or rejected): a resume starts after it. */
  lastImportedLine(runId: number, versionId: number): number {
    const a = this.db.prepare(`SELECT max(position) FROM version_examples WHERE version_id = ?`).pluck().get(versionId) as number | null;
    const b = this.db.prepare(`SELECT max(line) FROM import_rejects WHERE run_id = ?`).pluck().get(runId) as number | null;
    return Math.max(a ?? 0, b ?? 0);
  }

  insertBatch(
    versionId: number,
    runId: number,
    batch: ({ line: number; example: NormalizedExample } | { line: number; rejected: RejectedRecord })[],
  ): void {
    const insertExample = this.db.prepare(`INSERT INTO examples (messages, reference, source_line) VALUES (?, ?, ?)`);
    const link = this.db.prepare(`INSERT INTO version_examples (version_id, position, example_id) VALUES (?, ?, ?)`);
    const reject = this.db.prepare(`INSERT INTO import_rejects (run_id, line, reason, excerpt) VALUES (?, ?, ?, ?)`);
    for (const item of batch) {
      if ('example' in item) {
        const id = insertExample.run(JSON.stringify(item.example.messages), item.example.reference, item.line).lastInsertRowid;
        link.run(versionId, item.line, id);
      } else {
        reject.run(runId, item.line, item.rejected.reason, item.rejected.excerpt);
      }
    }
  }

  /** Adds the examples of a version's lines [from, to] to the full-text index, in SQL (no row crosses into JS). */
  indexLines(versionId: number, from: number, to: number): void {
    this.db
      .prepare(
        `INSERT INTO examples_fts (rowid, text)
         SELECT e.id, (SELECT group_concat(json_extract(m.value, '$.content'), char(10)) FROM json_each(e.messages) m)
         FROM version_examples ve JOIN examples e ON e.id = ve.example_id
         WHERE ve.version_id = ? AND ve.position BETWEEN ? AND ?`,
      )
      .run(versionId, from, to);
  }

  finishImport(datasetId: number, versionId: number): number {
    const count = this.db.prepare(`SELECT count(*) FROM version_examples WHERE version_id = ?`).pluck().get(versionId) as number;
    this.db.prepare(`UPDATE dataset_versions SET example_count = ? WHERE id = ?`).run(count, versionId);
    this.db.prepare(`UPDATE datasets SET state = 'ready' WHERE id = ?`).run(datasetId);
    return count;
  }

  /** Removes a dataset that never finished importing, with the examples only it held. */
  discardImport(runId: number): void {
    const target = this.importTarget(runId);
    this.db.transaction(() => {
      if (target) {
        // An import's examples belong to its version only: delete the links, then the examples.
        const ids = this.db.prepare(`SELECT example_id FROM version_examples WHERE version_id = ?`).pluck().all(target.versionId) as number[];
        this.db.prepare(`DELETE FROM version_examples WHERE version_id = ?`).run(target.versionId);
        const drop = this.db.prepare(`DELETE FROM examples WHERE id = ?`);
        const unindex = this.db.prepare(`DELETE FROM examples_fts WHERE rowid = ?`);
        for (const id of ids) {
          unindex.run(id);
          drop.run(id);
        }
        this.db.prepare(`DELETE FROM datasets WHERE id = ?`).run(target.datasetId);
      }
      this.db.prepare(`DELETE FROM import_rejects WHERE run_id = ?`).run(runId);
      this.db.prepare(`DELETE FROM run_items WHERE run_id = ?`).run(runId);
    })();
  }

  rejects(runId: number, limit: number): RejectedRecord[] {
    return this.db.prepare(`SELECT line, reason, excerpt FROM import_rejects WHERE run_id = ? ORDER BY line LIMIT ?`).all(runId, limit) as RejectedRecord[];
  }
}
