// `distillery datasets …`: import, list, show, export, dedupe, split, scan, commit, diff.
import { Option, type Command } from 'commander';
import type { Client } from '../../src-shared/client.js';
import { IMPORT_CONTAINERS, JSON_FORMATS, messageText, type ImportContainer, type JsonRecordFormat, type Split } from '../../src-shared/domain/datasets.js';
import { callAndPrint, runToEnd, withClient } from './open.js';
import { dataDirOption, jsonOption, parseRef, usageError, type Common } from './options.js';
import { print, table, type Io } from './output.js';

export function addDatasetCommands(program: Command, io: Io): void {
  const datasets = program.command('datasets').description('domain datasets: import, browse, curate, split, dedupe, version, export');
  datasets
    .command('import')
    .description('import a file as a new dataset, or add it to one (--append) as its next version (a run, executed here)')
    .argument('<file>', 'JSONL or JSON (OpenAI chat, ShareGPT, Alpaca, prompt/completion), CSV/TSV, plain text (one prompt per line) or Parquet')
    .requiredOption('--name <name>', "the dataset's name")
    .addOption(new Option('--format <format>', 'record format').choices([...JSON_FORMATS, 'auto']).default('auto'))
    .addOption(new Option('--type <container>', 'file type').choices([...IMPORT_CONTAINERS, 'auto']).default('auto'))
    .option('--prompt-column <column>', 'tables: the column holding the prompt')
    .option('--response-column <column>', 'tables: the column holding the answer')
    .option('--system-column <column>', 'tables: the column holding the system prompt')
    .option('--append', 'add the examples to the existing dataset NAME as its next version')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action(
      (
        file: string,
        opts: Common & {
          name: string;
          format: JsonRecordFormat | 'auto';
          type: ImportContainer | 'auto';
          promptColumn?: string;
          responseColumn?: string;
          systemColumn?: string;
          append?: boolean;
        },
      ) =>
        runToEnd(io, opts, (c) => {
          if (!opts.promptColumn && (opts.responseColumn || opts.systemColumn)) {
            throw usageError('badMapping', '--response-column and --system-column need --prompt-column');
          }
          const mapping = opts.promptColumn
            ? {
                prompt: opts.promptColumn,
                ...(opts.responseColumn ? { response: opts.responseColumn } : {}),
                ...(opts.systemColumn ? { system: opts.systemColumn } : {}),
              }
            : undefined;
          return c.call('datasets.import', {
            path: file,
            name: opts.name,
            format: opts.format,
            container: opts.type,
            ...(mapping ? { mapping } : {}),
            append: opts.append ?? false,
          });
        }),
    );
  datasets
    .command('list')
    .description('list datasets')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((opts: Common) =>
      callAndPrint(
        io,
        opts,
        (c) => c.call('datasets.list', {}),
        (list) =>
          list.length === 0
            ? 'No datasets yet. Import one with: distillery datasets import <file.jsonl> --name NAME'
            : table(
                ['NAME', 'VERSION', 'EXAMPLES', 'CREATED'],
                list.map((d) => [d.name, String(d.latest.number), String(d.latest.exampleCount), d.createdAt.replace('T', ' ').slice(0, 19)]),
              ),
      ),
    );
  datasets
    .command('show')
    .description('show a dataset (NAME or NAME@VERSION) with its first examples')
    .argument('<dataset>', 'NAME or NAME@VERSION')
    .option('--limit <n>', 'examples to show', '5')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((ref: string, opts: Common & { limit: string }) =>
      withClient(io, opts, async (c) => {
        const { name, version } = parseRef(ref);
        const d = await c.call('datasets.get', { name, version, previewLimit: Number(opts.limit) });
        print(io, opts, d, () =>
          [
            `${d.name}@${d.version.number}${d.version.state === 'draft' ? ' (working copy)' : ''}  ${d.version.exampleCount} examples  (${d.versions.length} version${d.versions.length === 1 ? '' : 's'})`,
            d.version.message,
            `splits: train ${d.splits.train}, validation ${d.splits.validation}, test ${d.splits.test}, none ${d.splits.none}${d.testFrozen ? ' (test frozen)' : ''}`,
            ...(d.tags.length ? [`tags: ${d.tags.map((t) => `${t.tag} (${t.count})`).join(', ')}`] : []),
            ...(d.draft && d.draft.operations.length ? [`working copy → version ${d.draft.number}: ${d.draft.operations.map((o) => o.label).join('; ')}`] : []),
            ...d.versions.map((v) => `  v${v.number}  ${String(v.exampleCount).padStart(8)}  ${v.message}`),
            ...d.preview.map(
              (e, i) => `\n#${i + 1}\n` + e.messages.map((m) => `  ${m.role.padEnd(9)} ${messageText(m).replace(/\s+/g, ' ').slice(0, 160)}`).join('\n'),
            ),
          ].join('\n'),
        );
      }),
    );

  datasets
    .command('export')
    .description('write a committed version in a training format, all or per split, with a manifest beside it (a run, executed here)')
    .argument('<dataset>', 'NAME or NAME@VERSION')
    .addOption(
      new Option('--format <format>', 'record format, or parquet (OpenAI chat records unless --record)')
        .choices(['openai', 'sharegpt', 'alpaca', 'parquet'])
        .makeOptionMandatory(),
    )
    .addOption(new Option('--record <format>', 'record format inside a Parquet file').choices(['openai', 'sharegpt', 'alpaca']).default('openai'))
    .addOption(
      new Option('--split <split>', 'all examples, one file per split, or one split').choices(['all', 'each', 'train', 'validation', 'test']).default('all'),
    )
    .requiredOption('--out <file>', 'the file to write (.jsonl or .parquet); with --split each, NAME.<split>.EXT beside it')
    .option('--force', 'replace files that already exist')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action(
      (
        ref: string,
        opts: Common & {
          format: 'openai' | 'sharegpt' | 'alpaca' | 'parquet';
          record: 'openai' | 'sharegpt' | 'alpaca';
          split: 'all' | 'each' | Split;
          out: string;
          force?: boolean;
        },
      ) =>
        runToEnd(io, opts, (c) => {
          const { name, version } = parseRef(ref);
          const parquet = opts.format === 'parquet';
          return c.call('datasets.export', {
            name,
            version,
            format: parquet ? opts.record : (opts.format as 'openai' | 'sharegpt' | 'alpaca'),
            container: parquet ? 'parquet' : 'jsonl',
            split: opts.split,
            out: opts.out,
            replace: opts.force === true,
          });
        }),
    );
  datasets
    .command('dedupe')
    .description('remove duplicates (exact, or near with --near), keeping one per cluster, and commit a new version (a run, executed here)')
    .argument('<dataset>', 'NAME')
    .option('--near <similarity>', 'near-duplicates at this Jaccard similarity (MinHash + LSH), e.g. 0.85')
    .option('--message <text>', "the new version's message")
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((name: string, opts: Common & { near?: string; message?: string }) =>
      runToEnd(io, opts, async (c) => {
        const near = opts.near === undefined ? undefined : Number(opts.near);
        if (near !== undefined && !(near >= 0.5 && near <= 1)) throw usageError('badNear', `--near must be between 0.5 and 1, not ${opts.near}`);
        const message = opts.message ?? (near === undefined ? 'Removed exact duplicates' : `Removed near-duplicates (similarity ≥ ${near})`);
        return c.call('datasets.dedupe', { name, ...(near === undefined ? {} : { near }), apply: true, commitMessage: message });
      }),
    );
  datasets
    .command('split')
    .description('assign train/validation/test with a seed (ratios, or counts for validation and test) and commit a new version')
    .argument('<dataset>', 'NAME')
    .option('--train <ratio>', 'train ratio', '0.8')
    .option('--val <ratio>', 'validation ratio (or a count with --counts)', '0.1')
    .option('--test <ratio>', 'test ratio (or a count with --counts)', '0.1')
    .option('--counts', '--val and --test are numbers of examples; the rest is train')
    .option('--stratify', 'keep the proportions within each tag combination')
    .option('--seed <n>', 'random seed', '42')
    .option('--freeze-test', 'freeze the test split afterwards')
    .option('--message <text>', "the new version's message")
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action(
      (
        name: string,
        opts: Common & { train: string; val: string; test: string; counts?: boolean; stratify?: boolean; seed: string; freezeTest?: boolean; message?: string },
      ) =>
        withClient(io, opts, async (c) => {
          await refuseUncommitted(c, name);
          const split = await c.call('datasets.split', {
            name,
            ...(opts.counts
              ? { counts: { validation: Number(opts.val), test: Number(opts.test) } }
              : { ratios: { train: Number(opts.train), validation: Number(opts.val), test: Number(opts.test) } }),
            seed: Number(opts.seed),
            stratify: opts.stratify ?? false,
          });
          const version = split.affected > 0 ? await c.call('datasets.commit', { name, message: opts.message ?? split.label }) : null;
          if (opts.freezeTest) await c.call('datasets.freezeTest', { name, frozen: true });
          const d = await c.call('datasets.get', { name, previewLimit: 0 });
          print(io, opts, { ...split, version, splits: d.splits }, () =>
            version
              ? `${name}@${version.number}: train ${d.splits.train}, validation ${d.splits.validation}, test ${d.splits.test}${opts.freezeTest ? ' (test frozen)' : ''}`
              : `No change: ${name} already has this split.`,
          );
        }),
    );
  datasets
    .command('scan')
    .description('flag examples with quality problems and PII (or redact PII) in the working copy (a run, executed here)')
    .argument('<dataset>', 'NAME')
    .addOption(new Option('--pii <action>', 'what to do with PII').choices(['off', 'flag', 'redact']).default('flag'))
    .option('--no-quality', 'skip the quality checks')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((name: string, opts: Common & { pii: 'off' | 'flag' | 'redact'; quality: boolean }) =>
      runToEnd(io, opts, (c) => c.call('datasets.scan', { name, quality: opts.quality, pii: opts.pii })),
    );
  datasets
    .command('commit')
    .description('commit the working copy as a new version')
    .argument('<dataset>', 'NAME')
    .requiredOption('-m, --message <text>', 'what changed')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((name: string, opts: Common & { message: string }) =>
      callAndPrint(
        io,
        opts,
        (c) => c.call('datasets.commit', { name, message: opts.message }),
        (v) => `${name}@${v.number}: ${v.exampleCount} examples`,
      ),
    );
  datasets
    .command('diff')
    .description('compare two versions: added, removed, changed, relabeled')
    .argument('<dataset>', 'NAME')
    .requiredOption('--from <version>', 'the older version')
    .option('--to <version>', 'the newer version (default: the working copy or latest)')
    .option('--limit <n>', 'differences to list', '20')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((name: string, opts: Common & { from: string; to?: string; limit: string }) =>
      callAndPrint(
        io,
        opts,
        (c) => c.call('datasets.diff', { name, from: Number(opts.from), ...(opts.to ? { to: Number(opts.to) } : {}), limit: Number(opts.limit) }),
        (d) =>
          [
            `${name}@${d.from} → @${d.to}: ${d.added} added, ${d.removed} removed, ${d.changed} changed, ${d.relabeled} relabeled`,
            ...d.rows.map(
              (r) =>
                `  #${r.position} ${r.change.padEnd(9)} ${
                  (r.after ?? r.before)!.messages
                    .find((m) => m.role === 'user')
                    ?.content.replace(/\s+/g, ' ')
                    .slice(0, 100) ?? ''
                }`,
            ),
          ].join('\n'),
      ),
    );
}

/** One-shot CLI curation commits what it did: refuse when the app's working copy holds someone's uncommitted changes. */
async function refuseUncommitted(c: Client, name: string): Promise<void> {
  const d = await c.call('datasets.get', { name, previewLimit: 0 });
  if (d.draft && d.draft.operations.length > 0) {
    throw new Error(
      `${name} has ${d.draft.operations.length} uncommitted change(s) in its working copy; commit them (distillery datasets commit ${name} -m …) or discard them in the app first`,
    );
  }
}
