export const m004_distill = {
  name: '004_distill',
  sql: /* sql */ `
-- A cancel asked by another process (the CLI beside the app): the runner that owns the run polls for it.
ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;

-- A distillation run's answers, each committed as it completes (the key makes a resumed run skip it). A filtered-out
-- answer is kept with its reason (rejected) and can be re-included by hand (included).
CREATE TABLE distill_answers (
  run_id            INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  position          INTEGER NOT NULL, -- the source example's position in the source version
  sample            INTEGER NOT NULL, -- 0 .. samples-1
  prompt            TEXT NOT NULL,    -- JSON: the messages the teacher was sent (few-shot examples excluded)
  output            TEXT NOT NULL,    -- JSON: the training example's messages (the prompt as chosen + the answer)
  answer            TEXT NOT NULL,
  finish_reason     TEXT,
  prompt_tokens     INTEGER,
  completion_tokens INTEGER,
  ms                INTEGER NOT NULL,
  rejected          TEXT,             -- why a filter rejected it; NULL when it passed
  included          INTEGER NOT NULL, -- goes into the output dataset (1) or not (0)
  created_at        TEXT NOT NULL,
  PRIMARY KEY (run_id, position, sample)
) STRICT, WITHOUT ROWID;

-- Soft labels: the teacher's top-k log-probabilities for every generated token of an answer, as deflated JSON
-- ([[token, logprob, [[alt, logprob], ...]], ...]): about a tenth of its plain size.
CREATE TABLE distill_logprobs (
  run_id   INTEGER NOT NULL,
  position INTEGER NOT NULL,
  sample   INTEGER NOT NULL,
  k        INTEGER NOT NULL,
  data     BLOB NOT NULL,
  PRIMARY KEY (run_id, position, sample),
  FOREIGN KEY (run_id, position, sample) REFERENCES distill_answers(run_id, position, sample) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
`,
};
