import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../../src-shared/errors.js';
import type { GgufSummary } from '../../../src-shared/domain/models.js';
import { readGgufHeader, type GgufHeader, type MetaValue } from './header.js';
import { GGML_TYPES, LLAMA_FTYPES } from './ggml-types.js';

const num = (v: MetaValue | undefined): number | null => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null);
const text = (v: MetaValue | undefined): string | null => (typeof v === 'string' ? v : null);
const arrayLength = (v: MetaValue | undefined): number | null => (v !== undefined && typeof v === 'object' ? v.length : null);

/** What the header says, in the app's terms. */
export function summarize(header: GgufHeader, fileName: string): GgufSummary {
  const m = header.metadata;
  const architecture = text(m.get('general.architecture'));
  if (!architecture) throw new AppError('not_gguf', `${fileName} has no general.architecture: it is not a model llama.cpp can load`);
  const arch = (key: string) => m.get(`${architecture}.${key}`);

  const tensorTypes: Record<string, number> = {};
  const bytesByType: Record<string, number> = {};
  let parameterCount = 0;
  for (const t of header.tensors) {
    const typeName = GGML_TYPES[t.type]!.name;
    tensorTypes[typeName] = (tensorTypes[typeName] ?? 0) + 1;
    bytesByType[typeName] = (bytesByType[typeName] ?? 0) + t.byteSize;
    parameterCount += t.shape.reduce((a, b) => a * b, 1);
  }
  const ftype = num(m.get('general.file_type'));
  const dominant = Object.entries(bytesByType).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'unknown';
  const headCount = num(arch('attention.head_count'));
  return {
    ggufVersion: header.version,
    architecture,
    name: text(m.get('general.name')),
    parameterCount,
    fileType: (ftype !== null ? LLAMA_FTYPES[ftype] : undefined) ?? dominant,
    tensorTypes,
    tensorCount: header.tensors.length,
    contextLength: num(arch('context_length')),
    blockCount: num(arch('block_count')),
    headCount,
    headCountKv: num(arch('attention.head_count_kv')) ?? headCount,
    embeddingLength: num(arch('embedding_length')),
    feedForwardLength: num(arch('feed_forward_length')),
    vocabSize: arrayLength(m.get('tokenizer.ggml.tokens')) ?? num(arch('vocab_size')),
    tokenizerModel: text(m.get('tokenizer.ggml.model')),
    hasChatTemplate: (text(m.get('tokenizer.chat_template')) ?? '').length > 0,
    fileKind: text(m.get('general.type')) ?? (m.has('adapter.type') ? 'adapter' : 'model'),
  };
}

/** Reads and validates a GGUF file's header; never reads tensor data, so it is fast on multi-GB files. */
export async function inspectGguf(file: string): Promise<{ sizeBytes: number; mtimeMs: number; summary: GgufSummary }> {
  const header = readGgufHeader(file);
  const mtimeMs = fs.statSync(file).mtimeMs;
  return { sizeBytes: header.fileSize, mtimeMs, summary: summarize(header, path.basename(file)) };
}

/** A GGUF file's weights from its tensor table: parameters, tensor bytes and bits per weight (tensor bytes × 8 / parameters). */
export function weightFigures(file: string): { parameters: number; tensorBytes: number; bitsPerWeight: number } {
  const h = readGgufHeader(file);
  let bytes = 0;
  let weights = 0;
  for (const t of h.tensors) {
    bytes += t.byteSize;
    weights += t.shape.reduce((a, b) => a * b, 1);
  }
  return { parameters: weights, tensorBytes: bytes, bitsPerWeight: weights ? (bytes * 8) / weights : 0 };
}
