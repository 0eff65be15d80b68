/**
 * The two helper threads of a dataset import (see importInWorkers in import.ts), one script, two roles:
 * - `read`: reads and normalizes the file, and sends batches of serialized examples (with the text to index) to the
 *   main thread, which inserts them into the library; at most a few batches ahead, so memory stays flat;
 * - `index`: receives the inserted examples' ids and texts from the main thread and writes them into the full-text
 *   index (search.db, its own SQLite file, so it is written in parallel with the library).
 * With the main thread's inserts that is three stages on two cores.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { readRecords } from '../formats/read.js';
import { SEARCH_SCHEMA, ftsText } from '../../store/search-db.js';
import type { ImportSpec } from '../../../../src-shared/domain/datasets.js';
import type { PreparedBatch } from '../store.js';
import { fileError, isFileSystemError } from '../../files/errors.js';
import { toErrorShape } from '../../../../src-shared/errors.js';

/** `texts`: a channel between the two workers: the reader sends each batch's texts straight to the indexer. */
export type WorkerData =
  | { role: 'read'; file: string; spec: ImportSpec; after: number; batchSize: number; batchBytes: number; maxAhead: number; texts?: MessagePort }
  | { role: 'index'; searchFile: string; runId: number; texts?: MessagePort };

/** Main → reader: a batch is in (so it may read further). Main → indexer: index these, or finish. */
export type ToWorker = { type: 'ack' } | { type: 'index'; seq: number; ids: number[]; lastLine: number } | { type: 'finish' };

export type FromWorker =
  | { type: 'batch'; seq: number; batch: PreparedBatch; first: number; last: number }
  | { type: 'done' }
  | { type: 'indexed' }
  | { type: 'closed' }
  | { type: 'error'; code: string; message: string; field?: string };

const port = parentPort!;
const data = workerData as WorkerData;
const send = (m: FromWorker) => port.postMessage(m);
const fail = (e: unknown) => {
  // A file system error (the file removed or made unreadable during the import) as a sentence naming the file.
  const shape = isFileSystemError(e) ? fileError(e, data.role === 'read' ? data.file : data.searchFile).toShape() : toErrorShape(e);
  send({ type: 'error', code: shape.code, message: shape.message, ...(shape.field ? { field: shape.field } : {}) });
};

if (data.role === 'read') {
  let ahead = 0;
  let wake: (() => void) | null = null;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'ack') ahead--;
    wake?.();
  });
  const read = async () => {
    const empty = (): PreparedBatch => ({ lines: [], messages: [], references: [], tools: [], rejects: [] });
    let batch = empty();
    let texts: string[] = [];
    let size = 0;
    let seq = 0;
    let first = 0;
    let last = 0;
    const flush = async () => {
      if (last === 0) return;
      size = 0;
      while (ahead >= data.maxAhead) await new Promise<void>((r) => (wake = r));
      ahead++;
      data.texts?.postMessage({ seq, texts });
      send({ type: 'batch', seq: seq++, batch, first, last });
      batch = empty();
      texts = [];
      first = last = 0;
    };
    for await (const item of readRecords(data.file, data.spec)) {
      if (item.line <= data.after) continue;
      if (first === 0) first = item.line;
      last = item.line;
      if ('example' in item) {
        const messages = JSON.stringify(item.example.messages);
        batch.lines.push(item.line);
        batch.messages.push(messages);
        batch.references.push(item.example.reference);
        batch.tools.push(item.example.tools ? JSON.stringify(item.example.tools) : null);
        texts.push(ftsText(item.example));
        size += messages.length;
      } else batch.rejects.push({ line: item.line, reason: item.rejected.reason, excerpt: item.rejected.excerpt });
      if (batch.lines.length + batch.rejects.length >= data.batchSize || size >= data.batchBytes) await flush();
    }
    await flush();
    send({ type: 'done' });
    data.texts?.close();
    port.close();
  };
  read().catch(fail);
} else {
  try {
    const db = new Database(data.searchFile);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 10000');
    db.exec(SEARCH_SCHEMA.replaceAll('%s', 'main'));
    const ROWS = 100;
    const insertSome = (n: number) => db.prepare(`INSERT INTO examples_fts (rowid, text) VALUES ${Array(n).fill('(?, ?)').join(', ')}`);
    const insertMany = insertSome(ROWS);
    const progress = db.prepare(
      `INSERT INTO fts_progress (run_id, last_line) VALUES (?, ?) ON CONFLICT DO UPDATE SET last_line = max(last_line, excluded.last_line)`,
    );
    const runId = data.runId;
    // A batch is indexed once both halves are in: its texts (from the reader) and its ids (from the main thread).
    const texts = new Map<number, string[]>();
    const ids = new Map<number, { ids: number[]; lastLine: number }>();
    let finishing = false;
    const indexReady = (seq: number) => {
      const t = texts.get(seq);
      const m = ids.get(seq);
      if (!t || !m) return;
      texts.delete(seq);
      ids.delete(seq);
      index({ ids: m.ids, texts: t, lastLine: m.lastLine });
    };
    const index = (m: { ids: number[]; texts: string[]; lastLine: number }) => {
      db.transaction(() => {
        // by statements of ROWS rows: one call per row costs more than the indexing
        const rows = m.ids.flatMap((id, i) => (id > 0 ? [id, m.texts[i]!] : []));
        for (let i = 0; i < rows.length; i += 2 * ROWS) {
          const chunk = rows.slice(i, i + 2 * ROWS);
          (chunk.length === 2 * ROWS ? insertMany : insertSome(chunk.length / 2)).run(chunk);
        }
        progress.run(runId, m.lastLine);
      })();
      send({ type: 'indexed' });
      closeIfDone();
    };
    const closeIfDone = () => {
      if (!finishing || ids.size > 0) return;
      db.close();
      send({ type: 'closed' });
      data.texts?.close();
      port.close();
    };
    data.texts?.on('message', (m: { seq: number; texts: string[] }) => {
      try {
        texts.set(m.seq, m.texts);
        indexReady(m.seq);
      } catch (e) {
        fail(e);
      }
    });
    port.on('message', (m: ToWorker) => {
      try {
        if (m.type === 'index') {
          ids.set(m.seq, { ids: m.ids, lastLine: m.lastLine });
          indexReady(m.seq);
        } else if (m.type === 'finish') {
          finishing = true;
          closeIfDone();
        }
      } catch (e) {
        fail(e);
      }
    });
  } catch (e) {
    fail(e);
  }
}
