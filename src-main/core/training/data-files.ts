import fs from 'node:fs';
import type { ExampleRow } from '../../../src-shared/domain/datasets.js';
import { toRecord } from '../datasets/formats/denormalize.js';

const PAGE = 2000;

/** The record form a trainer reads: OpenAI `messages` (Axolotl, TRL, Unsloth) or ShareGPT `conversations` (LLaMA-Factory). */
export type DataFormat = 'openai' | 'sharegpt';

/** A page walk over one split of a version (the datasets room's `examplesAfter`). */
export type PageAfter = (position: number, limit: number) => ExampleRow[];

export interface WrittenData {
  records: number;
  /** Examples left out, by reason. */
  skipped: Map<string, number[]>;
  /** The top-level fields the written records have (a reader that declares a column no record has may fail on it). */
  columns: Set<string>;
}

/** Why an example would train nothing, or would be dropped by the trainer's own reader; null when it is fine. */
export function dataProblem(format: DataFormat, e: ExampleRow, record: Record<string, unknown>): string | null {
  if (!e.messages.some((m) => m.role === 'assistant')) return 'no assistant answer to learn from';
  if (format === 'sharegpt') return sharegptProblem(record);
  return null;
}

const ODD = new Set(['human', 'observation']);
const EVEN = new Set(['gpt', 'function_call']);

/**
 * LLaMA-Factory's ShareGPT reader (data/converter.py, SharegptDatasetConverter) skips a conversation whose turns do not
 * alternate human|observation with gpt|function_call, or that does not end on an answer: say so instead.
 */
function sharegptProblem(record: Record<string, unknown>): string | null {
  const turns = record.conversations as { from: string }[];
  for (let i = 0; i < turns.length; i++) {
    if (!(i % 2 === 0 ? ODD : EVEN).has(turns[i]!.from)) {
      return 'LLaMA-Factory needs turns alternating user/tool result with answer/tool call (an answer with both text and tool calls, or two answers in a row, breaks that)';
    }
  }
  return turns.length % 2 === 0 ? null : 'LLaMA-Factory needs a conversation ending on an answer';
}

/**
 * Writes one split as JSONL through the datasets room's record writers (datasets/formats/denormalize.ts), so tool calls
 * and tool definitions are kept exactly as a dataset export writes them. Examples the trainer cannot learn from are
 * left out and counted by reason. Yields between pages; `signal` stops it.
 */
export async function writeDataFile(
  file: string,
  format: DataFormat,
  pageAfter: PageAfter,
  opts: { signal: AbortSignal; onPage?: (rows: number) => void },
): Promise<WrittenData> {
  const fd = fs.openSync(file, 'w');
  const skipped = new Map<string, number[]>();
  const columns = new Set<string>();
  let records = 0;
  try {
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      opts.signal.throwIfAborted();
      const rows = pageAfter(after, PAGE);
      if (rows.length === 0) break;
      const lines: string[] = [];
      for (const e of rows) {
        const record = toRecord(format, e);
        const why = dataProblem(format, e, record);
        if (why) skipped.set(why, [...(skipped.get(why) ?? []), e.position]);
        else {
          lines.push(JSON.stringify(record));
          for (const k of Object.keys(record)) columns.add(k);
        }
      }
      if (lines.length) fs.writeSync(fd, lines.join('\n') + '\n');
      records += lines.length;
      after = rows.at(-1)!.position;
      opts.onPage?.(rows.length);
      await new Promise((r) => setImmediate(r)); // keep the app responsive between pages
    }
  } finally {
    fs.closeSync(fd);
  }
  return { records, skipped, columns };
}
