import { readLines } from './line-reader.js';
import { normalizeRecord, recordFormat, RecordError } from './normalize.js';
import type { JsonRecordFormat, NormalizedExample, RejectedRecord } from '../../../../src-shared/domain/datasets.js';

export type JsonlItem = { line: number; example: NormalizedExample } | { line: number; rejected: RejectedRecord };

const excerpt = (s: string) => s.slice(0, 200);

/**
 * Detects the format of a JSONL file from its first parseable records (the most common fitting format among up to
 * `sample` of them). Null when no record fits a known format.
 */
export async function detectJsonlFormat(file: string, sample = 50): Promise<JsonRecordFormat | null> {
  const counts = new Map<JsonRecordFormat, number>();
  let seen = 0;
  for await (const r of readLines(file)) {
    if ('error' in r || !r.text.trim()) continue;
    try {
      const f = recordFormat(JSON.parse(r.text));
      if (f) counts.set(f, (counts.get(f) ?? 0) + 1);
    } catch {
      /* a broken line says nothing about the format */
    }
    if (++seen >= sample) break;
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
}

/**
 * Reads a JSONL file record by record, normalized to conversations. A malformed line (bad JSON, wrong types, missing
 * fields, invalid UTF-8, too long) is yielded as rejected with its line number and reason, and reading goes on.
 * Blank lines are skipped silently.
 */
export async function* readJsonl(
  file: string,
  format: JsonRecordFormat,
  options: { maxLineBytes?: number; signal?: AbortSignal } = {},
): AsyncGenerator<JsonlItem> {
  for await (const r of readLines(file, options)) {
    if ('error' in r) {
      yield { line: r.line, rejected: { line: r.line, reason: r.error, excerpt: r.excerpt } };
      continue;
    }
    if (!r.text.trim()) continue;
    let record: unknown;
    try {
      record = JSON.parse(r.text);
    } catch (e) {
      yield { line: r.line, rejected: { line: r.line, reason: `not valid JSON (${(e as Error).message})`, excerpt: excerpt(r.text) } };
      continue;
    }
    try {
      yield { line: r.line, example: normalizeRecord(format, record) };
    } catch (e) {
      if (!(e instanceof RecordError)) throw e;
      yield { line: r.line, rejected: { line: r.line, reason: e.message, excerpt: excerpt(r.text) } };
    }
  }
}
