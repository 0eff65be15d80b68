export const m011_job_kinds = {
  name: '011_job_kinds',
  sql: /* sql */ `
-- Every job kind is named room.kind (issue 11): the three older names of runs already stored take theirs.
UPDATE runs SET kind = 'distill.generate' WHERE kind = 'distill';
UPDATE runs SET kind = 'adapters.perplexity' WHERE kind = 'perplexity';
UPDATE runs SET kind = 'system.sample' WHERE kind = 'sample.prepare';
`,
};
