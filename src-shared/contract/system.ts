import { z } from 'zod';
import { op, event, job } from './define.js';

export interface EngineInfo {
  /** 'cpu', 'cuda', 'vulkan' or 'metal': what node-llama-cpp picked. null until the engine was started. */
  gpu: string | null;
  /** Threads used for inference when the setting is 'auto'. */
  defaultThreads: number;
  cpuCores: number;
  /** Model files loaded from disk since the engine started (a model already loaded is reused and not counted). */
  modelLoads: number;
}

export interface SystemInfo {
  version: string;
  dataDir: string;
  databasePath: string;
  host: 'electron' | 'http';
  engine: EngineInfo;
  totalMemoryBytes: number;
}

export interface Settings {
  /** Threads for inference; null = automatic (chosen from measurements, see README "Performance notes"). */
  inferenceThreads: number | null;
}

export const systemOps = {
  'system.info': op<SystemInfo>()(z.strictObject({})),
  'settings.get': op<Settings>()(z.strictObject({})),
  'settings.update': op<Settings>()(
    z.strictObject({
      inferenceThreads: z.number().int().min(1).max(256).nullable().optional(),
    }),
  ),
};

export const systemEvents = {
  'settings.changed': event<Settings>(),
};

export const systemJobs = {
  /** The sample workspace of a new data folder: the demo model written and added to the library. */
  'system.sample': job({ config: z.strictObject({ folder: z.string().min(1), vocabFile: z.string().min(1) }) }),
};
