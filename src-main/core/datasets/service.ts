import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../store/db.js';
import type { JobRunner } from '../jobs/runner.js';
import { DatasetsStore } from './store.js';
import { detectJsonlFormat, readJsonl } from './jsonl.js';
import type { ExportFormat } from './denormalize.js';
import { AppError } from '../../../src-shared/errors.js';
import type {
  DatasetDetail,
  DatasetSummary,
  ExamplesPage,
  ImportPreview,
  JsonRecordFormat,
  NormalizedExample,
  RejectedRecord,
} from '../../../src-shared/domain/datasets.js';

/** Datasets: import (a run), list, show. Curation, splits, search and export come with the rest of issue #3. */
export class DatasetsService {
  readonly store: DatasetsStore;

  constructor(
    db: Db,
    private readonly runner: JobRunner,
  ) {
    this.store = new DatasetsStore(db);
  }

  list(): DatasetSummary[] {
    return this.store.list();
  }

  get(name: string, version: number | undefined, previewLimit: number): DatasetDetail {
    const d = this.store.byName(name);
    if (!d || d.state !== 'ready') throw new AppError('not_found', `there is no dataset named ${name}`);
    const versions = this.store.versions(d.id);
    const v = version === undefined ? versions.at(-1)! : versions.find((x) => x.number === version);
    if (!v) throw new AppError('not_found', `${name} has no version ${version} (it has 1 to ${versions.length})`);
    return { id: d.id, name: d.name, createdAt: d.createdAt, latest: versions.at(-1)!, versions, version: v, preview: this.store.preview(v.id, previewLimit) };
  }

  async previewImport(file: string, format: JsonRecordFormat | 'auto', limit: number): Promise<ImportPreview> {
    const { absolute, resolved } = await this.resolveImport(file, format);
    const examples: NormalizedExample[] = [];
    const rejects: RejectedRecord[] = [];
    let linesRead = 0;
    for await (const item of readJsonl(absolute, resolved)) {
      linesRead = item.line;
      if ('example' in item) examples.push(item.example);
      else rejects.push(item.rejected);
      if (examples.length + rejects.length >= limit) break;
    }
    return { path: absolute, format: resolved, examples, rejects, linesRead };
  }

  examples(name: string, version: number | undefined, offset: number, limit: number, search?: string, hasReference?: boolean): ExamplesPage {
    const v = this.get(name, version, 0).version;
    const match = search?.trim() ? ftsQuery(search) : undefined;
    const page = this.store.page(v.id, offset, limit, { match, hasReference });
    return {
      total: page.total,
      rows: page.rows.map((r) => ({ position: r.position, messages: JSON.parse(r.messages) as NormalizedExample['messages'], reference: r.reference })),
    };
  }

  async startImport(file: string, name: string, format: JsonRecordFormat | 'auto'): Promise<{ runId: number; format: JsonRecordFormat }> {
    if (this.store.byName(name)) throw new AppError('conflict', `a dataset named ${name} already exists`);
    const { absolute, resolved } = await this.resolveImport(file, format);
    const run = this.runner.submit('datasets.import', { file: absolute, name, format: resolved });
    return { runId: run.id, format: resolved };
  }

  /** The file to import and its format (detected when 'auto'), or a clear refusal. */
  private async resolveImport(file: string, format: JsonRecordFormat | 'auto'): Promise<{ absolute: string; resolved: JsonRecordFormat }> {
    const absolute = path.resolve(file);
    const st = fs.statSync(absolute, { throwIfNoEntry: false });
    if (!st) throw new AppError('file_missing', `${absolute} does not exist`);
    if (!st.isFile()) throw new AppError('not_a_file', `${path.basename(absolute)} is not a file`);
    const resolved = format === 'auto' ? await detectJsonlFormat(absolute) : format;
    if (!resolved) {
      throw new AppError(
        'invalid_input',
        `${path.basename(absolute)}: no record has the fields of a known format (messages, conversations, instruction or prompt)`,
        'format',
      );
    }
    return { absolute, resolved };
  }

  startExport(name: string, version: number | undefined, format: ExportFormat, out: string): { runId: number } {
    const v = this.get(name, version, 0).version;
    const absolute = path.resolve(out);
    const dir = fs.statSync(path.dirname(absolute), { throwIfNoEntry: false });
    if (dir && !dir.isDirectory()) throw new AppError('not_a_file', `${path.dirname(absolute)} is not a folder`, 'out');
    if (fs.statSync(absolute, { throwIfNoEntry: false })?.isDirectory()) throw new AppError('not_a_file', `${absolute} is a folder; give a file name`, 'out');
    const run = this.runner.submit('datasets.export', { name, version: v.number, versionId: v.id, format, out: absolute });
    return { runId: run.id };
  }

  rejects(runId: number, limit: number): RejectedRecord[] {
    return this.store.rejects(runId, limit);
  }
}

/** A user's search words as an FTS5 query: every word must appear (quoted, so no FTS syntax can break the query). */
export function ftsQuery(search: string): string {
  return search
    .trim()
    .split(/\s+/)
    .map((w) => `"${w.replace(/"/g, '""')}"`)
    .join(' ');
}
