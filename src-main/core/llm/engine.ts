import fs from 'node:fs';
import path from 'node:path';
import type { Llama, LlamaContext, LlamaModel } from 'node-llama-cpp';
import { AppError, isAppError } from '../../../src-shared/errors.js';
import type { EngineBinary, EngineInfo } from '../../../src-shared/contract/system.js';
import { Mutex } from './lock.js';
import { EngineClient } from '../native/client.js';
import { loadedLibraries } from '../native/bins.js';
import type { LibraryFiles } from '../native/ffi.js';
import { llamaCpp, loadLlamaCpp } from './llama-cpp.js';
import { cpuCores, defaultThreadsFor } from './threads.js';

export interface EngineOptions {
  /** 'auto' lets node-llama-cpp pick CUDA/Vulkan/Metal when present; false forces the CPU (tests). */
  gpu?: 'auto' | false;
  /** Memory kept free for the rest of the system when deciding whether a model fits (bytes). Default 512 MB. */
  ramPaddingBytes?: number;
}

export interface LoadModelOptions {
  /** Load progress, 0..1. Called with 1 at once when the model is already loaded. */
  onProgress?(progress: number): void;
  signal?: AbortSignal;
}

export interface ContextOptions {
  /** The user's setting or a caller's choice; null/undefined = defaultThreads(). */
  threads?: number | null;
  /** Tokens per sequence. Default: the model's training context, at most 4096. */
  contextSize?: number;
  sequences?: number;
  /** LoRA adapters applied to this context (the model's weights stay shared and untouched). */
  lora?: { filePath: string; scale: number }[];
}

const GB = 1024 ** 3;
const gb = (bytes: number) => (bytes / GB).toFixed(bytes < 10 * GB ? 1 : 0);

/**
 * The one node-llama-cpp `Llama` of the process, and the models loaded on it (each file once, shared by every
 * caller). Loads are serialized: two callers asking for the same file get the same model; two different files are
 * loaded one after the other so the memory check of the second sees the first.
 */
export class LlmEngine {
  private llamaPromise: Promise<Llama> | null = null;
  private llamaInstance: Llama | null = null;
  private readonly models = new Map<string, LlamaModel>();
  private readonly lock = new Mutex();
  private disposed = false;
  private modelLoads = 0;
  private nativeClient: EngineClient | null = null;

  constructor(private readonly options: EngineOptions = {}) {}

  /** The `Llama`, created on first use (finding a GPU backend can take a moment). */
  llama(): Promise<Llama> {
    this.assertAlive();
    this.llamaPromise ??= loadLlamaCpp()
      .then(({ getLlama, LlamaLogLevel }) =>
        getLlama({
          gpu: this.options.gpu ?? 'auto',
          // We pass explicit threads to every context; node-llama-cpp's own cap (max(4, cores) on CPU) would only get
          // in the way of a user who asks for more.
          maxThreads: 0,
          logLevel: LlamaLogLevel.error,
        }),
      )
      .then((llama) => {
        this.llamaInstance = llama;
        return llama;
      });
    return this.llamaPromise;
  }

  /**
   * The native libraries node-llama-cpp loaded (its binary's folder: CPU variant, CUDA, Vulkan or Metal), for the
   * native engine host to open the very same ones. Loads node-llama-cpp first.
   */
  async nativeLibraries(): Promise<LibraryFiles> {
    await this.llama();
    return loadedLibraries();
  }

  /** The client of the native engine host (native/client.ts): one per engine, its child started on first use. */
  native(): EngineClient {
    this.assertAlive();
    return (this.nativeClient ??= new EngineClient(() => this.nativeLibraries()));
  }

  /** Loads `file` once; later calls (and concurrent ones) get the same model. */
  loadModel(file: string, options: LoadModelOptions = {}): Promise<LlamaModel> {
    this.assertAlive();
    const key = path.resolve(file);
    return this.lock.run(async () => {
      this.assertAlive();
      const cached = this.models.get(key);
      if (cached && !cached.disposed) {
        options.onProgress?.(1);
        return cached;
      }
      const model = await this.loadUncached(key, options);
      this.modelLoads++;
      this.models.set(key, model);
      return model;
    });
  }

  /** A model's tokenizer alone (vocabulary only, no weights): cheap to load, enough to count tokens. */
  loadTokenizer(file: string, signal?: AbortSignal): Promise<LlamaModel> {
    this.assertAlive();
    const key = `vocab:${path.resolve(file)}`;
    return this.lock.run(async () => {
      const cached = this.models.get(key);
      if (cached && !cached.disposed) return cached;
      const name = path.basename(file);
      if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) throw new AppError('file_missing', `${name}: there is no file at ${file}`);
      try {
        const model = await (await this.llama()).loadModel({ modelPath: file, vocabOnly: true, loadSignal: signal });
        this.models.set(key, model);
        return model;
      } catch (e) {
        if (signal?.aborted) throw new AppError('cancelled', `loading ${name}'s tokenizer was cancelled`);
        throw new AppError('engine_error', `${name}'s tokenizer could not be loaded: ${messageOf(e)}`);
      }
    });
  }

  /** A context on a loaded model with the resolved thread count; memory failures become `out_of_memory`. */
  async createContext(model: LlamaModel, options: ContextOptions = {}): Promise<LlamaContext> {
    this.assertAlive();
    const name = path.basename(model.filename ?? 'model');
    const train = model.trainContextSize;
    const contextSize = options.contextSize ?? Math.min(train > 0 ? train : 4096, 4096);
    try {
      return await model.createContext({
        contextSize,
        sequences: options.sequences ?? 1,
        threads: this.resolveThreads(options.threads),
        ...(options.lora?.length ? { lora: { adapters: options.lora.map((a) => ({ filePath: a.filePath, scale: a.scale })) } } : {}),
      });
    } catch (e) {
      if (e instanceof llamaCpp().InsufficientMemoryError) {
        throw new AppError('out_of_memory', `${name} cannot get a ${contextSize}-token context: ${e.message}`);
      }
      throw new AppError('engine_error', `${name} could not create a context: ${messageOf(e)}`);
    }
  }

  /** The user's value when given, else the measured default. */
  resolveThreads(threads: number | null | undefined): number {
    return threads != null && threads > 0 ? Math.floor(threads) : this.defaultThreads();
  }

  /** Threads used when the setting is "auto"; see threads.ts for the measurements behind it. */
  defaultThreads(): number {
    const llama = this.llamaInstance;
    const cores = cpuCores();
    return defaultThreadsFor({
      cpuCores: cores,
      mathCores: llama?.cpuMathCores ?? cores,
      gpu: llama !== null && llama.gpu !== false,
      openMp: llama !== null && builtWithOpenMp(llama),
    });
  }

  /**
   * Threads for the native path (native/): the user's setting when given, else the default with a persistent ggml
   * threadpool, which the engine host attaches to every context (threads.ts: the physical cores but one; all of them
   * on a local OpenMP build).
   */
  async resolveNativeThreads(threads: number | null | undefined): Promise<number> {
    if (threads != null && threads > 0) return Math.floor(threads);
    const llama = await this.llama();
    const cores = cpuCores();
    return defaultThreadsFor({
      cpuCores: cores,
      mathCores: llama.cpuMathCores,
      gpu: llama.gpu !== false,
      // the same libraries: with OpenMP ggml keeps its own sleeping workers (threads.ts)
      openMp: builtWithOpenMp(llama),
      persistentThreads: true,
    });
  }

  /**
   * Checks a model file before the native engine host loads it: it exists, is a file, and fits in memory (the same
   * check as loadModel's). The host loads it itself (and keeps it loaded).
   */
  async checkModelFile(file: string, signal?: AbortSignal): Promise<void> {
    const name = path.basename(file);
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (!stat) throw new AppError('file_missing', `${name} could not be loaded: there is no file at ${file}`);
    if (!stat.isFile()) throw new AppError('not_a_file', `${name} could not be loaded: ${file} is a directory, not a model file`);
    const llama = await this.llama();
    try {
      await this.checkMemory(llama, file, signal);
    } catch (e) {
      if (signal?.aborted) throw new AppError('cancelled', `loading ${name} was cancelled`);
      if (isAppError(e)) throw e;
      throw new AppError('engine_error', `${name} could not be read: ${messageOf(e)}`);
    }
  }

  info(): EngineInfo {
    const llama = this.llamaInstance;
    return {
      gpu: llama === null ? null : llama.gpu === false ? 'cpu' : llama.gpu,
      defaultThreads: this.defaultThreads(),
      cpuCores: cpuCores(),
      modelLoads: this.modelLoads,
      binary: llama === null ? null : this.binary(llama),
    };
  }

  private binaryInfo: EngineBinary | null = null;
  /** Which llama.cpp build node-llama-cpp loaded (read once: the process keeps it). */
  private binary(llama: Llama): EngineBinary | null {
    if (this.binaryInfo) return this.binaryInfo;
    try {
      const libs = loadedLibraries();
      this.binaryInfo = {
        origin: llama.buildType === 'localBuild' ? 'local-build' : 'prebuilt',
        folder: path.dirname(libs.llama),
        backends: libs.backends.map((b) => path.basename(b)),
        release: llama.llamaCppRelease.release,
        features: llama.systemInfo.trim(),
      };
    } catch {
      return null;
    }
    return this.binaryInfo;
  }

  /** Disposes every loaded model (and with them their contexts). The `Llama` stays. */
  unloadAll(): Promise<void> {
    return this.lock.run(async () => {
      const models = [...this.models.values()];
      this.models.clear();
      await Promise.all(models.map((m) => m.dispose()));
    });
  }

  /** Frees everything; every later call throws. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    await this.unloadAll();
    this.disposed = true;
    await this.nativeClient?.dispose();
    this.nativeClient = null;
    const llama = this.llamaPromise ? await this.llamaPromise.catch(() => null) : null;
    await llama?.dispose();
    this.llamaInstance = null;
    this.llamaPromise = null;
  }

  private async loadUncached(file: string, options: LoadModelOptions): Promise<LlamaModel> {
    const name = path.basename(file);
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (!stat) throw new AppError('file_missing', `${name} could not be loaded: there is no file at ${file}`);
    if (!stat.isFile()) throw new AppError('not_a_file', `${name} could not be loaded: ${file} is a directory, not a model file`);
    const llama = await this.llama();
    try {
      await this.checkMemory(llama, file, options.signal);
      return await llama.loadModel({
        modelPath: file,
        onLoadProgress: options.onProgress,
        loadSignal: options.signal,
      });
    } catch (e) {
      if (options.signal?.aborted) throw new AppError('cancelled', `loading ${name} was cancelled`);
      if (isAppError(e)) throw e;
      if (e instanceof llamaCpp().InsufficientMemoryError) throw new AppError('out_of_memory', `${name} does not fit in memory: ${e.message}`);
      throw new AppError('engine_error', `${name} could not be loaded: ${messageOf(e)}`);
    }
  }

  /**
   * On the CPU node-llama-cpp maps the file and checks nothing: a model larger than the free memory "loads" and then
   * pages from disk at a crawl, or gets the process killed. Refuse it up front with the figures.
   */
  private async checkMemory(llama: Llama, file: string, signal: AbortSignal | undefined): Promise<void> {
    const { readGgufFileInfo, GgufInsights } = llamaCpp();
    const info = await readGgufFileInfo(file, { signal, logWarnings: false });
    const insights = await GgufInsights.from(info, llama);
    const needed = insights.modelSize;
    const ram = await llama.getRamState();
    const swap = await llama.getSwapState();
    const swapFree = Number.isFinite(swap.allocated) ? Math.max(0, swap.allocated - swap.used) : 0;
    const free = Math.max(0, ram.free + swapFree - this.ramPadding());
    const onGpu = llama.gpu !== false;
    // With a GPU the layers that fit go to VRAM, and node-llama-cpp's own checks (InsufficientMemoryError) apply.
    if (!onGpu && needed > free) {
      throw new AppError(
        'out_of_memory',
        `${path.basename(file)} needs about ${gb(needed)} GB of memory but only ${gb(free)} GB are free ` +
          `(of ${gb(ram.total)} GB); close other programs or pick a smaller quantization`,
      );
    }
  }

  private ramPadding(): number {
    return this.options.ramPaddingBytes ?? 512 * 1024 ** 2;
  }

  private assertAlive(): void {
    if (this.disposed) throw new AppError('internal', 'the inference engine was disposed');
  }
}

function isOff(value: string | undefined): boolean {
  return value !== undefined && ['off', 'false', '0', 'no'].includes(value.toLowerCase());
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A local source build with OpenMP (node-llama-cpp's prebuilt binaries have it off). */
function builtWithOpenMp(llama: Llama): boolean {
  return llama.buildType === 'localBuild' && !isOff(llama.cmakeOptions['GGML_OPENMP']);
}
