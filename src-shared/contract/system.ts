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
  /** The llama.cpp binary node-llama-cpp loaded; null until the engine was started. */
  binary: EngineBinary | null;
}

export interface EngineBinary {
  /** node-llama-cpp's prebuilt (generic CPU variants, no OpenMP) or a build made on this machine. */
  origin: 'prebuilt' | 'local-build';
  /** The folder of its libraries. */
  folder: string;
  /** The ggml backend libraries it loaded (e.g. libggml-cpu-haswell.so for the CPU variant picked). */
  backends: string[];
  /** llama.cpp's release tag. */
  release: string;
  /** llama.cpp's system info line (SIMD features, OPENMP = 1 when built with OpenMP). */
  features: string;
}

/** Whether llama.cpp can be built for this machine from the source node-llama-cpp ships, and what is there. */
export interface EngineBuildState {
  /** The node-llama-cpp package the app uses (the build goes into its llama/localBuilds folder). */
  packageDir: string;
  /** Builds made on this machine (node-llama-cpp uses one over its prebuilt binaries from the next start). */
  localBuilds: string[];
  cmake: string | null;
  compiler: string | null;
  /** null: a build can start; else why not (one line). */
  cannotBuild: string | null;
  /** A build finished since this process loaded the engine: restart the app to use it. */
  restartNeeded: boolean;
  /** The build the engine runs on now (asking starts the engine). */
  binary: EngineBinary | null;
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
  /**
   * The llama.cpp build the engine runs on (starting the engine if needed), whether one can be built for this machine
   * (toolchain, a writable package folder) and the builds there.
   */
  'system.engineBuildState': op<EngineBuildState>()(z.strictObject({})),
  /**
   * Starts a run that builds llama.cpp for this machine from the source node-llama-cpp ships (no download): native
   * CPU instructions and OpenMP, and CUDA/Vulkan when their SDK is installed ('auto'). Used from the next start.
   */
  'system.engineBuild': op<{ runId: number }>()(z.strictObject({ gpu: z.enum(['auto', 'cpu']).default('auto') })),
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
  /** llama.cpp built for this machine by node-llama-cpp's `source download` (offline, from its bundled source). */
  'system.engineBuild': job({
    config: z.strictObject({ gpu: z.enum(['auto', 'cpu']), packageDir: z.string().min(1) }),
    metrics: { seconds: 's', steps: 'steps' },
  }),
};
