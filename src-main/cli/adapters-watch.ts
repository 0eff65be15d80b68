// `distillery adapters watch DIR --base MODEL`: waits in this process for a trainer's PEFT adapter, imports it once it
// is complete and links it to the training export it came from (the `adapters.watch` run; see docs/training.md).
import path from 'node:path';
import type { Command } from 'commander';
import { modelArg, runToEnd } from './open.js';
import { dataDirOption, jsonOption, usageError, type Common } from './options.js';
import type { Io } from './output.js';

export function addWatchCommand(adapters: Command, io: Io): void {
  adapters
    .command('watch')
    .description(
      "wait for a trainer's PEFT adapter in a folder (or a subfolder), import it once it is complete and link it to its training export; Ctrl+C stops waiting",
    )
    .argument('<dir>', "the trainer's output folder, or the training folder that holds it")
    .requiredOption('--base <model>', 'the base model the adapter was trained on (id or GGUF path)')
    .option('--name <name>', 'the name in the library (default: from the export, e.g. support-v2-axolotl, or the folder)')
    .option('--timeout <minutes>', 'give up after this many minutes (default: wait until stopped)')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((dir: string, opts: Common & { base: string; name?: string; timeout?: string }) => {
      const timeoutMinutes = opts.timeout === undefined ? undefined : Number(opts.timeout);
      if (timeoutMinutes !== undefined && !(timeoutMinutes > 0))
        throw usageError('badNumber', `--timeout must be a positive number of minutes, not "${opts.timeout}"`);
      let runId: number | null = null;
      const early: { runId: number; message: string }[] = [];
      const say = (message: string) => {
        if (!opts.json && message.startsWith('Waiting: ')) io.err(`\r${message}`.padEnd(70) + '\n');
      };
      return runToEnd(
        io,
        opts,
        async (c) => {
          // the run logs what it waits for as soon as it starts, before its id is returned
          c.on('runs.log', ({ runId: id, log }) => {
            if (runId === null) early.push({ runId: id, message: log.message });
            else if (id === runId) say(log.message);
          });
          const started = await c.call('adapters.watch', {
            dir: path.resolve(dir),
            baseModelId: await modelArg(c, opts.base),
            ...(opts.name ? { name: opts.name } : {}),
            ...(timeoutMinutes !== undefined ? { timeoutMinutes } : {}),
          });
          runId = started.runId;
          for (const e of early.splice(0)) if (e.runId === runId) say(e.message);
          return started;
        },
        async (c, id) => {
          const detail = await c.call('runs.get', { id });
          const ref = detail.lineage.find((l) => l.direction === 'output' && l.kind === 'adapter')?.ref;
          if (ref === undefined) throw new Error(`run ${id} ended without an adapter`);
          const adapter = await c.call('adapters.get', { id: Number(ref) });
          const imported = detail.logs.some((l) => l.message.startsWith('Imported '));
          const text =
            `adapter ${adapter.id} ${adapter.name}: ${adapter.tensorCount} tensors, rank ${adapter.rank}, alpha ${adapter.alpha}, ` +
            `targets ${adapter.targets.join(', ')}${imported ? '' : ' (already in the library: linked, not imported again)'}\n${adapter.note}`;
          return { key: 'adapter', value: { runId: id, imported, adapter }, text, alone: true };
        },
      );
    });
}
