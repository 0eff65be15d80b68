export const m009_run_files = {
  name: '009_run_files',
  sql: /* sql */ `
-- Temporary files a run is writing (a merge's <out>.tmp-<pid>, an export's <file>.partial): recorded before the file is
-- created and forgotten once it is renamed or removed, so that cancel, resume and start-up remove exactly the app's
-- own leftovers and never guess from a name. No foreign key: the record outlives its run, whatever happens to it.
CREATE TABLE run_temp_files (
  run_id INTEGER NOT NULL,
  path   TEXT NOT NULL,
  PRIMARY KEY (run_id, path)
) STRICT, WITHOUT ROWID;

-- Models are identified by their real path (symlinks resolved): a link to a listed file is the same model. Filled for
-- older rows at start-up (ModelsService), since SQL cannot resolve links.
ALTER TABLE models ADD COLUMN real_path TEXT;
CREATE INDEX models_real_path ON models (real_path);
`,
};
