import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { openDatabase, migrate } from '../../src-main/core/store/db.js';
import { MIGRATIONS } from '../../src-main/core/store/migrations/index.js';
import { RunsStore } from '../../src-main/core/runs/store.js';
import { tempDir } from '../helpers/workspace.js';

describe('store', () => {
  it('creates the database on first open with WAL, foreign keys and the latest schema', () => {
    const file = path.join(tempDir(), 'nested', 'distillery.db');
    const db = openDatabase(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['models', 'runs', 'run_items', 'run_logs', 'run_metrics', 'run_lineage', 'settings']));
    db.close();
  });

  it('migrates forward from an older version and leaves the data in place', () => {
    const file = path.join(tempDir(), 'distillery.db');
    const old = new Database(file);
    old.exec(MIGRATIONS[0]!.sql);
    old.pragma('user_version = 1');
    old.prepare(`INSERT INTO settings (key, value) VALUES ('inferenceThreads', '2')`).run();
    old.close();
    const db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.prepare(`SELECT value FROM settings WHERE key = 'inferenceThreads'`).pluck().get()).toBe('2');
    expect(migrate(db)).toBe(MIGRATIONS.length); // a second migrate is a no-op
    db.close();
  });

  it('upgrades a library of the first datasets schema: each import keeps its source file, search moves to search.db', () => {
    const dir = tempDir();
    const file = path.join(dir, 'distillery.db');
    const old = new Database(file);
    old.exec(MIGRATIONS[0]!.sql);
    old.exec(MIGRATIONS[1]!.sql);
    old.pragma('user_version = 2');
    old
      .prepare(
        `INSERT INTO runs (id, kind, title, config, status, created_at) VALUES (1, 'datasets.import', 't', '{"file":"/data/faq.jsonl","name":"faq","format":"openai"}', 'succeeded', 'now')`,
      )
      .run();
    old.prepare(`INSERT INTO datasets (id, name, created_at) VALUES (1, 'faq', 'now')`).run();
    old.prepare(`INSERT INTO dataset_versions (id, dataset_id, number, message, run_id, example_count, created_at) VALUES (1, 1, 1, 'm', 1, 1, 'now')`).run();
    old.prepare(`INSERT INTO examples (id, messages, reference, source_line) VALUES (1, '[{"role":"user","content":"printer jammed"}]', NULL, 1)`).run();
    old.prepare(`INSERT INTO version_examples (version_id, position, example_id) VALUES (1, 1, 1)`).run();
    old.prepare(`INSERT INTO examples_fts (rowid, text) VALUES (1, 'printer jammed')`).run();
    old.close();
    const db = openDatabase(file);
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'examples_fts'`).get()).toBeUndefined();
    expect(db.prepare(`SELECT rowid FROM examples_fts WHERE examples_fts MATCH 'printer'`).pluck().all()).toEqual([1]); // rebuilt in search.db
    expect(db.prepare(`SELECT idx, file, run_id FROM dataset_sources`).all()).toEqual([{ idx: 0, file: '/data/faq.jsonl', run_id: 1 }]);
    db.close();
  });

  it('renames the older job kinds to room.kind, and their configs read through the new kinds', () => {
    const file = path.join(tempDir(), 'distillery.db');
    const old = new Database(file);
    for (const m of MIGRATIONS.slice(0, 10)) old.exec(m.sql);
    old.pragma('user_version = 10');
    const variant = { modelId: 1, modelPath: '/m/a.gguf', modelName: 'a', adapters: [], label: 'a' };
    const insert = old.prepare(`INSERT INTO runs (id, kind, title, config, status, created_at) VALUES (?, ?, 't', ?, 'succeeded', 'now')`);
    insert.run(1, 'perplexity', JSON.stringify({ variant, source: { kind: 'file', path: '/t.txt' }, contextSize: 128 }));
    insert.run(2, 'sample.prepare', JSON.stringify({ folder: '/d/sample', vocabFile: '/r/vocab.gguf' }));
    insert.run(3, 'distill', '{"dataset":"faq"}'); // a config this version no longer reads
    insert.run(4, 'adapters.merge', JSON.stringify({ variant, out: '/m/b.gguf', type: 'f16' }));
    old.close();
    const db = openDatabase(file);
    const runs = new RunsStore(db);
    expect(runs.list({ limit: 10 }).map((r) => [r.id, r.kind])).toEqual([
      [4, 'adapters.merge'],
      [3, 'distill.generate'],
      [2, 'system.sample'],
      [1, 'adapters.perplexity'],
    ]);
    expect(runs.config(1, 'adapters.perplexity')).toMatchObject({ contextSize: 128, source: { kind: 'file' } });
    expect(runs.config(4, 'adapters.merge').replace).toBe(false); // a default added since, filled when read
    expect(() => runs.config(2, 'adapters.merge')).toThrow('run 2 is not a run of kind adapters.merge (it is system.sample)');
    const unreadable = runs.detail(3);
    expect(unreadable.config).toBeNull();
    expect(unreadable.configError).toMatch(/^its stored settings do not read as a distill\.generate config: /);
    db.close();
  });

  it('refuses a database written by a newer version', () => {
    const file = path.join(tempDir(), 'distillery.db');
    const db = new Database(file);
    db.pragma(`user_version = ${MIGRATIONS.length + 5}`);
    db.close();
    expect(() => openDatabase(file)).toThrow(/newer Distillery/);
  });

  it('keeps one metric per (run, name, step)', () => {
    const db = openDatabase(path.join(tempDir(), 'd.db'));
    db.prepare(`INSERT INTO runs (kind, title, config, status, created_at) VALUES ('k', 't', '{}', 'queued', 'now')`).run();
    const put = db.prepare(
      `INSERT INTO run_metrics (run_id, name, value, step) VALUES (1, 'x', ?, ?)
       ON CONFLICT (run_id, name, ifnull(step, -1)) DO UPDATE SET value = excluded.value`,
    );
    put.run(1, null);
    put.run(2, null);
    put.run(3, 0);
    expect(db.prepare(`SELECT value FROM run_metrics ORDER BY id`).pluck().all()).toEqual([2, 3]);
    db.close();
  });
});
