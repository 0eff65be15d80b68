export const m003_curation = {
  name: '003_curation',
  sql: /* sql */ `
-- The full-text index moves to its own file (search.db, attached as schema search; see store/search-db.ts).
DROP TABLE IF EXISTS examples_fts;

-- A dataset has at most one draft: the working copy curation edits (tags, flags, splits, deletes, edits), made from the
-- latest committed version on the first change. Committing it freezes it as the next version, with a message.
-- 'importing': a version an append-import is still writing (hidden, like a dataset being imported).
ALTER TABLE dataset_versions ADD COLUMN state TEXT NOT NULL DEFAULT 'committed' CHECK (state IN ('importing', 'draft', 'committed'));
CREATE UNIQUE INDEX dataset_versions_one_draft ON dataset_versions(dataset_id) WHERE state = 'draft';

-- The files a dataset was imported from. An example's position is source * 1e9 + its line in that file, so positions
-- never collide across files and the source of any example is position / 1e9.
CREATE TABLE dataset_sources (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  idx        INTEGER NOT NULL,
  file       TEXT NOT NULL,
  run_id     INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  PRIMARY KEY (dataset_id, idx)
) STRICT;
INSERT INTO dataset_sources (dataset_id, idx, file, run_id)
  SELECT v.dataset_id, 0, coalesce(json_extract(r.config, '$.file'), ''), v.run_id
  FROM dataset_versions v LEFT JOIN runs r ON r.id = v.run_id WHERE v.number = 1;

-- Once set, curation never moves an example into or out of the test split.
ALTER TABLE datasets ADD COLUMN test_frozen INTEGER NOT NULL DEFAULT 0;

-- Per-version curation state, part of the snapshot. tags and flags are '|'-delimited lists ('|a|b|', '' when none) so
-- a filter is one instr(); deleted_op marks a draft row deleted by an undoable operation (commit removes such rows).
ALTER TABLE version_examples ADD COLUMN split TEXT CHECK (split IN ('train', 'validation', 'test'));
ALTER TABLE version_examples ADD COLUMN tags TEXT NOT NULL DEFAULT '';
ALTER TABLE version_examples ADD COLUMN flags TEXT NOT NULL DEFAULT '';
ALTER TABLE version_examples ADD COLUMN deleted_op INTEGER;

-- The undo stack of a draft: one row per operation, with the rows it changed as they were before (draft_undo).
CREATE TABLE draft_ops (
  id         INTEGER PRIMARY KEY,
  version_id INTEGER NOT NULL REFERENCES dataset_versions(id) ON DELETE CASCADE,
  label      TEXT NOT NULL,
  affected   INTEGER NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX draft_ops_version ON draft_ops(version_id);

CREATE TABLE draft_undo (
  op_id      INTEGER NOT NULL REFERENCES draft_ops(id) ON DELETE CASCADE,
  position   INTEGER NOT NULL,
  example_id INTEGER NOT NULL,
  split      TEXT,
  tags       TEXT NOT NULL,
  flags      TEXT NOT NULL,
  PRIMARY KEY (op_id, position)
) STRICT, WITHOUT ROWID;

-- Near-duplicate clusters found in a version (the latest detection replaces earlier ones), for review and filtering.
CREATE TABLE dup_clusters (
  version_id INTEGER NOT NULL REFERENCES dataset_versions(id) ON DELETE CASCADE,
  position   INTEGER NOT NULL,
  cluster    INTEGER NOT NULL, -- the smallest position in the cluster
  similarity REAL NOT NULL,
  PRIMARY KEY (version_id, position)
) STRICT, WITHOUT ROWID;
CREATE INDEX dup_clusters_cluster ON dup_clusters(version_id, cluster);

-- Token counts per example and tokenizer (a model's file hash), computed once, reused by every version.
CREATE TABLE token_counts (
  tokenizer  TEXT NOT NULL,
  example_id INTEGER NOT NULL REFERENCES examples(id) ON DELETE CASCADE,
  tokens     INTEGER NOT NULL,
  PRIMARY KEY (tokenizer, example_id)
) STRICT, WITHOUT ROWID;
`,
};
