import fs from 'node:fs';
import path from 'node:path';
import { openDatabase, type Db } from './store/db.js';
import { EventBus } from './events.js';
import { JobRunner } from './jobs/runner.js';
import { ModelsService } from './models/service.js';
import { scanJob } from './models/jobs/scan.js';
import { benchmarkJob } from './models/jobs/benchmark.js';
import { SAMPLE_DATASET_FILE, sampleJob } from './system/jobs/sample.js';
import { engineBuildJob } from './system/jobs/engine-build.js';
import { nodeLlamaCppDir } from './system/engine-build.js';
import { DatasetsService } from './datasets/service.js';
import { importJob } from './datasets/jobs/import.js';
import { exportJob } from './datasets/jobs/export.js';
import { dedupeJob } from './datasets/jobs/dedupe.js';
import { scanJob as datasetScanJob } from './datasets/jobs/scan.js';
import { tokenCountJob } from './datasets/jobs/count-tokens.js';
import { DistillStore } from './distill/store.js';
import { distillJob } from './distill/jobs/generate.js';
import { DistillService } from './distill/service.js';
import { SecretsStore } from './secrets/store.js';
import { AdaptersService } from './adapters/service.js';
import { AdapterRuns } from './adapters/runs.js';
import { perplexityJob } from './adapters/jobs/perplexity.js';
import { sweepJob } from './adapters/jobs/sweep.js';
import { compareJob } from './adapters/jobs/compare.js';
import { mergeJob } from './adapters/jobs/merge.js';
import { watchJob } from './adapters/jobs/watch.js';
import { localCipher, type SecretCipher } from './secrets/cipher.js';
import { SettingsService } from './settings/service.js';
import { LlmEngine } from './llm/engine.js';
import { PlaygroundService } from './playground/service.js';
import { ConversationsStore } from './playground/conversations.js';
import { modelsHandlers } from './models/handlers.js';
import { runsHandlers } from './runs/handlers.js';
import { playgroundHandlers } from './playground/handlers.js';
import { secretsHandlers } from './secrets/handlers.js';
import { systemHandlers } from './system/handlers.js';
import { datasetsHandlers } from './datasets/handlers.js';
import { distillHandlers } from './distill/handlers.js';
import { adaptersHandlers } from './adapters/handlers.js';
import { QuantizeService } from './quantize/service.js';
import { ladderJob } from './quantize/jobs/ladder.js';
import { imatrixJob } from './quantize/jobs/imatrix.js';
import { quantizeHandlers } from './quantize/handlers.js';
import { EvaluateService } from './evaluate/service.js';
import { EvaluateStore } from './evaluate/store.js';
import { evaluateJob } from './evaluate/jobs/run.js';
import { contaminationJob } from './evaluate/jobs/contamination.js';
import { evaluateHandlers } from './evaluate/handlers.js';
import { makeKd } from './training/kd.js';
import { TrainingService } from './training/service.js';
import { trainingExportJob } from './training/jobs/export.js';
import { trainingHandlers } from './training/handlers.js';
import { kldOf, type KldInput } from './quantize/kld.js';
import type { GateFigures } from '../../src-shared/domain/quantize.js';
import { dispatch, type Handlers } from './dispatch.js';
import { DATABASE_FILE } from './paths.js';
import type { EventEnvelope } from '../../src-shared/contract/index.js';
import type { Result } from '../../src-shared/errors.js';

export interface AppOptions {
  dataDir: string;
  host: 'electron' | 'http';
  /** 'auto' lets node-llama-cpp pick CUDA/Vulkan/Metal; false forces CPU (also: env DISTILLERY_GPU=false). */
  gpu?: 'auto' | false;
  /** Runs executed at once (the rest wait queued). */
  jobConcurrency?: number;
  /**
   * Whether this process runs jobs (and marks runs left `running` as interrupted). Only the process that owns the data
   * folder does (the desktop app or `serve`); one-shot CLI commands read and write the library without it.
   */
  runJobs?: boolean;
  /**
   * Folder of the app's resources (resources/ in the repository). With it, a new data folder gets the sample
   * workspace on first start.
   */
  sampleResourcesDir?: string | null;
  /** How long a file preview (and an import's format detection) may take before it is stopped; default 20 s. */
  previewTimeoutMs?: number;
  /** Encrypts saved API keys: Electron's safeStorage in the desktop app; by default the OS keyring's key or a key file. */
  secretCipher?: SecretCipher;
  /** The node-llama-cpp package an engine build goes into (tests build into a copy); default: the one loaded. */
  nodeLlamaCppDir?: string;
  /** The environment read for DISTILLERY_GPU and DISTILLERY_NO_KEYRING; default: the process's (a CLI run in-process passes its own). */
  env?: NodeJS.ProcessEnv;
}

export interface App {
  readonly dataDir: string;
  readonly db: Db;
  readonly runner: JobRunner;
  readonly handlers: Handlers;
  /** The inference engine (node-llama-cpp, and the native engine host behind `engine.native()`). */
  readonly engine: LlmEngine;
  /** `distillery kld`: a model against a base in lockstep, in this process (no run). */
  kld(input: KldInput, opts?: Parameters<typeof kldOf>[2]): Promise<GateFigures>;
  /** Validates and runs one contract operation; never throws. */
  call(op: unknown, input: unknown): Promise<Result<unknown>>;
  subscribe(listener: (event: EventEnvelope) => void): () => void;
  close(): Promise<void>;
}

/** The composition root: builds every service from a data directory, for whichever host starts. */
export function createApp(options: AppOptions): App {
  const dataDir = path.resolve(options.dataDir);
  const databasePath = path.join(dataDir, DATABASE_FILE);
  const isNew = !fs.existsSync(databasePath);
  const db = openDatabase(databasePath);
  const bus = new EventBus();
  const settings = new SettingsService(db, bus.emit);
  const env = options.env ?? process.env;
  const engine = new LlmEngine({ gpu: options.gpu ?? (env.DISTILLERY_GPU === 'false' ? false : 'auto') });
  const models = new ModelsService(db, bus.emit);
  const runner = new JobRunner(db, bus.emit, options.jobConcurrency ?? 1);
  const userThreads = () => settings.get().inferenceThreads;
  runner.register(scanJob(models));
  runner.register(benchmarkJob(models, engine, userThreads));
  const datasets = new DatasetsService(db, runner, dataDir, { previewTimeoutMs: options.previewTimeoutMs });
  runner.register(importJob(datasets.store));
  runner.register(exportJob(datasets.store, dataDir));
  runner.register(dedupeJob(datasets.store, datasets.drafts));
  runner.register(datasetScanJob(datasets.store, datasets.drafts));
  runner.register(tokenCountJob(datasets.store, engine));
  const secrets = new SecretsStore(db, options.secretCipher ?? lazyCipher(() => localCipher(dataDir, env)));
  const distillStore = new DistillStore(db);
  runner.register(distillJob(datasets, distillStore, engine, userThreads, secrets, bus.emit));
  const distill = new DistillService(
    db,
    datasets,
    models,
    distillStore,
    runner,
    () => {
      const gpu = engine.info().gpu;
      return gpu !== null && gpu !== 'cpu';
    },
    secrets,
  );
  const adapters = new AdaptersService(db, models, dataDir, bus.emit);
  const adapterDeps = { engine, datasets, models, threads: userThreads, dataDir };
  runner.register(perplexityJob(adapterDeps));
  runner.register(sweepJob(adapterDeps));
  runner.register(compareJob(adapterDeps));
  runner.register(mergeJob(adapterDeps));
  runner.register(watchJob({ adapters, runs: runner.store }));
  const adapterRuns = new AdapterRuns(db, adapters, models, datasets, runner, dataDir);
  runner.register(ladderJob({ models, engine, threads: userThreads, dataDir, datasets }));
  runner.register(imatrixJob({ engine, datasets, threads: userThreads, dataDir }));
  const quantize = new QuantizeService(models, runner, dataDir, datasets, db);
  const evaluateStore = new EvaluateStore(db);
  runner.register(evaluateJob({ datasets, store: evaluateStore, distill: distillStore, engine, threads: userThreads, secrets }));
  runner.register(contaminationJob({ datasets, store: evaluateStore }));
  const evaluate = new EvaluateService({
    datasets,
    models,
    adapters,
    secrets,
    distill: distillStore,
    store: evaluateStore,
    runner,
    gpu: () => {
      const gpu = engine.info().gpu;
      return gpu !== null && gpu !== 'cpu';
    },
  });
  // KD soft labels from a distillation run, in the student's vocabulary (training/kd.ts)
  const kd = makeKd({ datasets, distill: distillStore, runs: runner.store, engine });
  runner.register(trainingExportJob({ datasets, dataDir, kdWriter: kd.write }));
  const training = new TrainingService({ db, runner, datasets, models, dataDir, kdCheck: kd.check });
  const playground = new PlaygroundService({
    engine,
    resolveModel: (id) => models.resolveForEngine(id),
    resolveAdapters: (modelId, attached) => adapters.resolveForEngine(modelId, attached),
    emit: bus.emit,
    threads: userThreads,
  });

  const conversations = new ConversationsStore(db);
  // an engine build finished in this process: the running engine keeps its library until a restart
  let engineBuilt = false;

  const handlers: Handlers = {
    ...systemHandlers({
      dataDir,
      databasePath,
      host: options.host,
      engine,
      settings,
      runner,
      engineBuild: { packageDir: () => options.nodeLlamaCppDir ?? nodeLlamaCppDir(), built: () => engineBuilt },
    }),
    ...modelsHandlers({ models, runner }),
    ...runsHandlers({ runs: runner.store, runner, datasets }),
    ...playgroundHandlers({ playground, conversations }),
    ...datasetsHandlers({ datasets, models }),
    ...distillHandlers({ distill }),
    ...adaptersHandlers({ adapters, adapterRuns }),
    ...secretsHandlers({ secrets }),
    ...quantizeHandlers({ quantize }),
    ...evaluateHandlers({ evaluate }),
    ...trainingHandlers({ training }),
  };

  runner.register(sampleJob(models));
  runner.register(engineBuildJob(() => (engineBuilt = true)));
  if (isNew && options.sampleResourcesDir) {
    runner.submit('system.sample', {
      folder: path.join(dataDir, 'sample'),
      vocabFile: path.join(options.sampleResourcesDir, 'vocab', 'ggml-vocab-llama-spm.gguf'),
    });
    // A small dataset to try import, search, curation and splits on (copied, so its lineage stays with the data).
    const tickets = path.join(dataDir, 'sample', SAMPLE_DATASET_FILE);
    fs.mkdirSync(path.dirname(tickets), { recursive: true });
    fs.copyFileSync(path.join(options.sampleResourcesDir, 'sample', SAMPLE_DATASET_FILE), tickets);
    void datasets.startImport(tickets, 'sample-support', {}).catch((e: unknown) => console.error(`[distillery] sample dataset: ${String(e)}`));
  }
  if (options.runJobs ?? true) runner.start();

  return {
    dataDir,
    db,
    runner,
    handlers,
    engine,
    kld: (input, opts) => kldOf({ models, adapters, datasets, engine, threads: userThreads }, input, opts),
    call: (op, input) => dispatch(handlers, op, input),
    subscribe: (listener) => bus.subscribe(listener),
    async close() {
      await playground.close();
      await runner.close();
      await engine.dispose();
      db.close();
    },
  };
}

/** A cipher made on first use: the key file or keyring is touched only when a secret is saved or read. */
function lazyCipher(make: () => SecretCipher): SecretCipher {
  let c: SecretCipher | null = null;
  const get = () => (c ??= make());
  return {
    get backend() {
      return get().backend;
    },
    encrypt: (plain) => get().encrypt(plain),
    decrypt: (data) => get().decrypt(data),
  };
}
