/**
 * A trainer's predictions file as an evaluation variant: JSONL, one `{"prediction": text}` per line in the split's
 * order, or with `"id"` naming the example (its position in the dataset version, as the Datasets page shows it). A
 * line that does not read, an id the split does not have, an id given twice, or examples left without a prediction
 * are reported by line; the rest is scored.
 */
import { readLines } from '../datasets/formats/line-reader.js';
import { withFileErrorsAsync } from '../files/errors.js';
import { AppError } from '../../../src-shared/errors.js';

/** Lines a predictions file may have beyond the split's examples before it is refused as the wrong file. */
const SLACK = 1000;

export interface Predictions {
  byPosition: Map<number, string>;
  /** One line per problem, naming the line (the first 50; `problemCount` counts all). */
  problems: string[];
  problemCount: number;
}

export async function readPredictions(file: string, positions: number[], signal?: AbortSignal): Promise<Predictions> {
  const wanted = new Set(positions);
  const byPosition = new Map<number, string>();
  const problems: string[] = [];
  let problemCount = 0;
  const problem = (message: string) => {
    problemCount++;
    if (problems.length < 50) problems.push(`${file}: ${message}`);
  };
  let withIds: boolean | null = null;
  let order = 0;
  await withFileErrorsAsync(
    file,
    async () => {
      for await (const l of readLines(file, signal ? { signal } : {})) {
        if (l.line > positions.length + SLACK)
          throw new AppError(
            'invalid_input',
            `${file}: more than ${positions.length + SLACK} lines for a split of ${positions.length} examples: is it the right file?`,
            'file',
          );
        if ('error' in l) {
          problem(`line ${l.line}: ${l.error}`);
          continue;
        }
        if (l.text.trim() === '') continue;
        let record: unknown;
        try {
          record = JSON.parse(l.text);
        } catch (e) {
          problem(`line ${l.line}: not JSON (${(e as Error).message})`);
          continue;
        }
        const r = record as { prediction?: unknown; id?: unknown } | null;
        if (r === null || typeof r !== 'object' || Array.isArray(r) || typeof r.prediction !== 'string') {
          problem(`line ${l.line}: no "prediction" text`);
          continue;
        }
        const hasId = r.id !== undefined;
        withIds ??= hasId;
        if (hasId !== withIds) {
          problem(`line ${l.line}: ${hasId ? 'has an "id" where the first lines had none' : 'has no "id" where the first lines had one'}`);
          continue;
        }
        let position: number;
        if (hasId) {
          const id = typeof r.id === 'string' && /^-?\d+$/.test(r.id) ? Number(r.id) : r.id;
          if (typeof id !== 'number' || !Number.isInteger(id) || !wanted.has(id)) {
            problem(`line ${l.line}: id ${JSON.stringify(r.id)} is not an example of the split`);
            continue;
          }
          position = id;
        } else {
          if (order >= positions.length) {
            problem(`line ${l.line}: an extra prediction (the split has ${positions.length} examples)`);
            continue;
          }
          position = positions[order++]!;
        }
        if (byPosition.has(position)) {
          problem(`line ${l.line}: a second prediction for example ${position}`);
          continue;
        }
        byPosition.set(position, r.prediction);
      }
    },
    'file',
  );
  const missing = positions.filter((p) => !byPosition.has(p));
  if (missing.length > 0) problem(`no prediction for ${missing.length} example(s): ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`);
  return { byPosition, problems, problemCount };
}
