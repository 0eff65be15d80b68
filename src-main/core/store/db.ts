import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations/index.js';
import { attachSearch } from './search-db.js';

export type Db = Database.Database;

/**
 * Opens (creating if needed) the workbench database and migrates it forward.
 * One connection, owned by the main process. WAL lets readers (e.g. a CLI beside a running app) proceed during writes.
 */
export function openDatabase(file: string): Db {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // NORMAL is durable across application crashes in WAL mode (only an OS crash can lose the last commits).
  db.pragma('synchronous = NORMAL');
  migrate(db);
  attachSearch(db);
  return db;
}

/** Applies every migration above `PRAGMA user_version`, each in its own transaction. Forward only. */
export function migrate(db: Db): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = MIGRATIONS.length;
  if (current > latest) {
    throw new Error(`${db.name} was written by a newer Distillery (schema ${current}, this version knows ${latest}); update the app`);
  }
  for (let version = current + 1; version <= latest; version++) {
    const migration = MIGRATIONS[version - 1]!;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${version}`);
    })();
  }
  return latest;
}

export function nowIso(): string {
  return new Date().toISOString();
}
