import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../store/db.js';
import type { JobRunner } from '../jobs/runner.js';
import { DatasetsStore } from './store.js';
import { detectJsonlFormat } from './jsonl.js';
import { AppError } from '../../../src-shared/errors.js';
import type { DatasetDetail, DatasetSummary, JsonRecordFormat, RejectedRecord } from '../../../src-shared/domain/datasets.js';

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

  async startImport(file: string, name: string, format: JsonRecordFormat | 'auto'): Promise<{ runId: number; format: JsonRecordFormat }> {
    const absolute = path.resolve(file);
    const st = fs.statSync(absolute, { throwIfNoEntry: false });
    if (!st) throw new AppError('file_missing', `${absolute} does not exist`);
    if (!st.isFile()) throw new AppError('not_a_file', `${path.basename(absolute)} is not a file`);
    if (this.store.byName(name)) throw new AppError('conflict', `a dataset named ${name} already exists`);
    const resolved = format === 'auto' ? await detectJsonlFormat(absolute) : format;
    if (!resolved) {
      throw new AppError(
        'invalid_input',
        `${path.basename(absolute)}: no record has the fields of a known format (messages, conversations, instruction or prompt)`,
        'format',
      );
    }
    const run = this.runner.submit('datasets.import', { file: absolute, name, format: resolved });
    return { runId: run.id, format: resolved };
  }

  rejects(runId: number, limit: number): RejectedRecord[] {
    return this.store.rejects(runId, limit);
  }
}
