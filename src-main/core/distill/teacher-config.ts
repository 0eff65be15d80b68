import type { OpParsed } from '../../../src-shared/contract/index.js';
import type { FleetEndpointConfig, HttpTeacherConfig, TeacherConfig } from '../../../src-shared/contract/distill.js';
import { AppError } from '../../../src-shared/errors.js';
import type { ModelsService } from '../models/service.js';
import type { SecretsStore } from '../secrets/store.js';

type ServerInput = { baseUrl: string; model: string; apiKeyEnv?: string | undefined; apiKeySecret?: string | undefined; timeoutMs: number; maxRetries: number };
type FleetInput = { endpoints: (ServerInput & { concurrency: number })[] };

/**
 * A teacher, judge or server variant as a run's config holds it: resolved, with where its API key is, never the key.
 * A key that is not there (environment variable unset, no such saved secret) is refused before the run starts.
 */
export function teacherConfig(
  models: ModelsService,
  secrets: SecretsStore,
  t: OpParsed<'distill.start'>['teacher'] | ServerInput | FleetInput,
  field: string,
): TeacherConfig {
  if ('modelId' in t) return { kind: 'local', modelId: t.modelId, ...models.resolveForEngine(t.modelId) };
  if ('endpoints' in t) return fleetConfig(secrets, t, field);
  return serverConfig(secrets, t, field);
}

function serverConfig(secrets: SecretsStore, t: ServerInput, field: string): HttpTeacherConfig {
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

/**
 * A fleet: each endpoint resolved like a server, named by its host (host and path when two share a host) — the key of
 * its figures (`endpoint_tps:<name>`…). The fleet is named by its model(s) and the number of endpoints.
 */
function fleetConfig(secrets: SecretsStore, t: FleetInput, field: string): TeacherConfig {
  const hosts = t.endpoints.map((e) => new URL(e.baseUrl).host);
  const endpoints: FleetEndpointConfig[] = t.endpoints.map((e, i) => {
    const { kind: _, ...server } = serverConfig(secrets, e, `${field}.endpoints.${i}`);
    const url = new URL(e.baseUrl);
    const shared = hosts.filter((h) => h === url.host).length > 1;
    const name = shared ? `${url.host}${url.pathname.replace(/\/+$/, '')}` : url.host;
    return { ...server, name, concurrency: e.concurrency };
  });
  const names = new Set(endpoints.map((e) => e.name));
  if (names.size < endpoints.length) throw new AppError('invalid_input', 'two endpoints of the fleet have the same URL', `${field}.endpoints`);
  const models = [...new Set(t.endpoints.map((e) => e.model))];
  return { kind: 'fleet', name: `${models.join(' / ')} on a fleet of ${endpoints.length}`, endpoints };
}

/** Requests a fleet takes at once: its endpoints' concurrency added up (at most 64, a run's most workers). */
export function fleetCapacity(endpoints: { concurrency: number }[]): number {
  return Math.min(
    64,
    endpoints.reduce((s, e) => s + e.concurrency, 0),
  );
}
