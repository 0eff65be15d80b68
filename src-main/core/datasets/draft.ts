import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import { filterSql } from './filter.js';
import type { DraftOperation, DraftSummary, ExamplesFilter, NormalizedExample, Selection, Split } from '../../../src-shared/domain/datasets.js';
import { AppError } from '../../../src-shared/errors.js';
import { FTS_TEXT_SQL, ftsText } from '../store/search-db.js';

const toolsJson = (e: NormalizedExample) => (e.tools?.length ? JSON.stringify(e.tools) : null);

/** What one change did to a draft row; undo restores the before-image kept in draft_undo. */
export interface OperationResult {
  opId: number | null;
  affected: number;
  /** Rows the selection held but the operation left alone (e.g. test examples of a frozen split). */
  skipped: number;
}

interface DraftRow {
  id: number;
  number: number;
  parent_id: number | null;
}

/**
 * The working copy of a dataset (a version in state 'draft') and its undo stack. Every change is one operation: it
 * records the affected rows as they were (or marks rows deleted), so undo is exact and commit is cheap. A committed
 * version is never written again.
 */
export class DraftStore {
  constructor(private readonly db: Db) {}

  draftOf(datasetId: number): DraftRow | null {
    return (
      (this.db.prepare(`SELECT id, number, parent_id FROM dataset_versions WHERE dataset_id = ? AND state = 'draft'`).get(datasetId) as DraftRow | undefined) ??
      null
    );
  }

  summary(datasetId: number): DraftSummary | null {
    const d = this.draftOf(datasetId);
    if (!d) return null;
    const basedOn = d.parent_id === null ? 0 : (this.db.prepare(`SELECT number FROM dataset_versions WHERE id = ?`).pluck().get(d.parent_id) as number);
    const operations = (
      this.db.prepare(`SELECT id, label, affected, created_at FROM draft_ops WHERE version_id = ? ORDER BY id`).all(d.id) as {
        id: number;
        label: string;
        affected: number;
        created_at: string;
      }[]
    ).map((o): DraftOperation => ({ id: o.id, label: o.label, affected: o.affected, createdAt: o.created_at }));
    const exampleCount = this.db.prepare(`SELECT count(*) FROM version_examples WHERE version_id = ? AND deleted_op IS NULL`).pluck().get(d.id) as number;
    return { number: d.number, basedOn, exampleCount, operations };
  }

  /** The draft of a dataset, made from its latest committed version when there is none (copies its rows). */
  ensureDraft(datasetId: number): DraftRow {
    const existing = this.draftOf(datasetId);
    if (existing) return existing;
    if (this.db.prepare(`SELECT 1 FROM dataset_versions WHERE dataset_id = ? AND state = 'importing'`).get(datasetId)) {
      throw new AppError('conflict', 'a file is being added to this dataset; wait for the import to finish');
    }
    return this.db.transaction(() => {
      const parent = this.db
        .prepare(`SELECT id, number FROM dataset_versions WHERE dataset_id = ? AND state = 'committed' ORDER BY number DESC LIMIT 1`)
        .get(datasetId) as { id: number; number: number };
      const id = Number(
        this.db
          .prepare(`INSERT INTO dataset_versions (dataset_id, number, message, parent_id, created_at, state) VALUES (?, ?, '', ?, ?, 'draft')`)
          .run(datasetId, parent.number + 1, parent.id, nowIso()).lastInsertRowid,
      );
      this.db
        .prepare(
          `INSERT INTO version_examples (version_id, position, example_id, split, tags, flags)
           SELECT ?, position, example_id, split, tags, flags FROM version_examples WHERE version_id = ? ORDER BY position`,
        )
        .run(id, parent.id);
      this.db
        .prepare(
          `INSERT INTO dup_clusters (version_id, position, cluster, similarity) SELECT ?, position, cluster, similarity FROM dup_clusters WHERE version_id = ?`,
        )
        .run(id, parent.id);
      return { id, number: parent.number + 1, parent_id: parent.id };
    })();
  }

  /** Positions a selection names in the draft (only rows that exist and are not deleted). */
  private selectionSql(draftId: number, selection: Selection): { sql: string; params: Record<string, string | number> } {
    if ('positions' in selection) {
      return {
        sql: `SELECT ve.position FROM version_examples ve WHERE ve.version_id = @v AND ve.deleted_op IS NULL AND ve.position IN (SELECT value FROM json_each(@positions))`,
        params: { v: draftId, positions: JSON.stringify(selection.positions) },
      };
    }
    const f = filterSql(draftId, selection.filter as ExamplesFilter);
    return { sql: `SELECT ve.position ${f.from}`, params: f.params };
  }

  private frozen(datasetId: number): boolean {
    return (this.db.prepare(`SELECT test_frozen FROM datasets WHERE id = ?`).pluck().get(datasetId) as number) === 1;
  }

  private newOp(draftId: number, label: string): number {
    return Number(
      this.db.prepare(`INSERT INTO draft_ops (version_id, label, affected, created_at) VALUES (?, ?, 0, ?)`).run(draftId, label, nowIso()).lastInsertRowid,
    );
  }

  /** Ends an operation: records its size, or drops it when it changed nothing (nothing to undo). */
  private closeOp(opId: number, affected: number, skipped: number): OperationResult {
    if (affected === 0) {
      this.db.prepare(`DELETE FROM draft_ops WHERE id = ?`).run(opId);
      return { opId: null, affected, skipped };
    }
    this.db.prepare(`UPDATE draft_ops SET affected = ? WHERE id = ?`).run(affected, opId);
    return { opId, affected, skipped };
  }

  /**
   * Sets new values on the selected rows for which `changes` (an SQL condition on `ve`) holds: keeps their before-image,
   * then applies `set` (SQL assignments on version_examples).
   */
  private update(
    datasetId: number,
    selection: Selection,
    label: string,
    changes: string,
    set: string,
    params: Record<string, string | number | null> = {},
    { protectTest = false } = {},
  ): OperationResult {
    return this.db.transaction(() => {
      const draft = this.ensureDraft(datasetId);
      const sel = this.selectionSql(draft.id, selection);
      const guard = protectTest && this.frozen(datasetId) ? ` AND ve.split IS NOT 'test'` : '';
      const opId = this.newOp(draft.id, label);
      const all = { ...sel.params, ...params, v: draft.id, op: opId };
      const selected = this.db.prepare(`SELECT count(*) FROM (${sel.sql})`).pluck().get(all) as number;
      const affected = this.db
        .prepare(
          `INSERT INTO draft_undo (op_id, position, example_id, split, tags, flags)
           SELECT @op, ve.position, ve.example_id, ve.split, ve.tags, ve.flags FROM version_examples ve
           WHERE ve.version_id = @v AND ve.position IN (${sel.sql}) AND (${changes})${guard}`,
        )
        .run(all).changes;
      this.db
        .prepare(`UPDATE version_examples AS ve SET ${set} WHERE ve.version_id = @v AND ve.position IN (SELECT position FROM draft_undo WHERE op_id = @op)`)
        .run(all);
      return this.closeOp(opId, affected, selected - affected);
    })();
  }

  tag(datasetId: number, selection: Selection, tag: string, label: string): OperationResult {
    return this.update(
      datasetId,
      selection,
      label,
      `instr(ve.tags, '|' || @tag || '|') = 0`,
      `tags = CASE WHEN ve.tags = '' THEN '|' || @tag || '|' ELSE ve.tags || @tag || '|' END`,
      { tag },
    );
  }

  untag(datasetId: number, selection: Selection, tag: string, label: string): OperationResult {
    return this.update(
      datasetId,
      selection,
      label,
      `instr(ve.tags, '|' || @tag || '|') > 0`,
      `tags = coalesce(nullif(replace(ve.tags, '|' || @tag || '|', '|'), '|'), '')`,
      { tag },
    );
  }

  /** Adds a flag reason (`manual`, `empty-answer`, `pii:email`…) to the selected rows. */
  flag(datasetId: number, selection: Selection, reason: string, label: string): OperationResult {
    return this.update(
      datasetId,
      selection,
      label,
      `instr(ve.flags, '|' || @reason || '|') = 0`,
      `flags = CASE WHEN ve.flags = '' THEN '|' || @reason || '|' ELSE ve.flags || @reason || '|' END`,
      { reason },
    );
  }

  /** Flags each row with its own reasons (a scan's findings): position → reasons. */
  flagEach(datasetId: number, findings: Map<number, string[]>, label: string): OperationResult {
    return this.db.transaction(() => {
      const draft = this.ensureDraft(datasetId);
      const opId = this.newOp(draft.id, label);
      const current = this.db.prepare(
        `SELECT example_id, split, tags, flags FROM version_examples WHERE version_id = ? AND position = ? AND deleted_op IS NULL`,
      );
      const keep = this.db.prepare(`INSERT INTO draft_undo (op_id, position, example_id, split, tags, flags) VALUES (?, ?, ?, ?, ?, ?)`);
      const set = this.db.prepare(`UPDATE version_examples SET flags = ? WHERE version_id = ? AND position = ?`);
      let affected = 0;
      for (const [position, reasons] of findings) {
        const row = current.get(draft.id, position) as { example_id: number; split: Split | null; tags: string; flags: string } | undefined;
        if (!row) continue;
        const missing = reasons.filter((r) => !row.flags.includes(`|${r}|`));
        if (missing.length === 0) continue;
        keep.run(opId, position, row.example_id, row.split, row.tags, row.flags);
        set.run(`${row.flags || '|'}${missing.join('|')}|`, draft.id, position);
        affected++;
      }
      return this.closeOp(opId, affected, findings.size - affected);
    })();
  }

  unflag(datasetId: number, selection: Selection, label: string): OperationResult {
    return this.update(datasetId, selection, label, `ve.flags <> ''`, `flags = ''`);
  }

  /** Deletes the selected rows (undoable until commit). A frozen test split's rows are left alone. */
  delete(datasetId: number, selection: Selection, label: string): OperationResult {
    return this.db.transaction(() => {
      const draft = this.ensureDraft(datasetId);
      const sel = this.selectionSql(draft.id, selection);
      const guard = this.frozen(datasetId) ? ` AND ve.split IS NOT 'test'` : '';
      const opId = this.newOp(draft.id, label);
      const all = { ...sel.params, v: draft.id, op: opId };
      const selected = this.db.prepare(`SELECT count(*) FROM (${sel.sql})`).pluck().get(all) as number;
      const affected = this.db
        .prepare(
          `UPDATE version_examples AS ve SET deleted_op = @op WHERE ve.version_id = @v AND ve.deleted_op IS NULL AND ve.position IN (${sel.sql})${guard}`,
        )
        .run(all).changes;
      return this.closeOp(opId, affected, selected - affected);
    })();
  }

  /**
   * Replaces the content of some rows (edits, redactions): each gets a new example row, indexed for search. An example
   * without a `tools` field keeps the row's tools; an empty list removes them.
   */
  replaceContent(datasetId: number, contents: Map<number, NormalizedExample>, label: string): OperationResult {
    return this.db.transaction(() => {
      const draft = this.ensureDraft(datasetId);
      const opId = this.newOp(draft.id, label);
      const current = this.db.prepare(
        `SELECT example_id, split, tags, flags FROM version_examples WHERE version_id = ? AND position = ? AND deleted_op IS NULL`,
      );
      const keep = this.db.prepare(`INSERT INTO draft_undo (op_id, position, example_id, split, tags, flags) VALUES (?, ?, ?, ?, ?, ?)`);
      const insert = this.db.prepare(
        `INSERT INTO examples (messages, reference, tools, source_line)
         SELECT @messages, @reference, CASE WHEN @tools IS NULL THEN tools ELSE nullif(@tools, '') END, source_line FROM examples WHERE id = @id`,
      );
      const index = this.db.prepare(`INSERT INTO search.examples_fts (rowid, text) SELECT e.id, ${FTS_TEXT_SQL} FROM examples e WHERE e.id = ?`);
      const point = this.db.prepare(`UPDATE version_examples SET example_id = ? WHERE version_id = ? AND position = ?`);
      let affected = 0;
      for (const [position, example] of contents) {
        const row = current.get(draft.id, position) as { example_id: number; split: Split | null; tags: string; flags: string } | undefined;
        if (!row) continue;
        keep.run(opId, position, row.example_id, row.split, row.tags, row.flags);
        const tools = example.tools === undefined ? null : (toolsJson(example) ?? '');
        const id = Number(insert.run({ messages: JSON.stringify(example.messages), reference: example.reference, tools, id: row.example_id }).lastInsertRowid);
        index.run(id);
        point.run(id, draft.id, position);
        affected++;
      }
      return this.closeOp(opId, affected, contents.size - affected);
    })();
  }

  /** Adds examples at the end of the working copy (undoable), indexed for search; returns their positions. */
  addExamples(datasetId: number, examples: NormalizedExample[], label: string, tags = ''): OperationResult & { positions: number[] } {
    return this.db.transaction(() => {
      const draft = this.ensureDraft(datasetId);
      const opId = this.newOp(draft.id, label);
      let next = ((this.db.prepare(`SELECT max(position) FROM version_examples WHERE version_id = ?`).pluck().get(draft.id) as number | null) ?? 0) + 1;
      const insert = this.db.prepare(`INSERT INTO examples (messages, reference, tools, source_line) VALUES (?, ?, ?, NULL)`);
      const link = this.db.prepare(`INSERT INTO version_examples (version_id, position, example_id, tags) VALUES (?, ?, ?, ?)`);
      const keep = this.db.prepare(`INSERT INTO draft_undo (op_id, position, example_id, split, tags, flags) VALUES (?, ?, 0, NULL, '', '')`);
      const index = this.db.prepare(`INSERT INTO search.examples_fts (rowid, text) VALUES (?, ?)`);
      const positions: number[] = [];
      for (const e of examples) {
        const id = Number(insert.run(JSON.stringify(e.messages), e.reference, toolsJson(e)).lastInsertRowid);
        index.run(id, ftsText(e));
        link.run(draft.id, next, id, tags);
        keep.run(opId, next);
        positions.push(next++);
      }
      return { ...this.closeOp(opId, examples.length, 0), positions };
    })();
  }

  /** Sets splits: position → split (rows not listed keep theirs). */
  setSplits(datasetId: number, splits: Map<number, Split>, label: string): OperationResult {
    return this.db.transaction(() => {
      this.db.exec(`CREATE TEMP TABLE IF NOT EXISTS pending_splits (position INTEGER PRIMARY KEY, split TEXT NOT NULL)`);
      this.db.exec(`DELETE FROM pending_splits`);
      const put = this.db.prepare(`INSERT INTO pending_splits (position, split) VALUES (?, ?)`);
      for (const [position, split] of splits) put.run(position, split);
      const draft = this.ensureDraft(datasetId);
      const guard = this.frozen(datasetId) ? ` AND ve.split IS NOT 'test' AND p.split <> 'test'` : '';
      const opId = this.newOp(draft.id, label);
      const affected = this.db
        .prepare(
          `INSERT INTO draft_undo (op_id, position, example_id, split, tags, flags)
           SELECT @op, ve.position, ve.example_id, ve.split, ve.tags, ve.flags FROM version_examples ve JOIN pending_splits p ON p.position = ve.position
           WHERE ve.version_id = @v AND ve.deleted_op IS NULL AND ve.split IS NOT p.split${guard}`,
        )
        .run({ op: opId, v: draft.id }).changes;
      this.db
        .prepare(
          `UPDATE version_examples AS ve SET split = p.split FROM pending_splits p
           WHERE ve.version_id = @v AND p.position = ve.position AND ve.position IN (SELECT position FROM draft_undo WHERE op_id = @op)`,
        )
        .run({ op: opId, v: draft.id });
      this.db.exec(`DELETE FROM pending_splits`);
      return this.closeOp(opId, affected, splits.size - affected);
    })();
  }

  /** Undoes the draft's last operation. */
  undo(datasetId: number): DraftOperation | null {
    return this.db.transaction(() => {
      const draft = this.draftOf(datasetId);
      if (!draft) return null;
      const op = this.db.prepare(`SELECT id, label, affected, created_at FROM draft_ops WHERE version_id = ? ORDER BY id DESC LIMIT 1`).get(draft.id) as
        { id: number; label: string; affected: number; created_at: string } | undefined;
      if (!op) return null;
      this.db
        .prepare(
          `UPDATE version_examples AS ve SET example_id = u.example_id, split = u.split, tags = u.tags, flags = u.flags
           FROM draft_undo u WHERE u.op_id = @op AND ve.version_id = @v AND ve.position = u.position AND u.example_id <> 0`,
        )
        .run({ op: op.id, v: draft.id });
      this.db.prepare(`UPDATE version_examples SET deleted_op = NULL WHERE version_id = ? AND deleted_op = ?`).run(draft.id, op.id);
      // rows the operation added (their before-image says they did not exist: example_id 0) go away again
      this.db
        .prepare(`DELETE FROM version_examples WHERE version_id = @v AND position IN (SELECT position FROM draft_undo WHERE op_id = @op AND example_id = 0)`)
        .run({ op: op.id, v: draft.id });
      this.db.prepare(`DELETE FROM draft_ops WHERE id = ?`).run(op.id);
      return { id: op.id, label: op.label, affected: op.affected, createdAt: op.created_at };
    })();
  }

  /** Freezes the draft as the dataset's next version. */
  commit(datasetId: number, message: string, runId: number | null = null): { versionId: number; number: number; exampleCount: number } {
    return this.db.transaction(() => {
      const draft = this.draftOf(datasetId);
      if (!draft) throw new AppError('conflict', 'there are no changes to commit');
      const ops = this.db.prepare(`SELECT count(*) FROM draft_ops WHERE version_id = ?`).pluck().get(draft.id) as number;
      if (ops === 0) throw new AppError('conflict', 'there are no changes to commit');
      this.db.prepare(`DELETE FROM version_examples WHERE version_id = ? AND deleted_op IS NOT NULL`).run(draft.id);
      this.db
        .prepare(`DELETE FROM dup_clusters WHERE version_id = @v AND position NOT IN (SELECT position FROM version_examples WHERE version_id = @v)`)
        .run({ v: draft.id });
      this.db.prepare(`DELETE FROM draft_ops WHERE version_id = ?`).run(draft.id);
      const exampleCount = this.db.prepare(`SELECT count(*) FROM version_examples WHERE version_id = ?`).pluck().get(draft.id) as number;
      this.db
        .prepare(`UPDATE dataset_versions SET state = 'committed', message = ?, example_count = ?, created_at = ?, run_id = ? WHERE id = ?`)
        .run(message, exampleCount, nowIso(), runId, draft.id);
      return { versionId: draft.id, number: draft.number, exampleCount };
    })();
  }

  /** Throws away the draft and the example rows only its edits created. */
  discard(datasetId: number): boolean {
    return this.db.transaction(() => {
      const draft = this.draftOf(datasetId);
      if (!draft) return false;
      const parentMax =
        (this.db.prepare(`SELECT max(example_id) FROM version_examples WHERE version_id = ?`).pluck().get(draft.parent_id) as number | null) ?? 0;
      const created = this.db
        .prepare(
          `SELECT example_id FROM version_examples WHERE version_id = ? AND example_id > ?
           UNION SELECT u.example_id FROM draft_undo u JOIN draft_ops o ON o.id = u.op_id WHERE o.version_id = ? AND u.example_id > ?`,
        )
        .pluck()
        .all(draft.id, parentMax, draft.id, parentMax) as number[];
      this.db.prepare(`DELETE FROM dataset_versions WHERE id = ?`).run(draft.id);
      const used = this.db.prepare(`SELECT 1 FROM version_examples WHERE example_id = ? LIMIT 1`).pluck();
      const drop = this.db.prepare(`DELETE FROM examples WHERE id = ?`);
      const unindex = this.db.prepare(`DELETE FROM search.examples_fts WHERE rowid = ?`);
      for (const id of created) {
        if (used.get(id)) continue;
        unindex.run(id);
        drop.run(id);
      }
      return true;
    })();
  }

  setTestFrozen(datasetId: number, frozen: boolean): void {
    this.db.prepare(`UPDATE datasets SET test_frozen = ? WHERE id = ?`).run(frozen ? 1 : 0, datasetId);
  }
}
