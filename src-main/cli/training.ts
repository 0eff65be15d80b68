// `distillery export-training`: a dataset version as a training folder for Axolotl, TRL, Unsloth or LLaMA-Factory (a run,
// executed here): the data in the trainer's format, the recipe, a README and distillery-export.json.
import path from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_RECIPE, DEFAULT_TARGET_MODULES, TRAINERS, type Trainer, type TrainingManifest } from '../../src-shared/domain/training.js';
import { modelArg, runToEnd } from './open.js';
import { dataDirOption, jsonOption, parseRef, usageError, type Common } from './options.js';
import type { Io } from './output.js';

interface Opts extends Common {
  trainer: Trainer;
  studentHfId: string;
  kd?: boolean;
  student?: string;
  out?: string;
  force?: boolean;
  validation: 'validation' | 'none' | 'auto';
  loraRank?: string;
  loraAlpha?: string;
  loraDropout?: string;
  targetModules?: string;
  epochs?: string;
  lr?: string;
  maxLength?: string;
  microBatchSize?: string;
  gradientAccumulation?: string;
  seed?: string;
}

function num(raw: string | undefined, flag: string, whole: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || (whole && !Number.isInteger(n)))
    throw usageError('badNumber', `${flag} must be ${whole ? 'a whole number' : 'a number'}, not "${raw}"`);
  return n;
}

/** The recipe options given on the command line (the rest keep the contract's defaults). */
function recipeArg(o: Opts): Record<string, unknown> {
  const entries: [string, number | string[] | undefined][] = [
    ['loraRank', num(o.loraRank, '--lora-rank', true)],
    ['loraAlpha', num(o.loraAlpha, '--lora-alpha', true)],
    ['loraDropout', num(o.loraDropout, '--lora-dropout', false)],
    [
      'targetModules',
      o.targetModules
        ?.split(',')
        .map((m) => m.trim())
        .filter(Boolean),
    ],
    ['epochs', num(o.epochs, '--epochs', false)],
    ['learningRate', num(o.lr, '--lr', false)],
    ['maxLength', num(o.maxLength, '--max-length', true)],
    ['microBatchSize', num(o.microBatchSize, '--micro-batch-size', true)],
    ['gradientAccumulation', num(o.gradientAccumulation, '--gradient-accumulation', true)],
    ['seed', num(o.seed, '--seed', true)],
  ];
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined));
}

export function addTrainingCommand(program: Command, io: Io): void {
  program
    .command('export-training')
    .description('write a training folder for Axolotl, TRL, Unsloth or LLaMA-Factory from a dataset version (a run, executed here)')
    .argument('<dataset>', 'NAME or NAME@VERSION (a committed version; default the latest)')
    .addOption(new Option('--trainer <trainer>', 'the trainer the folder is for').choices([...TRAINERS]).makeOptionMandatory())
    .requiredOption(
      '--student-hf-id <id>',
      "the Hugging Face id of the student's original weights (e.g. Qwen/Qwen2.5-0.5B-Instruct), or an absolute path to them",
    )
    .option('--kd', "knowledge distillation: export the distillation run's soft labels too (Axolotl only; needs --student)")
    .option('--student <model>', 'with --kd: the student GGUF (a library id or a file) whose vocabulary the soft labels are mapped into')
    .option('--out <dir>', 'the training folder (default: ./<dataset>-v<version>-<trainer>)')
    .option('--force', 'replace the folder if it exists and is not empty')
    .addOption(
      new Option('--validation <which>', "the validation file: the version's validation split, none, or auto (the split when there is one)")
        .choices(['validation', 'none', 'auto'])
        .default('auto'),
    )
    .option('--lora-rank <r>', `LoRA rank (default ${DEFAULT_RECIPE.loraRank})`)
    .option('--lora-alpha <a>', `LoRA alpha (default ${DEFAULT_RECIPE.loraAlpha})`)
    .option('--lora-dropout <p>', `LoRA dropout (default ${DEFAULT_RECIPE.loraDropout})`)
    .option('--target-modules <list>', `comma-separated modules LoRA adapts (default ${DEFAULT_TARGET_MODULES.join(',')})`)
    .option('--epochs <n>', `epochs (default ${DEFAULT_RECIPE.epochs})`)
    .option('--lr <rate>', `learning rate (default ${DEFAULT_RECIPE.learningRate})`)
    .option('--max-length <tokens>', `longest sequence (default ${DEFAULT_RECIPE.maxLength})`)
    .option('--micro-batch-size <n>', `examples per device step (default ${DEFAULT_RECIPE.microBatchSize})`)
    .option('--gradient-accumulation <n>', `steps accumulated per update (default ${DEFAULT_RECIPE.gradientAccumulation})`)
    .option('--seed <n>', `seed (default ${DEFAULT_RECIPE.seed})`)
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((ref: string, opts: Opts) => {
      const { name, version } = parseRef(ref);
      if (opts.kd && !opts.student) throw usageError('badKd', '--kd needs --student MODEL (the student GGUF: a library id or a file)');
      if (opts.student && !opts.kd) throw usageError('badKd', '--student is for --kd; add --kd or leave it out');
      const recipe = recipeArg(opts);
      let outDir = '';
      return runToEnd(
        io,
        opts,
        async (c) => {
          const plan = await c.call('training.plan', { dataset: name, ...(version ? { version } : {}) });
          outDir = path.resolve(opts.out ?? plan.defaultFolderName[opts.trainer]);
          return c.call('training.export', {
            dataset: name,
            ...(version ? { version } : {}),
            trainer: opts.trainer,
            studentHfId: opts.studentHfId,
            recipe,
            ...(opts.validation === 'auto' ? {} : { validation: opts.validation }),
            ...(opts.kd ? { kd: { studentModelId: await modelArg(c, opts.student!) } } : {}),
            outDir,
            force: opts.force === true,
          });
        },
        async (c, runId) => {
          const m: TrainingManifest = await c.call('training.manifest', { runId });
          const text = [
            `Training folder: ${outDir}`,
            `  ${m.counts.train} train, ${m.counts.validation} validation examples${m.counts.kd !== null ? `, ${m.counts.kd} soft-label records` : ''}`,
            ...(m.skipped ?? []).map((s) => `  left out: ${s.count} (${s.reason})`),
            `Train it (in that folder): ${m.command}`,
            `The adapter will be written to ${path.join(outDir, m.adapterDir)}`,
          ].join('\n');
          return { key: 'training', value: { folder: outDir, manifest: m }, text };
        },
      );
    });
}
