// The training room on its own, with KD wired to small real implementations (the app wires training/kd.ts): a real
// SQLite library, job runner, datasets and models services, so a test can give the export a KD writer that writes
// files into the folder being assembled, and one that stops midway (to cancel or kill the run there).
import fs from 'node:fs';
import path from 'node:path';
import { openDatabase, type Db } from '../../src-main/core/store/db.js';
import { EventBus } from '../../src-main/core/events.js';
import { JobRunner } from '../../src-main/core/jobs/runner.js';
import { DatasetsService } from '../../src-main/core/datasets/service.js';
import { ModelsService } from '../../src-main/core/models/service.js';
import { TrainingService } from '../../src-main/core/training/service.js';
import { trainingExportJob } from '../../src-main/core/training/jobs/export.js';
import { DATABASE_FILE } from '../../src-main/core/paths.js';
import { AppError } from '../../src-shared/errors.js';
import type { KdCheck, KdSummary, KdWriter } from '../../src-main/core/training/kd-types.js';

export interface Harness {
  db: Db;
  runner: JobRunner;
  models: ModelsService;
  training: TrainingService;
  close(): Promise<void>;
}

/** Refuses a student whose file is not a GGUF (the real check compares vocabularies). */
export const kdCheck: KdCheck = (_source, student) => {
  const head = fs.readFileSync(student.path).subarray(0, 4).toString('latin1');
  if (head !== 'GGUF') return Promise.reject(new AppError('conflict', `${student.name} is not a GGUF: no vocabulary to map the soft labels into`, 'kd'));
  return Promise.resolve();
};

/** Writes a KD file of one record per train example with two alternatives per position; `hold` waits for the signal after writing. */
export function kdWriter(opts: { hold?: () => void } = {}): KdWriter {
  return async (source, _student, dir, { signal }) => {
    const file = 'data/kd.jsonl';
    const record = {
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
      ],
      target_token_ids: [[5, 9]],
      logprobs: [[-0.1, -2.4]],
    };
    fs.writeFileSync(path.join(dir, file), `${JSON.stringify(record)}\n`);
    fs.writeFileSync(path.join(dir, 'data/kd-compact.jsonl'), `${JSON.stringify({ position: 1, ids: [[5, 9]], logprobs: [[-0.1, -2.4]] })}\n`);
    if (opts.hold) {
      opts.hold();
      await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
    }
    const summary: KdSummary = {
      file,
      compactFile: 'data/kd-compact.jsonl',
      records: 1,
      skipped: [],
      k: 2,
      temperature: 0.7,
      teacher: `teacher of ${source.dataset}`,
      distillRunId: 42,
      chatTemplate: "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}",
    };
    return summary;
  };
}

export function harness(dataDir: string, writer: KdWriter = kdWriter()): Harness {
  const db = openDatabase(path.join(dataDir, DATABASE_FILE));
  const bus = new EventBus();
  const runner = new JobRunner(db, bus.emit, 1);
  const datasets = new DatasetsService(db, runner, dataDir);
  const models = new ModelsService(db, bus.emit);
  runner.register(trainingExportJob({ datasets, dataDir, kdWriter: writer }));
  const training = new TrainingService({ db, runner, datasets, models, dataDir, kdCheck });
  runner.start();
  return {
    db,
    runner,
    models,
    training,
    async close() {
      await runner.close();
      db.close();
    },
  };
}
