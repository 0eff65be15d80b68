import type { OpParsed } from '../../../src-shared/contract/index.js';
import type { TeacherConfig } from '../../../src-shared/contract/distill.js';
import { AppError } from '../../../src-shared/errors.js';
import type { ModelsService } from '../models/service.js';
import type { SecretsStore } from '../secrets/store.js';

type ServerInput = { baseUrl: string; model: string; apiKeyEnv?: string | undefined; apiKeySecret?: string | undefined; timeoutMs: number; maxRetries: number };

/**
 * A teacher, judge or server variant as a run's config holds it: resolved, with where its API key is, never the key.
 * A key that is not there (environment variable unset, no such saved secret) is refused before the run starts.
 */
export function teacherConfig(
  models: ModelsService,
  secrets: SecretsStore,
  t: OpParsed<'distill.start'>['teacher'] | ServerInput,
  field: string,
): TeacherConfig {
  if ('modelId' in t) return { kind: 'local', modelId: t.modelId, ...models.resolveForEngine(t.modelId) };
  if (t.apiKeyEnv && !process.env[t.apiKeyEnv]) {
    throw new AppError('invalid_input', `the environment variable ${t.apiKeyEnv} (the API key) is not set in the app's environment`, `${field}.apiKeyEnv`);
  }
  if (t.apiKeySecret && !secrets.has(t.apiKeySecret)) {
    throw new AppError('invalid_input', `there is no saved API key named ${t.apiKeySecret} (save it first: secrets.set)`, `${field}.apiKeySecret`);
  }
  return {
    kind: 'http',
    baseUrl: t.baseUrl,
    model: t.model,
    name: `${t.model} at ${new URL(t.baseUrl).host}`,
    ...(t.apiKeyEnv ? { apiKeyEnv: t.apiKeyEnv } : {}),
    ...(t.apiKeySecret ? { apiKeySecret: t.apiKeySecret } : {}),
    timeoutMs: t.timeoutMs,
    maxRetries: t.maxRetries,
  };
}
