export const m006_adapters = {
  name: '006_adapters',
  sql: /* sql */ `
-- LoRA adapters of the library: the GGUF file the engine loads, where it came from (a GGUF file, or a PEFT folder the
-- app converted into the data folder), what its header says, and the base model it was last checked against.
CREATE TABLE adapters (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  path          TEXT NOT NULL UNIQUE,
  source_format TEXT NOT NULL CHECK (source_format IN ('gguf','peft')),
  source_path   TEXT NOT NULL,
  owned         INTEGER NOT NULL, -- 1 when the app wrote the file (converted): removing the entry deletes it
  arch          TEXT NOT NULL,
  rank          INTEGER NOT NULL,
  alpha         REAL NOT NULL,
  targets       TEXT NOT NULL,    -- JSON array of llama.cpp names (attn_q, ffn_up, …)
  layers        INTEGER NOT NULL,
  tensor_count  INTEGER NOT NULL,
  size_bytes    INTEGER NOT NULL,
  base_model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
  base_checked_at TEXT,
  note          TEXT NOT NULL DEFAULT '',
  added_at      TEXT NOT NULL
) STRICT;

-- A comparison run's answers: prompt × variant, each committed as it completes.
CREATE TABLE compare_answers (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  prompt  INTEGER NOT NULL,
  variant INTEGER NOT NULL,
  text    TEXT NOT NULL,
  tokens  INTEGER NOT NULL,
  tps     REAL,
  ms      INTEGER NOT NULL,
  PRIMARY KEY (run_id, prompt, variant)
) STRICT, WITHOUT ROWID;

-- The user's verdict per prompt of a comparison: the better variant's index, or -1 for a tie.
CREATE TABLE compare_votes (
  run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  prompt   INTEGER NOT NULL,
  winner   INTEGER NOT NULL,
  voted_at TEXT NOT NULL,
  PRIMARY KEY (run_id, prompt)
) STRICT, WITHOUT ROWID;
`,
};
