import path from 'node:path';
import type { Db } from './db.js';
import { messageText, type NormalizedExample } from '../../../src-shared/domain/datasets.js';

/**
 * The full-text index lives in its own SQLite file beside the library (`search.db`), attached to the main connection
 * as schema `search`: a dataset import can then write the index from a worker thread, on the other core, while the
 * main thread writes the examples (SQLite allows one writer per file). It is derived data: delete the file and the
 * next start rebuilds it from the examples.
 */
export const SEARCH_FILE = 'search.db';

/** Contentless (the text lives in `examples`), detail=none (no positions: searches are all-words, never phrases). */
export const SEARCH_SCHEMA = /* sql */ `
CREATE VIRTUAL TABLE IF NOT EXISTS %s.examples_fts USING fts5(text, content = '', contentless_delete = 1, detail = none, tokenize = 'unicode61 remove_diacritics 2');
-- How far an import's lines are indexed (a resumed import indexes what its last attempt committed but did not index).
CREATE TABLE IF NOT EXISTS %s.fts_progress (run_id INTEGER PRIMARY KEY, last_line INTEGER NOT NULL) STRICT;
`;

const PLAIN_TEXT_SQL = `(SELECT group_concat(json_extract(m.value, '$.content'), char(10)) FROM json_each(e.messages) m)`;
/** messageText() of each message (content, then each call as `name(arguments)`), then each tool as `name: description`. */
const TOOLS_TEXT_SQL = `(SELECT group_concat(t, char(10)) FROM (
    SELECT m.key AS k, -1 AS j, json_extract(m.value, '$.content') AS t FROM json_each(e.messages) m
      WHERE json_extract(m.value, '$.tool_calls') IS NULL OR json_extract(m.value, '$.content') != ''
    UNION ALL
    SELECT m.key, c.key, json_extract(c.value, '$.function.name') || '(' || json_extract(c.value, '$.function.arguments') || ')'
      FROM json_each(e.messages) m, json_each(m.value, '$.tool_calls') c
    UNION ALL
    SELECT 1e15, t.key, json_extract(t.value, '$.function.name') || coalesce(': ' || nullif(json_extract(t.value, '$.function.description'), ''), '')
      FROM json_each(coalesce(e.tools, '[]')) t
    ORDER BY 1, 2))`;

/**
 * The text indexed for an example (the same in SQL and in JS): its messages' text one per line (content, and tool calls
 * as `name(arguments)`), then its tools as `name: description`. Plain chats skip the tool part of the query.
 */
export const FTS_TEXT_SQL = `(CASE WHEN e.tools IS NULL AND instr(e.messages, '"tool_calls"') = 0 THEN ${PLAIN_TEXT_SQL} ELSE ${TOOLS_TEXT_SQL} END)`;
export const ftsText = (e: Pick<NormalizedExample, 'messages' | 'tools'>): string =>
  [...e.messages.map(messageText), ...(e.tools ?? []).map((t) => t.function.name + (t.function.description ? `: ${t.function.description}` : ''))].join('\n');

/** Attaches (creating if needed) the search index of the library at `db.name`; rebuilds it when it is new and examples exist. */
export function attachSearch(db: Db): void {
  const file = path.join(path.dirname(db.name), SEARCH_FILE);
  db.prepare(`ATTACH DATABASE ? AS search`).run(file);
  db.pragma('search.journal_mode = WAL');
  db.pragma('search.synchronous = NORMAL');
  const existed = db.prepare(`SELECT 1 FROM search.sqlite_master WHERE name = 'examples_fts'`).get() !== undefined;
  db.exec(SEARCH_SCHEMA.replaceAll('%s', 'search'));
  if (!existed) {
    db.transaction(() => {
      db.exec(`INSERT INTO search.examples_fts (rowid, text) SELECT e.id, ${FTS_TEXT_SQL} FROM examples e`);
    })();
  }
}
