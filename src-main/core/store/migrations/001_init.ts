export const m001_init = {
  name: '001_init',
  sql: /* sql */ `
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL -- JSON
) STRICT;

CREATE TABLE models (
  id          INTEGER PRIMARY KEY,
  path        TEXT NOT NULL UNIQUE,
  name        TEXT NOT NULL,
  size_bytes  INTEGER NOT NULL,
  mtime_ms    REAL NOT NULL,
  summary     TEXT NOT NULL, -- JSON GgufSummary, read when added
  roles       TEXT NOT NULL DEFAULT '[]', -- JSON array of teacher|student|base
  note        TEXT NOT NULL DEFAULT '',
  added_at    TEXT NOT NULL
) STRICT;

CREATE TABLE runs (
  id             INTEGER PRIMARY KEY,
  kind           TEXT NOT NULL,
  title          TEXT NOT NULL,
  config         TEXT NOT NULL, -- JSON, validated by the kind's schema
  status         TEXT NOT NULL CHECK (status IN ('queued','running','succeeded','failed','cancelled','interrupted')),
  progress_done  INTEGER NOT NULL DEFAULT 0,
  progress_total INTEGER,
  progress_msg   TEXT NOT NULL DEFAULT '',
  error          TEXT,
  created_at     TEXT NOT NULL,
  started_at     TEXT,
  ended_at       TEXT
) STRICT;
CREATE INDEX runs_status ON runs(status);
CREATE INDEX runs_kind ON runs(kind, id);

CREATE TABLE run_logs (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq     INTEGER NOT NULL,
  at      TEXT NOT NULL,
  level   TEXT NOT NULL CHECK (level IN ('info','warn','error')),
  message TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) STRICT;

CREATE TABLE run_metrics (
  id     INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name   TEXT NOT NULL,
  value  REAL NOT NULL,
  unit   TEXT NOT NULL DEFAULT '',
  step   INTEGER
) STRICT;
-- one value per (run, name, step): a retried step replaces, never duplicates
CREATE UNIQUE INDEX run_metrics_key ON run_metrics(run_id, name, ifnull(step, -1));

CREATE TABLE run_lineage (
  run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  direction TEXT NOT NULL CHECK (direction IN ('input','output')),
  kind      TEXT NOT NULL,
  ref       TEXT NOT NULL,
  label     TEXT NOT NULL,
  PRIMARY KEY (run_id, direction, kind, ref)
) STRICT;

-- Durable per-item progress: a job commits each finished item under a key unique within its run, in the same
-- transaction as the item's results, so a resumed run skips what is done and a retry cannot insert twice.
CREATE TABLE run_items (
  run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  item_key TEXT NOT NULL,
  result   TEXT, -- JSON, optional
  done_at  TEXT NOT NULL,
  PRIMARY KEY (run_id, item_key)
) STRICT;
`,
};
