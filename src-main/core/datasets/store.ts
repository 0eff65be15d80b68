// Over 400 lines for a reason: this is the only place that knows the datasets tables' columns (datasets, versions,
// examples, import batches, duplicate clusters, token counts). They change together in each migration; split by
// table, one schema's SQL would be spread over files that must all be edited at once.
import type Database from 'better-sqlite3';
import type { Db } from '../store/db.js';
import type {
  DatasetSummary,
  DatasetVersionSummary,
  ExampleRow,
  ExamplesFilter,
  NormalizedExample,
  RejectedRecord,
  Split,
} from '../../../src-shared/domain/datasets.js';
import { filterSql, isEmptyFilter } from './filter.js';
import { FTS_TEXT_SQL } from '../store/search-db.js';
import { AppError } from '../../../src-shared/errors.js';

/** Positions of the examples of a dataset's n-th source file start at n × SOURCE_STRIDE (then + the line). */
export const SOURCE_STRIDE = 1_000_000_000;
const ROWS_PER_STATEMENT = 100;

/** Where an import writes: the version, and the position base of its file. `first`: it creates the dataset. */
export interface ImportTarget {
  datasetId: number;
  versionId: number;
  base: number;
  first: boolean;
}

/**
 * A batch of records an import worker read, by columns (arrays of strings and numbers cross threads cheaper than
 * objects): the examples (line, messages as JSON, reference, tools as JSON) and the rejected lines.
 */
export interface PreparedBatch {
  lines: number[];
  messages: string[];
  references: (string | null)[];
  tools: (string | null)[];
  rejects: { line: number; reason: string; excerpt: string }[];
}

/** A version_examples row with its example, as SQL returns it (see toExampleRow). */
export interface RawRow {
  position: number;
  example_id: number;
  messages: string;
  reference: string | null;
  tools: string | null;
  split: Split | null;
  tags: string;
  flags: string;
  cluster: number | null;
  tokens: number | null;
  source_line: number | null;
  source_file: string | null;
}
const ROW_COLUMNS = `ve.position, ve.example_id, e.messages, e.reference, e.tools, ve.split, ve.tags, ve.flags, e.source_line,
  (SELECT s.file FROM dataset_versions dv JOIN dataset_sources s ON s.dataset_id = dv.dataset_id AND s.idx = ve.position / 1000000000
   WHERE dv.id = ve.version_id) AS source_file,
  (SELECT d.cluster FROM dup_clusters d WHERE d.version_id = ve.version_id AND d.position = ve.position) AS cluster,
  (SELECT t.tokens FROM token_counts t WHERE t.tokenizer = @tok AND t.example_id = ve.example_id) AS tokens`;

/** '|a|b|' ⇄ ['a', 'b'] */
export const splitList = (s: string): string[] => (s ? s.slice(1, -1).split('|') : []);

export function toExampleRow(r: RawRow): ExampleRow {
  return {
    position: r.position,
    messages: JSON.parse(r.messages) as NormalizedExample['messages'],
    reference: r.reference,
    ...(r.tools !== null ? { tools: JSON.parse(r.tools) as NormalizedExample['tools'] } : {}),
    split: r.split,
    tags: splitList(r.tags),
    flags: splitList(r.flags),
    cluster: r.cluster,
    tokens: r.tokens,
    source: r.source_file === null ? null : { file: r.source_file.split(/[\\/]/).pop()!, line: r.source_line ?? r.position % SOURCE_STRIDE },
  };
}

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
  state: 'committed',
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

  byName(name: string): { id: number; name: string; createdAt: string; state: string; testFrozen: boolean } | null {
    const d = this.db.prepare(`SELECT id, name, created_at, state, test_frozen FROM datasets WHERE name = ?`).get(name) as
      { id: number; name: string; created_at: string; state: string; test_frozen: number } | undefined;
    return d ? { id: d.id, name: d.name, createdAt: d.created_at, state: d.state, testFrozen: d.test_frozen === 1 } : null;
  }

  splitCounts(versionId: number): Record<Split | 'none', number> {
    const counts: Record<Split | 'none', number> = { train: 0, validation: 0, test: 0, none: 0 };
    const rows = this.db
      .prepare(`SELECT coalesce(split, 'none') AS split, count(*) AS n FROM version_examples WHERE version_id = ? AND deleted_op IS NULL GROUP BY 1`)
      .all(versionId) as { split: Split | 'none'; n: number }[];
    for (const r of rows) counts[r.split] = r.n;
    return counts;
  }

  tagCounts(versionId: number): { tag: string; count: number }[] {
    return this.labelCounts(versionId, 'tags').map(([tag, count]) => ({ tag, count }));
  }

  flagCounts(versionId: number): { flag: string; count: number }[] {
    return this.labelCounts(versionId, 'flags').map(([flag, count]) => ({ flag, count }));
  }

  /** How many live rows carry each tag (or flag reason), most frequent first. */
  private labelCounts(versionId: number, column: 'tags' | 'flags'): [string, number][] {
    const combos = this.db
      .prepare(
        `SELECT ${column} AS list, count(*) AS n FROM version_examples WHERE version_id = ? AND deleted_op IS NULL AND ${column} <> '' GROUP BY ${column}`,
      )
      .all(versionId) as { list: string; n: number }[];
    const counts = new Map<string, number>();
    for (const c of combos) for (const t of splitList(c.list)) counts.set(t, (counts.get(t) ?? 0) + c.n);
    return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  }

  /** What a split assignment needs of every live row. */
  splitInputs(versionId: number): { position: number; tags: string; split: Split | null }[] {
    return this.db
      .prepare(`SELECT position, tags, split FROM version_examples WHERE version_id = ? AND deleted_op IS NULL ORDER BY position`)
      .all(versionId) as { position: number; tags: string; split: Split | null }[];
  }

  /** Examples of a version without a token count for `tokenizer`, at most `limit`. */
  uncounted(versionId: number, tokenizer: string, limit: number): { example_id: number; messages: string; tools: string | null }[] {
    return this.db
      .prepare(
        `SELECT e.id AS example_id, e.messages, e.tools FROM version_examples ve JOIN examples e ON e.id = ve.example_id
         WHERE ve.version_id = @v AND ve.deleted_op IS NULL
           AND NOT EXISTS (SELECT 1 FROM token_counts t WHERE t.tokenizer = @tok AND t.example_id = ve.example_id)
         LIMIT @limit`,
      )
      .all({ v: versionId, tok: tokenizer, limit }) as { example_id: number; messages: string; tools: string | null }[];
  }

  uncountedCount(versionId: number, tokenizer: string): number {
    return this.db
      .prepare(
        `SELECT count(*) FROM version_examples ve WHERE ve.version_id = @v AND ve.deleted_op IS NULL
           AND NOT EXISTS (SELECT 1 FROM token_counts t WHERE t.tokenizer = @tok AND t.example_id = ve.example_id)`,
      )
      .pluck()
      .get({ v: versionId, tok: tokenizer }) as number;
  }

  saveTokenCounts(tokenizer: string, counts: { exampleId: number; tokens: number }[]): void {
    const put = this.db.prepare(`INSERT OR REPLACE INTO token_counts (tokenizer, example_id, tokens) VALUES (?, ?, ?)`);
    for (const c of counts) put.run(tokenizer, c.exampleId, c.tokens);
  }

  /** Replaces a version's near-duplicate clusters (derived data: a detection's latest result). */
  saveClusters(versionId: number, clusters: { positions: number[]; similarity: number }[]): void {
    this.db.prepare(`DELETE FROM dup_clusters WHERE version_id = ?`).run(versionId);
    const put = this.db.prepare(`INSERT INTO dup_clusters (version_id, position, cluster, similarity) VALUES (?, ?, ?, ?)`);
    for (const c of clusters) {
      const head = Math.min(...c.positions);
      for (const p of c.positions) put.run(versionId, p, head, c.similarity);
    }
  }

  /** A page of a version's clusters (live members only), largest first. */
  clusters(versionId: number, offset: number, limit: number): { total: number; clusters: { cluster: number; similarity: number; positions: number[] }[] } {
    const grouped = `SELECT d.cluster, min(d.similarity) AS similarity, json_group_array(d.position) AS positions, count(*) AS n
      FROM dup_clusters d JOIN version_examples ve ON ve.version_id = d.version_id AND ve.position = d.position AND ve.deleted_op IS NULL
      WHERE d.version_id = @v GROUP BY d.cluster HAVING count(*) > 1`;
    const total = this.db.prepare(`SELECT count(*) FROM (${grouped})`).pluck().get({ v: versionId }) as number;
    const rows = this.db.prepare(`${grouped} ORDER BY n DESC, d.cluster LIMIT @limit OFFSET @offset`).all({ v: versionId, limit, offset }) as {
      cluster: number;
      similarity: number;
      positions: string;
    }[];
    return {
      total,
      clusters: rows.map((r) => ({ cluster: r.cluster, similarity: r.similarity, positions: (JSON.parse(r.positions) as number[]).sort((a, b) => a - b) })),
    };
  }

  versions(datasetId: number): DatasetVersionSummary[] {
    return (this.db.prepare(`SELECT * FROM dataset_versions WHERE dataset_id = ? AND state = 'committed' ORDER BY number`).all(datasetId) as VersionRow[]).map(
      toVersion,
    );
  }

  /** Every committed version of every ready dataset with the version it was made from and the run that made it. */
  versionParents(): { dataset: string; number: number; parentNumber: number | null; runId: number | null }[] {
    return this.db
      .prepare(
        `SELECT d.name AS dataset, v.number, p.number AS parentNumber, v.run_id AS runId
           FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id LEFT JOIN dataset_versions p ON p.id = v.parent_id
          WHERE v.state = 'committed' AND d.state = 'ready' ORDER BY d.id, v.number`,
      )
      .all() as { dataset: string; number: number; parentNumber: number | null; runId: number | null }[];
  }

  preview(versionId: number, limit: number): NormalizedExample[] {
    const rows = this.db
      .prepare(
        `SELECT e.messages, e.reference, e.tools FROM version_examples ve JOIN examples e ON e.id = ve.example_id
         WHERE ve.version_id = ? AND ve.deleted_op IS NULL ORDER BY ve.position LIMIT ?`,
      )
      .all(versionId, limit) as { messages: string; reference: string | null; tools: string | null }[];
    return rows.map((r) => ({
      messages: JSON.parse(r.messages) as NormalizedExample['messages'],
      reference: r.reference,
      ...(r.tools !== null ? { tools: JSON.parse(r.tools) as NormalizedExample['tools'] } : {}),
    }));
  }

  /**
   * Rows [offset, offset + limit) of a version matching a filter, with how many match. A search's count stops at
   * `countCap` (then `exact` is false): counting every match of a frequent word costs more than anyone reads.
   */
  page(versionId: number, offset: number, limit: number, filter: ExamplesFilter = {}, countCap = 10_000): { total: number; exact: boolean; rows: RawRow[] } {
    const sql = filterSql(versionId, filter);
    const params = { ...sql.params, limit, offset, cap: countCap + 1, tok: filter.tokenizerModel === undefined ? '' : String(filter.tokenizerModel) };
    let total: number;
    let exact = true;
    if (isEmptyFilter(filter)) total = this.liveSize(versionId);
    else if (sql.searching) {
      total = this.db.prepare(`SELECT count(*) FROM (SELECT 1 ${sql.from} LIMIT @cap)`).pluck().get(params) as number;
      if (total > countCap) [total, exact] = [countCap, false];
    } else total = this.db.prepare(`SELECT count(*) ${sql.from}`).pluck().get(params) as number;
    const rows = (
      sql.rowsOnly
        ? // skip OFFSET rows in the index alone, then fetch the page's examples
          this.db.prepare(
            `SELECT ${ROW_COLUMNS} FROM (SELECT ve.* ${sql.rowsOnly} ORDER BY ve.position LIMIT @limit OFFSET @offset) ve JOIN examples e ON e.id = ve.example_id ORDER BY ve.position`,
          )
        : this.db.prepare(`SELECT ${ROW_COLUMNS} ${sql.from} ${sql.order} LIMIT @limit OFFSET @offset`)
    ).all(params) as RawRow[];
    return { total, exact, rows };
  }

  /** Live rows of a version: stored for a committed one (immutable), counted for a working copy. */
  private liveSize(versionId: number): number {
    const v = this.db.prepare(`SELECT state, example_count FROM dataset_versions WHERE id = ?`).get(versionId) as
      { state: string; example_count: number } | undefined;
    return v?.state === 'committed' ? v.example_count : this.versionSize(versionId);
  }

  /** Rows by position (the members of a cluster, a diff's two sides). */
  rowsAt(versionId: number, positions: number[], includeDeleted = false): RawRow[] {
    if (positions.length === 0) return [];
    return this.db
      .prepare(
        `SELECT ${ROW_COLUMNS} FROM version_examples ve JOIN examples e ON e.id = ve.example_id
         WHERE ve.version_id = @v AND ve.position IN (SELECT value FROM json_each(@positions))${includeDeleted ? '' : ' AND ve.deleted_op IS NULL'}
         ORDER BY ve.position`,
      )
      .all({ v: versionId, positions: JSON.stringify(positions), tok: '' }) as RawRow[];
  }

  versionSize(versionId: number): number {
    return this.db.prepare(`SELECT count(*) FROM version_examples WHERE version_id = ? AND deleted_op IS NULL`).pluck().get(versionId) as number;
  }

  /** Whether any live example of a version declares tools or has tool or per-message fields (a Parquet export then needs the wide layout). */
  usesChatFields(versionId: number): boolean {
    return (
      this.db
        .prepare(
          `SELECT EXISTS (SELECT 1 FROM version_examples ve JOIN examples e ON e.id = ve.example_id WHERE ve.version_id = ? AND ve.deleted_op IS NULL
             AND (e.tools IS NOT NULL OR instr(e.messages, '"tool_calls"') OR instr(e.messages, '"tool_call_id"') OR instr(e.messages, '"name"')
               OR instr(e.messages, '"weight"') OR instr(e.messages, '"loss_weight"')))`,
        )
        .pluck()
        .get(versionId) === 1
    );
  }

  /** Keyset paging for full scans (export): the rows after `position`, in order. */
  pageAfter(versionId: number, position: number, limit: number, split?: Split): RawRow[] {
    return this.db
      .prepare(
        `SELECT ${ROW_COLUMNS} FROM version_examples ve JOIN examples e ON e.id = ve.example_id
         WHERE ve.version_id = @v AND ve.position > @after AND ve.deleted_op IS NULL${split ? ' AND ve.split = @split' : ''}
         ORDER BY ve.position LIMIT @limit`,
      )
      .all({ v: versionId, after: position, limit, split: split ?? null, tok: '' }) as RawRow[];
  }

  /** The dataset, version and position base an import run is writing (null before its setup). */
  importTarget(runId: number): ImportTarget | null {
    const r = this.db
      .prepare(
        `SELECT v.dataset_id, v.id, s.idx FROM dataset_versions v JOIN dataset_sources s ON s.dataset_id = v.dataset_id AND s.run_id = v.run_id
         WHERE v.run_id = ? AND (v.number = 1 OR v.state = 'importing')`,
      )
      .get(runId) as { dataset_id: number; id: number; idx: number } | undefined;
    return r ? { datasetId: r.dataset_id, versionId: r.id, base: r.idx * SOURCE_STRIDE, first: r.idx === 0 } : null;
  }

  createImporting(name: string, message: string, runId: number, at: string, file: string): ImportTarget {
    const datasetId = Number(this.db.prepare(`INSERT INTO datasets (name, created_at, state) VALUES (?, ?, 'importing')`).run(name, at).lastInsertRowid);
    const versionId = Number(
      this.db
        .prepare(`INSERT INTO dataset_versions (dataset_id, number, message, run_id, created_at) VALUES (?, 1, ?, ?, ?)`)
        .run(datasetId, message, runId, at).lastInsertRowid,
    );
    this.db.prepare(`INSERT INTO dataset_sources (dataset_id, idx, file, run_id) VALUES (?, 0, ?, ?)`).run(datasetId, file, runId);
    return { datasetId, versionId, base: 0, first: true };
  }

  /** A hidden next version holding the latest one's examples, to which an import adds a file's (its own source). */
  createAppending(datasetId: number, message: string, runId: number, at: string, file: string): ImportTarget {
    const parent = this.db
      .prepare(`SELECT id, number FROM dataset_versions WHERE dataset_id = ? AND state = 'committed' ORDER BY number DESC LIMIT 1`)
      .get(datasetId) as { id: number; number: number };
    const busy = this.db.prepare(`SELECT number FROM dataset_versions WHERE dataset_id = ? AND state <> 'committed'`).pluck().get(datasetId);
    if (busy !== undefined) throw new AppError('conflict', `the dataset has uncommitted changes (version ${String(busy)}); commit or discard them first`);
    const versionId = Number(
      this.db
        .prepare(`INSERT INTO dataset_versions (dataset_id, number, message, parent_id, run_id, created_at, state) VALUES (?, ?, ?, ?, ?, ?, 'importing')`)
        .run(datasetId, parent.number + 1, message, parent.id, runId, at).lastInsertRowid,
    );
    this.db
      .prepare(
        `INSERT INTO version_examples (version_id, position, example_id, split, tags, flags)
         SELECT ?, position, example_id, split, tags, flags FROM version_examples WHERE version_id = ? ORDER BY position`,
      )
      .run(versionId, parent.id);
    const idx = ((this.db.prepare(`SELECT max(idx) FROM dataset_sources WHERE dataset_id = ?`).pluck().get(datasetId) as number | null) ?? -1) + 1;
    this.db.prepare(`INSERT INTO dataset_sources (dataset_id, idx, file, run_id) VALUES (?, ?, ?, ?)`).run(datasetId, idx, file, runId);
    return { datasetId, versionId, base: idx * SOURCE_STRIDE, first: false };
  }

  /** The last source line an import already handled (imported or rejected): a resume starts after it. */
  lastImportedLine(runId: number, target: ImportTarget): number {
    const a = this.db
      .prepare(`SELECT max(position) FROM version_examples WHERE version_id = ? AND position >= ? AND position < ?`)
      .pluck()
      .get(target.versionId, target.base, target.base + SOURCE_STRIDE) as number | null;
    const b = this.db.prepare(`SELECT max(line) FROM import_rejects WHERE run_id = ?`).pluck().get(runId) as number | null;
    return Math.max(a === null ? 0 : a - target.base, b ?? 0);
  }

  insertBatch(target: ImportTarget, runId: number, batch: ({ line: number; example: NormalizedExample } | { line: number; rejected: RejectedRecord })[]): void {
    const insertExample = this.db.prepare(`INSERT INTO examples (messages, reference, source_line, tools) VALUES (?, ?, ?, ?)`);
    const link = this.db.prepare(`INSERT INTO version_examples (version_id, position, example_id) VALUES (?, ?, ?)`);
    const reject = this.db.prepare(`INSERT INTO import_rejects (run_id, line, reason, excerpt) VALUES (?, ?, ?, ?)`);
    for (const item of batch) {
      if ('example' in item && item.line < SOURCE_STRIDE) {
        const tools = item.example.tools ? JSON.stringify(item.example.tools) : null;
        const id = insertExample.run(JSON.stringify(item.example.messages), item.example.reference, item.line, tools).lastInsertRowid;
        link.run(target.versionId, target.base + item.line, id);
      } else if ('example' in item) {
        reject.run(runId, item.line, `a file can hold at most ${SOURCE_STRIDE - 1} lines`, '');
      } else {
        reject.run(runId, item.line, item.rejected.reason, item.rejected.excerpt);
      }
    }
  }

  /** Adds the examples of an import's lines [from, to] to the full-text index, in SQL (no row crosses into JS). */
  indexLines(target: ImportTarget, runId: number, from: number, to: number): void {
    this.db
      .prepare(
        `INSERT INTO search.examples_fts (rowid, text)
         SELECT e.id, ${FTS_TEXT_SQL} FROM version_examples ve JOIN examples e ON e.id = ve.example_id
         WHERE ve.version_id = ? AND ve.position BETWEEN ? AND ?`,
      )
      .run(target.versionId, target.base + from, target.base + to);
    this.setIndexedLine(runId, to);
  }

  /** The last line of an import run whose examples are in the full-text index (0: none). */
  indexedLine(runId: number): number {
    return (this.db.prepare(`SELECT last_line FROM search.fts_progress WHERE run_id = ?`).pluck().get(runId) as number | undefined) ?? 0;
  }

  setIndexedLine(runId: number, line: number): void {
    this.db
      .prepare(`INSERT INTO search.fts_progress (run_id, last_line) VALUES (?, ?) ON CONFLICT DO UPDATE SET last_line = max(last_line, excluded.last_line)`)
      .run(runId, line);
  }

  /**
   * Inserts pre-serialized examples (an import worker parsed them) and rejects; returns the examples' new ids in order
   * (0 for one refused). Rows go in by statements of ROWS_PER_STATEMENT (a call per row costs more than SQLite's work).
   */
  insertPrepared(target: ImportTarget, runId: number, batch: PreparedBatch): number[] {
    const reject = this.db.prepare(`INSERT INTO import_rejects (run_id, line, reason, excerpt) VALUES (?, ?, ?, ?)`);
    for (const r of batch.rejects) reject.run(runId, r.line, r.reason, r.excerpt);
    const ids = new Array<number>(batch.lines.length).fill(0);
    const keep: number[] = []; // indexes of the examples to insert
    batch.lines.forEach((line, i) => {
      if (line < SOURCE_STRIDE) keep.push(i);
      else reject.run(runId, line, `a file can hold at most ${SOURCE_STRIDE - 1} lines`, '');
    });
    for (let k = 0; k < keep.length; k += ROWS_PER_STATEMENT) {
      const chunk = keep.slice(k, k + ROWS_PER_STATEMENT);
      const e = this.multiInsert('examples (messages, reference, source_line, tools)', 4, chunk.length);
      const last = Number(
        e.run(chunk.flatMap((i) => [batch.messages[i]!, batch.references[i] ?? null, batch.lines[i]!, batch.tools[i] ?? null])).lastInsertRowid,
      );
      const first = last - chunk.length + 1; // one statement's rows get consecutive rowids
      chunk.forEach((i, j) => (ids[i] = first + j));
      this.multiInsert('version_examples (version_id, position, example_id)', 3, chunk.length).run(
        chunk.flatMap((i, j) => [target.versionId, target.base + batch.lines[i]!, first + j]),
      );
    }
    return ids;
  }

  private readonly statements = new Map<string, Database.Statement>();
  private multiInsert(into: string, columns: number, rows: number): Database.Statement {
    const key = `${into}|${rows}`;
    let st = this.statements.get(key);
    if (!st) {
      const row = `(${Array(columns).fill('?').join(', ')})`;
      st = this.db.prepare(`INSERT INTO ${into} VALUES ${Array(rows).fill(row).join(', ')}`);
      this.statements.set(key, st);
    }
    return st;
  }

  finishImport(target: ImportTarget): number {
    const count = this.db.prepare(`SELECT count(*) FROM version_examples WHERE version_id = ?`).pluck().get(target.versionId) as number;
    this.db.prepare(`UPDATE dataset_versions SET example_count = ?, state = 'committed' WHERE id = ?`).run(count, target.versionId);
    this.db.prepare(`UPDATE datasets SET state = 'ready' WHERE id = ?`).run(target.datasetId);
    return count;
  }

  /** Removes what an unfinished import wrote: the dataset it was creating, or the version it was adding (and its rejects report, unless kept). */
  discardImport(runId: number, keepRejects = false): void {
    const target = this.importTarget(runId);
    this.db.transaction(() => {
      if (target) {
        // The examples of this import are those at its source's positions.
        const ids = this.db
          .prepare(`SELECT example_id FROM version_examples WHERE version_id = ? AND position >= ? AND position < ?`)
          .pluck()
          .all(target.versionId, target.base, target.base + SOURCE_STRIDE) as number[];
        this.db.prepare(`DELETE FROM version_examples WHERE version_id = ?`).run(target.versionId);
        const drop = this.db.prepare(`DELETE FROM examples WHERE id = ?`);
        const unindex = this.db.prepare(`DELETE FROM search.examples_fts WHERE rowid = ?`);
        for (const id of ids) {
          unindex.run(id);
          drop.run(id);
        }
        if (target.first) this.db.prepare(`DELETE FROM datasets WHERE id = ?`).run(target.datasetId);
        else {
          this.db.prepare(`DELETE FROM dataset_versions WHERE id = ?`).run(target.versionId);
          this.db.prepare(`DELETE FROM dataset_sources WHERE dataset_id = ? AND run_id = ?`).run(target.datasetId, runId);
        }
      }
      if (!keepRejects) this.db.prepare(`DELETE FROM import_rejects WHERE run_id = ?`).run(runId);
      this.db.prepare(`DELETE FROM run_items WHERE run_id = ?`).run(runId);
      this.db.prepare(`DELETE FROM search.fts_progress WHERE run_id = ?`).run(runId);
    })();
  }

  sources(datasetId: number, versionId: number): { idx: number; file: string; examples: number }[] {
    const files = this.db.prepare(`SELECT idx, file FROM dataset_sources WHERE dataset_id = ? ORDER BY idx`).all(datasetId) as { idx: number; file: string }[];
    const counts = new Map(
      (
        this.db
          .prepare(`SELECT position / ${SOURCE_STRIDE} AS idx, count(*) AS n FROM version_examples WHERE version_id = ? AND deleted_op IS NULL GROUP BY 1`)
          .all(versionId) as { idx: number; n: number }[]
      ).map((r) => [r.idx, r.n]),
    );
    return files.map((f) => ({ idx: f.idx, file: f.file, examples: counts.get(f.idx) ?? 0 }));
  }

  rejects(runId: number, limit: number): RejectedRecord[] {
    return this.db.prepare(`SELECT line, reason, excerpt FROM import_rejects WHERE run_id = ? ORDER BY line LIMIT ?`).all(runId, limit) as RejectedRecord[];
  }
}
