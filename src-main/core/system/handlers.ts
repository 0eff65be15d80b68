// The system room's operations (src-shared/contract/system.ts): what this process runs on, and the settings.
import os from 'node:os';
import type { systemOps, SystemInfo } from '../../../src-shared/contract/index.js';
import { APP_VERSION } from '../../../src-shared/version.js';
import type { Handlers } from '../dispatch.js';
import type { LlmEngine } from '../llm/engine.js';
import type { SettingsService } from '../settings/service.js';
import type { JobRunner } from '../jobs/runner.js';
import { engineBuildState } from './engine-build.js';
import { AppError } from '../../../src-shared/errors.js';

export function systemHandlers(deps: {
  dataDir: string;
  databasePath: string;
  host: SystemInfo['host'];
  engine: LlmEngine;
  settings: SettingsService;
  runner: JobRunner;
  /** The node-llama-cpp package an engine build goes into; default: the one this process loads. */
  engineBuild: { packageDir: () => string; built: () => boolean };
}): Handlers<typeof systemOps> {
  const { dataDir, databasePath, host, engine, settings, runner, engineBuild } = deps;
  const state = () => ({ ...engineBuildState(engineBuild.packageDir()), restartNeeded: engineBuild.built(), binary: engine.info().binary });
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
    'system.engineBuildState': async () => {
      await engine.llama().catch(() => null);
      return state();
    },
    'system.engineBuild': ({ gpu }) => {
      const s = state();
      if (s.cannotBuild) throw new AppError('invalid_input', `llama.cpp cannot be built here: ${s.cannotBuild}`, 'gpu');
      const running = (['running', 'queued'] as const).some((status) => runner.store.list({ kind: 'system.engineBuild', status, limit: 1 }).length > 0);
      if (running) throw new AppError('conflict', 'an engine build is already running', 'gpu');
      return { runId: runner.submit('system.engineBuild', { gpu, packageDir: s.packageDir }).id };
    },
  };
}
