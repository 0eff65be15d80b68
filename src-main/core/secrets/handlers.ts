// The secrets room's operations (src-shared/contract/secrets.ts): saved API keys, never returned in plain text.
import type { secretsOps } from '../../../src-shared/contract/index.js';
import type { Handlers } from '../dispatch.js';
import type { SecretsStore } from './store.js';

export function secretsHandlers(deps: { secrets: SecretsStore }): Handlers<typeof secretsOps> {
  const { secrets } = deps;
  return {
    'secrets.list': () => ({ backend: secrets.backend, secrets: secrets.list() }),
    'secrets.set': ({ name, value }) => secrets.set(name, value),
    'secrets.delete': ({ name }) => ({ deleted: secrets.delete(name) }),
  };
}
