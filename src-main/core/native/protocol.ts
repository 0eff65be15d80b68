/**
 * The engine host's protocol: one shared TypeScript union, used by the client (main side, client.ts) and the host
 * (child, engine-host.ts) over `child_process` IPC with advanced serialization (typed arrays cross as such).
 *
 * To add an operation: declare it in `EngineOps` (args, result, progress), write its handler (a file beside
 * score.ts) and register it in host-ops.ts. Handlers check their inputs before anything reaches C.
 *
 * Prompts reach the child as TOKEN ARRAYS: main tokenizes (chat templates stay with node-llama-cpp there) and the
 * child checks every id against the model's vocabulary. `tokenize` exists for texts the child may cut itself
 * (perplexity: llama-perplexity's tokenization, add_special = true, parse_special = false).
 */
import type { AppErrorShape } from '../../../src-shared/errors.js';
import type { LibraryFiles } from './ffi.js';
import type { ScoreArgs, ScoreProgress, ScoreResult } from './score.js';
import type { GenerateEvent, GenerateSummary } from './generate-op.js';
import type { NativeBatchOptions } from './generate-types.js';
import type { ImatrixArgs, ImatrixProgress, ImatrixResult } from './imatrix-op.js';
import type { SpeedArgs, SpeedResult } from './speed-op.js';
import type { ScoreSequencesArgs, ScoreSequencesProgress, ScoreSequencesResult } from './score-sequences.js';
import type { VocabularyPieces } from './vocab.js';

export interface ModelRef {
  /** Absolute path of the GGUF file. */
  path: string;
  /** Layers on the GPU; 0 (default) on the CPU, -1 all. */
  gpuLayers?: number;
}

export interface HostInfo {
  pid: number;
  /** Models loaded since the host started (a cached model is not loaded again). */
  modelLoads: number;
  /** The models kept loaded now, least recently used first. */
  loaded: string[];
  /** Persistent threadpools, by thread count. */
  threadpools: number[];
  /** Whether ggml_threadpool_new was found in the CPU backend library. */
  persistentThreads: boolean;
  libraries: LibraryFiles;
}

export interface EngineOps {
  info: { args: Record<string, never>; result: HostInfo; progress: never };
  tokenize: { args: { model: ModelRef; text: string; addSpecial: boolean; parseSpecial: boolean }; result: { tokens: Int32Array }; progress: never };
  detokenize: { args: { model: ModelRef; tokens: number[] | Int32Array; special?: boolean }; result: { text: string }; progress: never };
  /** Perplexity-style scoring of one model, or of two in lockstep (see score.ts). */
  score: { args: ScoreArgs; result: ScoreResult; progress: ScoreProgress };
  /** Teacher-forced scoring of token sequences (answers after their prompts), one model or two in lockstep (score-sequences.ts). */
  scoreSequences: { args: ScoreSequencesArgs; result: ScoreSequencesResult; progress: ScoreSequencesProgress };
  /** Every token's rendered piece and attributes (vocab.ts): mapping soft labels stored as texts back to ids. */
  vocabulary: { args: { model: ModelRef }; result: VocabularyPieces; progress: never };
  /** llama-imatrix's statistics (Σ x² of every weight matrix's inputs) of one model on a text (see imatrix-op.ts). */
  imatrix: { args: ImatrixArgs; result: ImatrixResult; progress: ImatrixProgress };
  /** Batched generation: one request per batch, its sequences fed while it runs (see generate-op.ts). */
  generate: { args: NativeBatchOptions; result: GenerateSummary; progress: GenerateEvent };
  /** Load time, prompt and generation tokens/s and peak memory of one model (speed-op.ts; a fresh host per model). */
  speed: { args: SpeedArgs; result: SpeedResult; progress: never };
  /** Creates a context of these sizes on the model and frees it: whether it fits (llama.cpp's reason when not). */
  checkContext: {
    args: { model: ModelRef; nCtx: number; nBatch: number; nSeqMax?: number; threads: number };
    result: { nCtx: number; nBatch: number; nSeqMax: number };
    progress: never;
  };
  /** Frees every loaded model. */
  unload: { args: Record<string, never>; result: { freed: number }; progress: never };
  /** For tests: calls abort() in the host (what a GGML_ASSERT does), to check that a crash is contained. */
  crash: { args: Record<string, never>; result: never; progress: never };
}
export type OpName = keyof EngineOps;

/** Main → child. */
export type ToHost =
  | { type: 'request'; id: number; op: OpName; args: unknown }
  | { type: 'cancel'; id: number }
  /** More input for a running request (a batch's new sequences): `HostContext.onFeed`. */
  | { type: 'feed'; id: number; data: unknown };

/** Child → main. */
export type FromHost =
  { type: 'result'; id: number; result: unknown } | { type: 'error'; id: number; error: AppErrorShape } | { type: 'progress'; id: number; progress: unknown };
