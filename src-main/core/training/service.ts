import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../store/db.js';
import type { JobRunner } from '../jobs/runner.js';
import type { DatasetsService } from '../datasets/service.js';
import type { ModelsService } from '../models/service.js';
import type { OpParsed } from '../../../src-shared/contract/index.js';
import { AppError } from '../../../src-shared/errors.js';
import { TRAINERS, TRAINING_MANIFEST, type TrainingManifest, type TrainingPlan } from '../../../src-shared/domain/training.js';
import type { KdCheck } from './kd-types.js';
import { checkOutDir } from './folder.js';
import { distillRunOf } from './lineage.js';

export interface TrainingDeps {
  db: Db;
  runner: JobRunner;
  datasets: DatasetsService;
  models: ModelsService;
  dataDir: string;
  /** Refuses a KD export before its run starts (training/kd.ts); without it, KD is refused as unavailable. */
  kdCheck?: KdCheck;
}

/** The training hand-off: a dataset version as a folder a trainer (Axolotl, TRL, Unsloth, LLaMA-Factory) runs on. */
export class TrainingService {
  constructor(private readonly d: TrainingDeps) {}

  /** What an export of a committed version would hold: which split trains, which validates, and what is left out. */
  plan(dataset: string, version: number | undefined): TrainingPlan {
    const v = this.d.datasets.resolve(dataset, version, { committedOnly: true }).version;
    const counts = this.d.datasets.store.splitCounts(v.id);
    const hasSplits = counts.train + counts.validation + counts.test > 0;
    const train = hasSplits ? counts.train : counts.none;
    return {
      dataset,
      version: v.number,
      versionId: v.id,
      train,
      trainSplit: hasSplits ? 'train' : 'all',
      validation: counts.validation,
      leftOut: hasSplits ? counts.test + counts.none : 0,
      defaultValidation: counts.validation > 0 ? 'validation' : 'none',
      distillRunId: distillRunOf(this.d.db, dataset),
      defaultFolderName: Object.fromEntries(TRAINERS.map((t) => [t, `${dataset}-v${v.number}-${t}`])) as TrainingPlan['defaultFolderName'],
    };
  }

  /** Checks everything that can be checked before a run (version, splits, folder, KD) and queues the export. */
  async start(input: OpParsed<'training.export'>, signal?: AbortSignal): Promise<{ runId: number }> {
    const plan = this.plan(input.dataset, input.version);
    const source = `${input.dataset}@${plan.version}`;
    if (plan.train === 0) {
      throw new AppError(
        'conflict',
        plan.trainSplit === 'train' ? `${source} has 0 examples in its train split; nothing to train on` : `${source} has 0 examples; nothing to train on`,
        'dataset',
      );
    }
    const validation = input.validation ?? plan.defaultValidation;
    if (validation === 'validation' && plan.validation === 0) {
      throw new AppError('conflict', `${source} has no validation split; split it first or choose no validation`, 'validation');
    }
    const outDir = checkOutDir(input.outDir, { dataDir: this.d.dataDir, force: input.force });
    let kd: { modelId: number; path: string; name: string } | null = null;
    if (input.kd) {
      if (input.trainer !== 'axolotl') {
        throw new AppError(
          'invalid_input',
          `knowledge distillation from soft labels needs trainer axolotl (only Axolotl has a KD trainer reading offline logprobs), not ${input.trainer}`,
          'kd',
        );
      }
      const student = this.d.models.resolveForEngine(input.kd.studentModelId);
      kd = { modelId: input.kd.studentModelId, ...student };
      if (!this.d.kdCheck) throw new AppError('conflict', 'this build has no soft-label export; export without KD', 'kd');
      await this.d.kdCheck({ versionId: plan.versionId, dataset: input.dataset, version: plan.version, split: plan.trainSplit }, student, signal);
    }
    const run = this.d.runner.submit('training.export', {
      dataset: input.dataset,
      versionId: plan.versionId,
      versionNumber: plan.version,
      trainer: input.trainer,
      studentHfId: input.studentHfId,
      recipe: input.recipe,
      trainSplit: plan.trainSplit,
      validation,
      kd,
      outDir,
      force: input.force,
    });
    return { runId: run.id };
  }

  /** The manifest run `runId` wrote, read back from its folder. */
  manifest(runId: number): TrainingManifest {
    const c = this.d.runner.config(runId, 'training.export');
    const file = path.join(c.outDir, TRAINING_MANIFEST);
    let m: TrainingManifest;
    try {
      m = JSON.parse(fs.readFileSync(file, 'utf8')) as TrainingManifest;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new AppError(
        'not_found',
        `${file}: ${code === 'ENOENT' ? 'not there (the run has not finished, or the folder was moved)' : `unreadable (${code ?? (e as Error).message})`}`,
      );
    }
    if (m.format !== 'distillery-training-export' || m.runId !== runId) {
      throw new AppError('conflict', `${file} is not the manifest of run ${runId} (the folder was written again by run ${String(m.runId)})`);
    }
    return m;
  }
}
