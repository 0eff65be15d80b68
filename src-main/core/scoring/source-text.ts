// The text a run scores or gathers statistics on, shared by the adapters room (perplexity, sweep) and the quantize room
// (importance matrix, gate): a `TextSource` the user gave, resolved before the run starts (the file checked, the
// dataset version pinned), then read by the run — a file as it is, or a dataset split's examples either as their
// messages' plain text ('plain') or rendered through the model's own chat template ('chat', node-llama-cpp's chat
// wrapper for the model, the text it will see in use).
import fs from 'node:fs';
import path from 'node:path';
import type { LlamaModel } from 'node-llama-cpp';
import type { JobContext } from '../jobs/types.js';
import type { DatasetsService } from '../datasets/service.js';
import { fileError } from '../files/errors.js';
import { llamaCpp } from '../llm/llama-cpp.js';
import { availableFunctions, chatHistory } from '../distill/tool-prompt.js';
import type { SourceConfig } from '../../../src-shared/contract/adapters.js';
import type { TextSource } from '../../../src-shared/domain/adapters.js';
import type { ExampleRow } from '../../../src-shared/domain/datasets.js';
import { AppError } from '../../../src-shared/errors.js';

/** Checks a source before a run starts: the file exists, the dataset version is committed (pinned by id). */
export function resolveSource(datasets: DatasetsService, s: TextSource, field = 'source'): SourceConfig {
  if ('textFile' in s) {
    const file = path.resolve(s.textFile);
    if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) throw new AppError('file_missing', `there is no text file at ${file}`, `${field}.textFile`);
    return { kind: 'file', path: file };
  }
  const { version } = datasets.resolve(s.dataset, s.version, { committedOnly: true });
  return { kind: 'dataset', dataset: s.dataset, versionId: version.id, label: `${s.dataset}@${version.number}`, split: s.split };
}

/** `notes.txt`, `tickets@3 (test)`: how a source is named in titles and file names. */
export function sourceLabel(s: SourceConfig): string {
  return s.kind === 'file' ? path.basename(s.path) : `${s.label}${s.split === 'all' ? '' : ` (${s.split})`}`;
}

/** Records the source as an input of the run. */
export function recordSourceLineage(ctx: JobContext, s: SourceConfig): void {
  if (s.kind === 'file') ctx.lineage('input', 'file', s.path, s.path);
  else ctx.lineage('input', 'dataset', s.dataset, s.label);
}

/** A file's text as llama.cpp's tools read `-f FILE` (one trailing newline dropped), so figures agree on the same file. */
export function readTextFile(file: string): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.endsWith('\n') ? text.slice(0, -1) : text;
  } catch (e) {
    throw fileError(e, file);
  }
}

/** Every example of a dataset source's split, in order, a page at a time. */
function* examples(datasets: DatasetsService, s: Extract<SourceConfig, { kind: 'dataset' }>): Generator<ExampleRow> {
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const rows = datasets.examplesAfter(s.versionId, after, 1000, s.split);
    if (rows.length === 0) return;
    after = rows.at(-1)!.position;
    yield* rows;
  }
}

/** The text a source stands for ('plain'): the file, or the examples of a dataset split, their messages joined in order. */
export function plainText(datasets: DatasetsService, s: SourceConfig): string {
  if (s.kind === 'file') return readTextFile(s.path);
  const parts: string[] = [];
  for (const r of examples(datasets, s)) parts.push(r.messages.map((m) => m.content).join('\n'));
  return parts.join('\n\n');
}

/** plainText, recorded as the run's input. */
export function sourceText(datasets: DatasetsService, s: SourceConfig, ctx: JobContext): string {
  recordSourceLineage(ctx, s);
  return plainText(datasets, s);
}

/**
 * A dataset source's examples rendered through the model's chat template ('chat'), each whole conversation (the
 * assistant's answers included) as the model sees it in use, special tokens as tokens: one token stream, example after
 * example. `tokenizer` may be the vocabulary-only model (LlmEngine.loadTokenizer).
 */
export function chatTokens(datasets: DatasetsService, s: Extract<SourceConfig, { kind: 'dataset' }>, tokenizer: LlamaModel, signal?: AbortSignal): number[] {
  const wrapper = llamaCpp().resolveChatWrapper(tokenizer);
  const out: number[] = [];
  for (const r of examples(datasets, s)) {
    if (signal?.aborted) throw new AppError('cancelled', 'cancelled');
    const functions = availableFunctions(r.tools);
    const state = wrapper.generateContextState({
      chatHistory: chatHistory(r.messages),
      ...(functions ? { availableFunctions: functions, documentFunctionParams: true } : {}),
    });
    for (const t of state.contextText.tokenize(tokenizer.tokenizer)) out.push(t);
  }
  return out;
}

/** What a run gets from a source: a text the engine tokenizes as llama.cpp's tools do, or rendered tokens. */
export type SourceInput = { text: string } | { tokens: number[] };

/**
 * The source read as `render` says (a file is always its text). `tokenizer` is loaded only for a chat-rendered dataset.
 * Records the source as the run's input (no `ctx`: a reading outside any run, e.g. `distillery kld`).
 */
export async function readSource(
  datasets: DatasetsService,
  s: SourceConfig,
  render: 'chat' | 'plain',
  tokenizer: () => Promise<LlamaModel>,
  ctx: JobContext | null,
  signal?: AbortSignal,
): Promise<SourceInput> {
  if (ctx) recordSourceLineage(ctx, s);
  if (s.kind === 'file' || render === 'plain') return { text: plainText(datasets, s) };
  return { tokens: chatTokens(datasets, s, await tokenizer(), signal ?? ctx?.signal) };
}
