export const m005_judge_secrets = {
  name: '005_judge_secrets',
  sql: /* sql */ `
-- LLM-as-judge: the judge's score (on its rubric's scale) and its one-line reason; NULL when not judged.
ALTER TABLE distill_answers ADD COLUMN judge_score REAL;
ALTER TABLE distill_answers ADD COLUMN judge_reason TEXT;
-- Where an included answer sits in the output dataset (its example position there), so it can be taken out again.
ALTER TABLE distill_answers ADD COLUMN out_position INTEGER;

-- Named secrets (API keys), encrypted by the host before they reach the database: never plain text.
CREATE TABLE secrets (
  name       TEXT PRIMARY KEY,
  backend    TEXT NOT NULL, -- what encrypted it (Electron safeStorage, the OS keyring's key, a key file)
  ciphertext BLOB NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
`,
};
