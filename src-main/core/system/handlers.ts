// The system room's operations (src-shared/contract/system.ts): what this process runs on, and the settings.
import os from 'node:os';
import type { systemOps, SystemInfo } from '../../../src-shared/contract/index.js';
import { APP_VERSION } from '../../../src-shared/version.js';
import type { Handlers } from '../dispatch.js';
import type { LlmEngine } from '../llm/engine.js';
import type { SettingsService } from '../settings/service.js';

export function systemHandlers(deps: {
  dataDir: string;
  databasePath: string;
  host: SystemInfo['host'];
  engine: LlmEngine;
  settings: SettingsService;
}): Handlers<typeof systemOps> {
  const { dataDir, databasePath, host, engine, settings } = deps;
  return {
    'system.info': () => ({
      version: APP_VERSION,
      dataDir,
      databasePath,
      host,
      engine: engine.info(),
      totalMemoryBytes: os.totalmem(),
    }),
    'settings.get': () => settings.get(),
    'settings.update': (patch) => settings.update(patch),
  };
}
