import { m001_init } from './001_init.js';
import { m002_datasets } from './002_datasets.js';
import { m003_curation } from './003_curation.js';
import { m004_distill } from './004_distill.js';
import { m005_judge_secrets } from './005_judge_secrets.js';
import { m006_adapters } from './006_adapters.js';
import { m007_playground_conversations } from './007_playground_conversations.js';
import { m008_example_tools } from './008_example_tools.js';
import { m009_run_files } from './009_run_files.js';
import { m010_distill_tool_calls } from './010_distill_tool_calls.js';
import { m011_job_kinds } from './011_job_kinds.js';
import { m012_evaluate } from './012_evaluate.js';

/**
 * Numbered, forward-only migrations. Kept as code (not .sql files) so that every host — the electron-vite bundle, tsx, vitest —
 * carries them without copying assets; migration N sets `PRAGMA user_version = N`. Never edit a released one: add the next.
 */
export interface Migration {
  name: string;
  sql: string;
}
export const MIGRATIONS: readonly Migration[] = [
  m001_init,
  m002_datasets,
  m003_curation,
  m004_distill,
  m005_judge_secrets,
  m006_adapters,
  m007_playground_conversations,
  m008_example_tools,
  m009_run_files,
  m010_distill_tool_calls,
  m011_job_kinds,
  m012_evaluate,
];
