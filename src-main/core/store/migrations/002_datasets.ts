export const m002_datasets = {
  name: '002_datasets',
  sql: /* sql */ `
CREATE TABLE datasets (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  created_at  TEXT NOT NULL,
  -- 'importing' while its first version is being written (hidden from lists); 'ready' after
  state       TEXT NOT NULL DEFAULT 'ready' CHECK (state IN ('importing', 'ready'))
) STRICT;

-- Immutable snapshots: a version is its list of examples (version_examples); curation makes a new version.
CREATE TABLE dataset_versions (
  id            INTEGER PRIMARY KEY,
  dataset_id    INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  number        INTEGER NOT NULL,
  message       TEXT NOT NULL,
  parent_id     INTEGER REFERENCES dataset_versions(id),
  run_id        INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  example_count INTEGER NOT NULL DEFAULT 0,
  created_at    TEXT NOT NULL,
  UNIQUE (dataset_id, number)
) STRICT;

-- Example contents never change in place (an edit is a new row), so versions can share them.
CREATE TABLE examples (
  id          INTEGER PRIMARY KEY,
  messages    TEXT NOT NULL, -- JSON [{role, content}]
  reference   TEXT,
  source_line INTEGER -- the file is the version's (dataset_versions.message, the import run's lineage)
) STRICT;

CREATE TABLE version_examples (
  version_id INTEGER NOT NULL REFERENCES dataset_versions(id) ON DELETE CASCADE,
  position   INTEGER NOT NULL, -- for imports: the source line, so a resumed import cannot insert a line twice
  example_id INTEGER NOT NULL REFERENCES examples(id),
  PRIMARY KEY (version_id, position)
) STRICT, WITHOUT ROWID;
CREATE INDEX version_examples_example ON version_examples(example_id);

-- Full-text index of every example's message contents (rowid = examples.id). Contentless (the text lives in examples)
-- and detail=none (no positions: searches are all-words, never phrases), the cheapest index to build at import.
CREATE VIRTUAL TABLE examples_fts USING fts5(text, content = '', contentless_delete = 1, detail = none, tokenize = 'unicode61 remove_diacritics 2');

-- Lines an import skipped, with the reason: the import report, downloadable.
CREATE TABLE import_rejects (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  line    INTEGER NOT NULL,
  reason  TEXT NOT NULL,
  excerpt TEXT NOT NULL,
  PRIMARY KEY (run_id, line)
) STRICT;
`,
};
