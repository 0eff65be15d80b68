// `distillery models …`: the model library (add, inspect, list, show, remove) and its runs (scan, benchmark).
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { ModelRole } from '../../src-shared/domain/models.js';
import { callAndPrint, runToEnd } from './open.js';
import { dataDirOption, jsonOption, parseId, type Common } from './options.js';
import { modelDetails, modelsTable, type Io } from './output.js';

/** The roles of domain/models.ts, which imports zod (a third of a second); the check below keeps the two lists equal. */
const MODEL_ROLES = ['teacher', 'student', 'base'] as const satisfies readonly ModelRole[];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const rolesComplete: Same<(typeof MODEL_ROLES)[number], ModelRole> = true;
void rolesComplete;

export function addModelCommands(program: Command, io: Io): void {
  const models = program.command('models').description('the model library');
  models
    .command('add')
    .description('add a GGUF model file to the library')
    .argument('<file>', 'path of a .gguf file')
    .addOption(new Option('--role <role...>', 'roles to give it').choices(MODEL_ROLES))
    .option('--note <text>', 'a note', '')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((file: string, opts: Common & { role?: ModelRole[]; note: string }) =>
      callAndPrint(
        io,
        opts,
        (c) => c.call('models.add', { path: file, roles: opts.role ?? [], note: opts.note }),
        (entry) => `Added model ${entry.id}\n${modelDetails(entry)}`,
      ),
    );
  models
    .command('inspect')
    .description("read a GGUF file's header without adding it")
    .argument('<file>', 'path of a .gguf file')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((file: string, opts: Common) =>
      callAndPrint(
        io,
        opts,
        (c) => c.call('models.inspect', { path: file }),
        (info) => JSON.stringify(info.summary, null, 2),
      ),
    );
  models
    .command('list')
    .description('list the models in the library')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((opts: Common) => callAndPrint(io, opts, (c) => c.call('models.list', {}), modelsTable));
  models
    .command('show')
    .description('show one model')
    .argument('<id>', 'model id', parseId)
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((id: number, opts: Common) => callAndPrint(io, opts, (c) => c.call('models.get', { id }), modelDetails));
  models
    .command('remove')
    .description('remove a model from the library (the file stays on disk)')
    .argument('<id>', 'model id', parseId)
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((id: number, opts: Common) =>
      callAndPrint(
        io,
        opts,
        (c) => c.call('models.remove', { id }),
        () => `Removed model ${id} from the library; its file was not touched.`,
      ),
    );

  models
    .command('scan')
    .description('add every GGUF model below a folder (a run, executed here)')
    .argument('<folder>', 'folder to scan')
    .option('--no-recursive', 'only the folder itself, not its subfolders')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((folder: string, opts: Common & { recursive: boolean }) =>
      runToEnd(io, opts, (c) => c.call('models.scan', { folder: path.resolve(folder), recursive: opts.recursive })),
    );
  models
    .command('benchmark')
    .description('load a model and measure prompt and generation speed (a run, executed here)')
    .argument('<id>', 'model id', parseId)
    .option('--prompt-tokens <n>', 'prompt length in tokens', '128')
    .option('--generate-tokens <n>', 'tokens to generate', '128')
    .option('--repetitions <n>', 'repetitions', '3')
    .option('--threads <n>', 'inference threads (default: the setting, else automatic)')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((id: number, opts: Common & { promptTokens: string; generateTokens: string; repetitions: string; threads?: string }) =>
      runToEnd(io, opts, (c) =>
        c.call('models.benchmark', {
          id,
          promptTokens: Number(opts.promptTokens),
          generateTokens: Number(opts.generateTokens),
          repetitions: Number(opts.repetitions),
          threads: opts.threads === undefined ? null : Number(opts.threads),
        }),
      ),
    );
}
