// `distillery runs …`: every long operation's run as SQLite keeps it (list, show), and resuming or cancelling one.
import { Option, type Command } from 'commander';
import { RUN_STATUSES, type RunStatus } from '../../src-shared/domain/runs.js';
import type { RunChain } from '../../src-shared/domain/chain.js';
import { JOB_KINDS, type JobKindName } from '../../src-shared/contract/jobs.js';
import { callAndPrint, runToEnd, withClient } from './open.js';
import { dataDirOption, jsonOption, parseId, type Common } from './options.js';
import { print, runDetails, runsTable, type Io } from './output.js';

export function addRunCommands(program: Command, io: Io): void {
  const runs = program.command('runs').description('runs: every long operation, kept in SQLite');
  runs
    .command('list')
    .description('list runs, newest first')
    .addOption(new Option('--status <status>', 'only runs with this status').choices(RUN_STATUSES))
    .addOption(new Option('--kind <kind>', 'only runs of this kind').choices(JOB_KINDS))
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((opts: Common & { status?: RunStatus; kind?: JobKindName }) =>
      callAndPrint(io, opts, (c) => c.call('runs.list', { status: opts.status, kind: opts.kind }), runsTable),
    );
  runs
    .command('show')
    .description("show a run's config, progress, log, metrics and lineage")
    .argument('<id>', 'run id', parseId)
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((id: number, opts: Common) => callAndPrint(io, opts, (c) => c.call('runs.get', { id }), runDetails));
  runs
    .command('chain')
    .description('the steps that led to a run and those made from it: prompts → teacher → answers → curation → export → adapter → … → evaluation')
    .argument('<id>', 'run id', parseId)
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((id: number, opts: Common) => callAndPrint(io, opts, (c) => c.call('runs.chain', { id }), chainText));
  runs
    .command('resume')
    .description('resume an interrupted, failed or cancelled run here, from where it stopped')
    .argument('<id>', 'run id', parseId)
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((id: number, opts: Common) =>
      runToEnd(io, opts, async (c) => {
        await c.call('runs.resume', { id });
        return { runId: id };
      }),
    );
  runs
    .command('cancel')
    .description('cancel a queued or running run (also one running in the app or in serve)')
    .argument('<id>', 'run id', parseId)
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((id: number, opts: Common) =>
      withClient(io, opts, async (c) => {
        let r = await c.call('runs.cancel', { id });
        // A run of another process: its owner notices the request within a second
        for (let i = 0; i < 100 && r.status === 'running'; i++) {
          await new Promise((ok) => setTimeout(ok, 100));
          r = await c.call('runs.get', { id });
        }
        print(io, opts, r, () => `run ${id}: ${r.status}`);
        if (r.status === 'running') throw new Error(`run ${id} is still running: is the process that runs it responsive?`);
      }),
    );
}

/** One line per step, column by column: the column, what the step is (a run: its kind, id and status), its label. */
function chainText(c: RunChain): string {
  const lines = c.steps.map((s) => {
    const what = s.run ? `${s.run.kind} #${s.run.id} ${s.run.status}` : s.kind;
    return `${String(s.depth).padStart(3)}  ${what.padEnd(34)} ${s.label}${s.run?.id === c.runId ? '  ◀ this run' : ''}`;
  });
  return [...lines, ...(c.truncated ? ['… the chain goes on: run `distillery runs chain` on a step at either end'] : [])].join('\n');
}
