import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { readRecords } from '../../../src-main/core/datasets/formats/read.js';
import type { ImportSpec } from '../../../src-shared/domain/datasets.js';
import type { JsonlItem } from '../../../src-main/core/datasets/formats/jsonl.js';
import { tempDir } from '../../helpers/tmp.js';

// Samples written by hand from each container's public description (RFC 4180 CSV, IANA/pandas TSV, Stanford Alpaca's
// alpaca_data.json, the array HF `to_json(lines=False)` writes), not by our own exporter.
export const SAMPLES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'samples');
export const sample = (name: string) => path.join(SAMPLES, name);

/** Every item of a file, checking the contract every reader keeps: lines 1-based and strictly increasing. */
export async function all(file: string, spec: ImportSpec, options: { maxLineBytes?: number; signal?: AbortSignal } = {}): Promise<JsonlItem[]> {
  const out: JsonlItem[] = [];
  for await (const item of readRecords(file, spec, options)) {
    expect(item.line).toBeGreaterThan(out.at(-1)?.line ?? 0);
    if ('rejected' in item) expect(item.rejected.line).toBe(item.line);
    out.push(item);
  }
  return out;
}

export const examples = (items: JsonlItem[]) => items.flatMap((i) => ('example' in i ? [i.example] : []));
export const rejected = (items: JsonlItem[]) => items.flatMap((i) => ('rejected' in i ? [i.rejected] : []));
export const lines = (items: JsonlItem[]) => items.map((i) => [i.line, 'example' in i ? 'ok' : 'rejected']);

export function write(name: string, content: string | Buffer): string {
  const file = path.join(tempDir(), name);
  fs.writeFileSync(file, content);
  return file;
}

/** The error a promise rejects with (fails when it resolves). */
export async function failure(p: Promise<unknown>): Promise<Error & { code?: string; field?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string; field?: string };
  }
  throw new Error('expected a failure');
}
