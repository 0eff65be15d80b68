import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { JobContext, JobKind } from '../../jobs/types.js';
import type { DatasetsService } from '../../datasets/service.js';
import { AppError } from '../../../../src-shared/errors.js';
import { ADAPTER_DIR, TRAINING_MANIFEST, type TrainingManifest, type TrainingManifestFile } from '../../../../src-shared/domain/training.js';
import type { KdSummary, KdWriter } from '../kd-types.js';
import { RECIPES } from '../recipes/index.js';
import { writeDataFile, type WrittenData } from '../data-files.js';
import { readme } from '../readme.js';
import { checkOutDir, installFolder, listFiles } from '../folder.js';
import { distillRunOf } from '../lineage.js';

export interface ExportJobDeps {
  datasets: DatasetsService;
  dataDir: string;
  /** Writes the KD files (training/kd.ts); without it a KD export fails saying so. */
  kdWriter?: KdWriter;
}

/** The folder being assembled beside `outDir`, and where an old folder is moved while it is replaced. */
export const partialDir = (outDir: string, runId: number) => `${outDir}.partial-${runId}`;
const asideDir = (outDir: string, runId: number) => `${outDir}.replaced-${runId}`;

export const TRAIN_FILE = 'data/train.jsonl';
export const VALIDATION_FILE = 'data/validation.jsonl';

/**
 * `training.export`: a dataset version as a training folder for one trainer. Everything is written into
 * `<outDir>.partial-<runId>` (a temporary folder of the run: a cancel, a failure or a crash removes it), hashed into
 * `distillery-export.json`, and renamed to `outDir` only when whole (an existing folder, with `force`, is moved aside
 * first and removed after). A resumed run starts the folder again.
 */
export function trainingExportJob(deps: ExportJobDeps): JobKind<'training.export'> {
  return {
    kind: 'training.export',
    title: (c) => `Export ${c.dataset}@${c.versionNumber} for ${c.trainer}${c.kd ? ' with soft labels' : ''}`,
    async run(ctx) {
      const c = ctx.config;
      const { datasets, dataDir } = deps;
      const source = `${c.dataset}@${c.versionNumber}`;
      ctx.lineage('input', 'dataset', c.dataset, source);
      if (c.kd) ctx.lineage('input', 'model', String(c.kd.modelId), c.kd.name);
      // A run resumed after it had put its folder in place (and died before it ended) may write it again.
      const force = c.force || manifestRunId(c.outDir) === ctx.runId;
      checkOutDir(c.outDir, { dataDir, force });
      const partial = partialDir(c.outDir, ctx.runId);
      ctx.tempFile(`${partial}/`);
      fs.rmSync(partial, { recursive: true, force: true });
      fs.mkdirSync(path.join(partial, 'data'), { recursive: true });

      const recipe = RECIPES[c.trainer];
      const trainTotal = datasets.countIn(c.versionId, c.trainSplit);
      const validationTotal = c.validation === 'validation' ? datasets.countIn(c.versionId, 'validation') : 0;
      const total = trainTotal + validationTotal;
      let done = 0;
      const onPage = (rows: number) => {
        done += rows;
        ctx.progress(done, total, `${done} of ${total} examples`);
      };
      const write = (file: string, split: 'train' | 'validation' | 'all'): Promise<WrittenData> =>
        writeDataFile(path.join(partial, file), recipe.format, (after, limit) => datasets.examplesAfter(c.versionId, after, limit, split), {
          signal: ctx.signal,
          onPage,
        });
      const train = await write(TRAIN_FILE, c.trainSplit);
      const skipped = new Map<string, number[]>(train.skipped);
      if (train.records === 0) {
        const why = [...train.skipped].map(([reason, p]) => `${p.length} ${reason}`).join('; ');
        throw new AppError(
          'conflict',
          `${source} has 0 training examples${c.trainSplit === 'train' ? ' in its train split' : ''}${why ? ` (left out: ${why})` : ''}; nothing to train on`,
        );
      }
      let validation: WrittenData | null = null;
      if (c.validation === 'validation') {
        validation = await write(VALIDATION_FILE, 'validation');
        for (const [why, p] of validation.skipped) skipped.set(why, [...(skipped.get(why) ?? []), ...p]);
        if (validation.records === 0) {
          fs.rmSync(path.join(partial, VALIDATION_FILE));
          ctx.log('warn', `${source}: no validation example can be used; the folder has no validation file.`);
          validation = null;
        }
      }
      for (const [why, positions] of skipped) {
        const some = positions.slice(0, 10).join(', ') + (positions.length > 10 ? ', …' : '');
        ctx.log('warn', `${positions.length} example(s) left out: ${why} (positions ${some}).`);
      }

      let kd: KdSummary | null = null;
      if (c.kd) {
        if (!deps.kdWriter) throw new AppError('conflict', 'this build has no soft-label writer; export without --kd');
        ctx.progress(done, total, 'writing the soft labels');
        kd = await deps.kdWriter(
          { versionId: c.versionId, dataset: c.dataset, version: c.versionNumber, split: c.trainSplit },
          { path: c.kd.path, name: c.kd.name },
          partial,
          { signal: ctx.signal, onProgress: (d, t) => ctx.progress(d, t, `soft labels: ${d} of ${t}`) },
        );
        ctx.throwIfCancelled();
        if (kd.records === 0) throw new AppError('conflict', `${source}: no example has soft labels to export (${kd.skipped.length} left out)`);
      }

      const out = recipe.write({
        trainer: c.trainer,
        studentHfId: c.studentHfId,
        recipe: c.recipe,
        train: TRAIN_FILE,
        validation: validation ? VALIDATION_FILE : null,
        kd,
        columns: new Map([[TRAIN_FILE, train.columns], ...(validation ? [[VALIDATION_FILE, validation.columns] as const] : [])]),
        adapterDir: ADAPTER_DIR,
        source,
      });
      const skippedList = [...skipped].map(([reason, p]) => ({ reason, count: p.length }));
      const counts = { train: train.records, validation: validation?.records ?? 0, kd: kd ? kd.records : null };
      const files = [
        ...out.files,
        {
          path: 'README.md',
          text: readme({
            trainer: c.trainer,
            source,
            studentHfId: c.studentHfId,
            runId: ctx.runId,
            counts,
            dataFiles: [TRAIN_FILE, ...(validation ? [VALIDATION_FILE] : [])],
            adapterDir: ADAPTER_DIR,
            outDir: c.outDir,
            base: c.kd ? String(c.kd.modelId) : null,
            recipe: out,
            skipped: skippedList,
          }),
        },
      ];
      for (const f of files) {
        fs.mkdirSync(path.dirname(path.join(partial, f.path)), { recursive: true });
        fs.writeFileSync(path.join(partial, f.path), f.text);
      }
      ctx.throwIfCancelled();

      const records = new Map<string, number>([[TRAIN_FILE, train.records]]);
      if (validation) records.set(VALIDATION_FILE, validation.records);
      const listed = await describeFiles(partial, records, ctx);
      const version = datasets.resolve(c.dataset, c.versionNumber, { committedOnly: true }).version;
      const manifest: TrainingManifest = {
        format: 'distillery-training-export',
        formatVersion: 1,
        runId: ctx.runId,
        createdAt: new Date().toISOString(),
        trainer: c.trainer,
        dataset: { name: c.dataset, version: c.versionNumber, versionId: c.versionId },
        distillRunId: kd?.distillRunId ?? distillRunOf(ctx.db, c.dataset),
        versionRunId: version.runId,
        studentHfId: c.studentHfId,
        counts,
        adapterDir: ADAPTER_DIR,
        recipe: { ...c.recipe, targetModules: [...c.recipe.targetModules] },
        command: out.command,
        kd: kd
          ? {
              file: kd.file,
              compactFile: kd.compactFile,
              k: kd.k,
              temperature: kd.temperature,
              teacher: kd.teacher,
              distillRunId: kd.distillRunId,
              student: c.kd!.name,
            }
          : null,
        files: listed,
        ...(skippedList.length ? { skipped: skippedList } : {}),
      };
      fs.writeFileSync(path.join(partial, TRAINING_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
      ctx.throwIfCancelled();

      // Checked again: the folder may have appeared (or filled) since the run was submitted.
      checkOutDir(c.outDir, { dataDir, force });
      const replaced = installFolder(partial, c.outDir, asideDir(c.outDir, ctx.runId));
      ctx.releaseTemp(`${partial}/`);
      ctx.lineage('output', 'file', c.outDir, path.basename(c.outDir));
      ctx.metric('examples_train', counts.train);
      ctx.metric('examples_validation', counts.validation);
      if (kd) ctx.metric('kd_records', kd.records);
      ctx.metric(
        'bytes',
        listed.reduce((n, f) => n + f.bytes, 0),
      );
      ctx.progress(total, total, `${counts.train} train, ${counts.validation} validation examples in ${c.outDir}`);
      ctx.log(
        'info',
        `${replaced ? 'Replaced' : 'Wrote'} ${c.outDir}: ${counts.train} train and ${counts.validation} validation examples. Train with: ${out.command}`,
      );
    },
  };
}

/** The run that wrote the folder at `dir`, from its manifest; null when there is none. */
function manifestRunId(dir: string): number | null {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, TRAINING_MANIFEST), 'utf8')) as Partial<TrainingManifest>;
    return typeof m.runId === 'number' ? m.runId : null;
  } catch {
    return null;
  }
}

/** Every file of the folder with its size and sha256 (read in chunks), and the record count of the JSONL data files. */
async function describeFiles(dir: string, records: Map<string, number>, ctx: JobContext<'training.export'>): Promise<TrainingManifestFile[]> {
  const out: TrainingManifestFile[] = [];
  for (const f of listFiles(dir)) {
    ctx.throwIfCancelled();
    const hash = createHash('sha256');
    let bytes = 0;
    let lines = 0;
    for await (const chunk of fs.createReadStream(f.absolute, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
      if (f.path.endsWith('.jsonl') && !records.has(f.path)) for (const b of chunk) if (b === 10) lines++;
    }
    const count = records.get(f.path) ?? (f.path.endsWith('.jsonl') ? lines : undefined);
    out.push({ path: f.path, bytes, sha256: hash.digest('hex'), ...(count !== undefined ? { records: count } : {}) });
  }
  return out;
}
