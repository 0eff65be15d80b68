export const m012_evaluate = {
  name: '012_evaluate',
  sql: /* sql */ `
-- An evaluation run's answers: (variant, example position), each committed with its metric values as it completes.
-- confidence figures come from the answer's own token log-probabilities (routing); logprobs holds a server teacher's
-- top-k per token (soft labels for divergence), JSON.
CREATE TABLE eval_answers (
  run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  variant      INTEGER NOT NULL,
  position     INTEGER NOT NULL,
  text         TEXT,
  error        TEXT,
  tokens       INTEGER,
  prompt_tokens INTEGER,
  ms           INTEGER,
  ttft_ms      REAL,
  tps          REAL,
  mean_logprob REAL,
  min_prob     REAL,
  finish       TEXT,
  logprobs     TEXT,
  PRIMARY KEY (run_id, variant, position)
) STRICT, WITHOUT ROWID;

-- One metric value of one answer (against the reference or the teacher's answer); the judge's reason beside it.
CREATE TABLE eval_scores (
  run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  variant  INTEGER NOT NULL,
  position INTEGER NOT NULL,
  metric   TEXT NOT NULL,
  value    REAL NOT NULL,
  note     TEXT,
  PRIMARY KEY (run_id, variant, position, metric)
) STRICT, WITHOUT ROWID;

-- Teacher-forced divergence of a student's distribution from the teacher's, on the teacher's answer.
CREATE TABLE eval_divergence (
  run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  variant  INTEGER NOT NULL,
  position INTEGER NOT NULL,
  tokens   INTEGER NOT NULL,
  kld      REAL NOT NULL,
  max_kld  REAL NOT NULL,
  top1     REAL NOT NULL,
  nll      REAL NOT NULL,
  method   TEXT NOT NULL CHECK (method IN ('full','topk')),
  PRIMARY KEY (run_id, variant, position)
) STRICT, WITHOUT ROWID;

-- A variant's systems figures measured in the run (JSON: SystemsRow's measured fields).
CREATE TABLE eval_systems (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  variant INTEGER NOT NULL,
  figures TEXT NOT NULL,
  PRIMARY KEY (run_id, variant)
) STRICT, WITHOUT ROWID;

-- Examples of an evaluation split whose n-grams were found in training data.
CREATE TABLE eval_contamination (
  run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  matched  INTEGER NOT NULL,
  total    INTEGER NOT NULL,
  PRIMARY KEY (run_id, position)
) STRICT, WITHOUT ROWID;
`,
};
