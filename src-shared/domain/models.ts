import { z } from 'zod';

export const MODEL_ROLES = ['teacher', 'student', 'base'] as const;
export const ModelRole = z.enum(MODEL_ROLES);
export type ModelRole = z.infer<typeof ModelRole>;

/** What the GGUF header says about a model, read without loading weights. */
export interface GgufSummary {
  ggufVersion: number;
  architecture: string;
  /** `general.name` when present. */
  name: string | null;
  /** Sum of the element counts of all tensors. */
  parameterCount: number;
  /** `general.file_type` as llama.cpp names it (F32, F16, Q8_0, Q4_K_M...), or the dominant tensor type. */
  fileType: string;
  /** Tensor count by ggml type name, e.g. { F32: 10, Q4_K: 14 }. */
  tensorTypes: Record<string, number>;
  tensorCount: number;
  contextLength: number | null;
  blockCount: number | null;
  headCount: number | null;
  headCountKv: number | null;
  embeddingLength: number | null;
  feedForwardLength: number | null;
  vocabSize: number | null;
  /** `tokenizer.ggml.model`: llama, gpt2, bert... */
  tokenizerModel: string | null;
  hasChatTemplate: boolean;
  /** `general.type` (model, adapter...) when present. */
  fileKind: string;
}

export type ModelStatus = 'ok' | 'missing' | 'changed';

export interface ModelEntry {
  id: number;
  name: string;
  path: string;
  sizeBytes: number;
  addedAt: string;
  roles: ModelRole[];
  note: string;
  summary: GgufSummary;
  /** `missing`: the file is gone; `changed`: its size or mtime differs from when it was read. */
  status: ModelStatus;
}

export interface ModelInspection {
  path: string;
  sizeBytes: number;
  summary: GgufSummary;
  /** The id if this path is already in the library. */
  existingId: number | null;
}

/** One finished benchmark of a model (a `models.benchmark` run): mean speeds over its repetitions. */
export interface BenchmarkRecord {
  runId: number;
  /** When it finished. */
  at: string;
  promptTokensPerSecond: number;
  generateTokensPerSecond: number;
  threads: number | null;
  promptTokens: number;
  generateTokens: number;
  repetitions: number;
}
