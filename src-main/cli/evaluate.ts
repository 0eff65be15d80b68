// `distillery evaluate`: variants (a student, a quantized file, a model with adapters, a server, existing answers)
// against a dataset split, with a teacher — a run executed here that prints the leaderboard with intervals, the paired
// differences with the teacher, divergence and the systems table; `evaluate report` exports a run's report,
// `evaluate contamination` checks a split's n-gram overlap with training data, `evaluate send-to-curation` tags the
// examples where a student diverges most.
import fs from 'node:fs';
import { Option, type Command } from 'commander';
import type { Client } from '../../src-shared/client.js';
import type { ContaminationSummary, EvalMetric } from '../../src-shared/domain/evaluate.js';
import {
  numberOption,
  parseMetrics,
  parseSplitRef,
  parseVariantSpec,
  resolveJudge,
  resolveVariant,
  type ServerKey,
  type VariantInput,
  type VariantSpec,
} from './evaluate-args.js';
import { contaminationLine, reportText } from './evaluate-text.js';
import { parseFleet } from './fleet-args.js';
import { callAndPrint, runToEnd, withClient } from './open.js';
import {
  collect,
  dataDirOf,
  dataDirOption,
  intOption,
  jsonOption,
  parseId,
  readJsonFile,
  SPLIT_CHOICES,
  usageError,
  type Common,
  type SplitName,
} from './options.js';
import type { Io } from './output.js';

interface EvaluateOpts extends Common {
  dataset?: string;
  split: SplitName;
  variant: string[];
  teacher: string[];
  teacherConcurrency?: string;
  against: 'reference' | 'teacher';
  metrics?: string;
  regex?: string;
  schema?: string;
  judge?: string;
  judgeApiKeyEnv?: string;
  judgeApiKeySecret?: string;
  rubric?: string;
  temperature?: string;
  maxTokens?: string;
  seed?: string;
  limit?: string;
  parallel?: string;
  apiKeyEnv?: string;
  apiKeySecret?: string;
  /** commander's --no-divergence / --no-systems */
  divergence: boolean;
  systems: boolean;
  contamination: string[];
  contaminationN: string;
}

const MAX_VARIANTS = 8;

/** The API key options of a server: one of the two, or none. */
function serverKey(env: string | undefined, secret: string | undefined, flags: string): ServerKey {
  if (env && secret) throw usageError('badKey', `give ${flags} the API key as an environment variable or a saved secret, not both`);
  return { ...(env ? { apiKeyEnv: env } : {}), ...(secret ? { apiKeySecret: secret } : {}) };
}

/**
 * The metrics asked for (exact, f1, rougeL and chrF by default), plus the ones --regex, --schema and --judge exist for
 * when the list lacks them (--judge adds the rubric score unless the pairwise judge is asked for).
 */
function metricsArg(o: EvaluateOpts): EvalMetric[] {
  const list: EvalMetric[] = o.metrics ? parseMetrics(o.metrics) : ['exact', 'f1', 'rougeL', 'chrf'];
  if (o.regex && !list.includes('regex')) list.push('regex');
  if (o.schema && !list.includes('schema')) list.push('schema');
  if (o.judge && !list.includes('judge') && !list.includes('pairwise')) list.push('judge');
  return list;
}

/** Everything evaluate.start needs that can be read without the library: a bad argument is refused before it opens. */
function readArgs(o: EvaluateOpts) {
  if (!o.dataset) throw usageError('badDataset', 'give the dataset to evaluate on: --dataset NAME[@VERSION]');
  const dataset = parseSplitRef(o.dataset, '--dataset', o.split);
  const specs: { raw: string; flag: string; spec: VariantSpec }[] = o.variant.map((raw) => ({
    raw,
    flag: '--variant',
    spec: parseVariantSpec(raw, '--variant'),
  }));
  if (o.teacher.length > 1) specs.push({ raw: o.teacher.join(' '), flag: '--teacher', spec: { kind: 'fleet', ...parseFleet(o.teacher, '--teacher', o, {}) } });
  else if (o.teacher.length === 1) specs.push({ raw: o.teacher[0]!, flag: '--teacher', spec: parseVariantSpec(o.teacher[0]!, '--teacher') });
  if (o.teacherConcurrency && o.teacher.length < 2) throw usageError('badTeacher', '--teacher-concurrency is for a fleet (two or more --teacher)');
  if (specs.length === 0) throw usageError('badVariant', 'give at least one --variant SPEC (and a --teacher SPEC to compare with)');
  if (specs.length > MAX_VARIANTS) throw usageError('badVariant', `at most ${MAX_VARIANTS} variants in one run (the teacher counts), not ${specs.length}`);
  const metrics = metricsArg(o);
  if (o.judge && !o.rubric?.trim()) throw usageError('badJudge', '--judge needs --rubric TEXT (what the judge checks)');
  if (o.rubric && !o.judge) throw usageError('badJudge', '--rubric needs --judge SPEC (the model that judges)');
  const contaminationN = intOption(o.contaminationN, '--contamination-n');
  if ((o.apiKeyEnv || o.apiKeySecret) && !specs.some((s) => s.spec.kind === 'server' || s.spec.kind === 'fleet')) {
    throw usageError('badKey', '--api-key-env and --api-key-secret are for http(s) variants; none was given (a judge server takes --judge-api-key-…)');
  }
  if ((o.judgeApiKeyEnv || o.judgeApiKeySecret) && !/^https?:\/\//i.test(o.judge ?? '')) {
    throw usageError('badKey', '--judge-api-key-env and --judge-api-key-secret are for an http(s) --judge');
  }
  return {
    dataset,
    specs,
    metrics,
    key: serverKey(o.apiKeyEnv, o.apiKeySecret, 'server variants'),
    judgeKey: serverKey(o.judgeApiKeyEnv, o.judgeApiKeySecret, '--judge'),
    jsonSchema: o.schema ? readJsonFile(o.schema, '--schema') : undefined,
    generation: {
      ...(o.temperature !== undefined ? { temperature: numberOption(o.temperature, '--temperature') } : {}),
      ...(o.maxTokens !== undefined ? { maxTokens: intOption(o.maxTokens, '--max-tokens') } : {}),
      ...(o.seed !== undefined ? { seed: numberOption(o.seed, '--seed') } : {}),
    },
    contamination: o.contamination.length
      ? { against: o.contamination.map((r) => againstRef(r, '--contamination', dataset.dataset)), n: contaminationN }
      : undefined,
  };
}

/** A dataset checked against; without a split, the train split of the evaluated dataset itself, else all of it. */
function againstRef(raw: string, flag: string, evaluated: string) {
  const ref = parseSplitRef(raw, flag, 'all');
  const explicit = /:(train|validation|test|all)$/.test(raw);
  return explicit || ref.dataset !== evaluated ? ref : { ...ref, split: 'train' as const };
}

async function startEvaluation(c: Client, o: EvaluateOpts, a: ReturnType<typeof readArgs>): Promise<{ runId: number }> {
  const variants: VariantInput[] = [];
  for (const s of a.specs) variants.push(await resolveVariant(c, s.spec, s.raw, s.flag, a.key, a.dataset.dataset));
  return c.call('evaluate.start', {
    dataset: a.dataset.dataset,
    ...(a.dataset.version ? { version: a.dataset.version } : {}),
    split: a.dataset.split,
    variants,
    teacher: o.teacher.length ? variants.length - 1 : null,
    against: o.against,
    metrics: a.metrics,
    ...(o.regex ? { regex: o.regex } : {}),
    ...(a.jsonSchema ? { jsonSchema: a.jsonSchema } : {}),
    ...(o.judge ? { judge: { model: await resolveJudge(c, o.judge, a.judgeKey), rubric: o.rubric! } } : {}),
    generation: a.generation,
    ...(o.parallel ? { parallel: intOption(o.parallel, '--parallel') } : {}),
    ...(o.limit ? { limit: intOption(o.limit, '--limit') } : {}),
    divergence: o.divergence,
    systems: o.systems,
    ...(a.contamination ? { contamination: a.contamination } : {}),
  });
}

/** The warnings a run logged (a predictions file's bad lines, answers that failed), for the text output. */
async function warningsOf(c: Client, runId: number): Promise<string[]> {
  return (await c.call('runs.get', { id: runId })).logs.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => l.message);
}

export function addEvaluateCommands(program: Command, io: Io): void {
  const evaluate = program
    .command('evaluate')
    .description('variants against a dataset split and a teacher: metrics with 95% intervals, divergence, systems table; reports, contamination')
    .addHelpText('after', '\n`distillery evaluate --dataset … --variant …` runs `evaluate run` (see `distillery evaluate run --help`).');
  // The evaluation itself is the default subcommand, so `evaluate --dataset …` runs it and `evaluate` has no options of
  // its own that would take the subcommands' (--data-dir, --json, --variant, --against) before they see them.
  evaluate
    .command('run', { isDefault: true })
    .description('variants against a dataset split and a teacher: metrics with 95% intervals, divergence, systems table (a run, executed here)')
    .option('--dataset <dataset>', 'NAME, NAME@VERSION or NAME@VERSION:split (a committed version; required)')
    .addOption(new Option('--split <split>', 'which examples').choices(SPLIT_CHOICES).default('test'))
    .option(
      '--variant <spec>',
      "what answers, repeat for several: a model id or GGUF file [+adapter[:scale]…], http(s)://host/v1#model, answers:DATASET[@v] (a distillation run's answers) or predictions:FILE.jsonl",
      collect,
      [],
    )
    .option(
      '--teacher <spec>',
      'the teacher, added as the last variant: the paired differences, divergence and routing compare with it; repeat for a fleet of servers of the same model, each http(s)://host/v1#model[@N] (N: its concurrency)',
      collect,
      [],
    )
    .option('--teacher-concurrency <n>', 'requests each endpoint of a teacher fleet takes at once, unless its --teacher says @N (default 8)')
    .addOption(
      new Option('--against <what>', "score answers against the examples' references or the teacher's answers")
        .choices(['reference', 'teacher'])
        .default('reference'),
    )
    .option(
      '--metrics <list>',
      'comma-separated: exact, contains, regex, f1, rougeL, chrf, json, schema, judge, pairwise (default: exact,f1,rougeL,chrf; --regex, --schema and --judge add theirs; length is always measured)',
    )
    .option('--regex <pattern>', 'the pattern of the regex metric')
    .option('--schema <file>', 'a JSON schema file for the schema metric')
    .option('--judge <spec>', 'LLM judge for the judge (1-10) and pairwise metrics: a model id or GGUF file, or http(s)://host/v1#model')
    .option('--rubric <text>', 'what the judge checks')
    .option('--judge-api-key-env <VAR>', "the judge server's API key, from this environment variable")
    .option('--judge-api-key-secret <name>', "the judge server's saved API key (see `secrets set`)")
    .option('--api-key-env <VAR>', "server variants' API key, from this environment variable (never stored)")
    .option('--api-key-secret <name>', "server variants' saved API key (see `secrets set`)")
    .option('--temperature <t>', 'sampling temperature of every generated answer (default 0)')
    .option('--max-tokens <n>', 'longest answer, in tokens (default 256)')
    .option('--seed <n>', 'the seed every variant answers each example with (default 42)')
    .option('--limit <n>', 'evaluate only the first N examples of the split (a trial)')
    .option('--parallel <n>', 'answers generated at once per variant (default: from the hardware)')
    .option('--no-divergence', "don't score the students' divergence from the teacher")
    .option('--no-systems', "don't measure load time, speed and memory in a fresh engine")
    .option(
      '--contamination <dataset>',
      "also check n-gram overlap with NAME[@v][:split] (without a split: the evaluated dataset's train split, another dataset whole); repeat for several",
      collect,
      [],
    )
    .option('--contamination-n <n>', 'the n of the n-grams', '13')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((o: EvaluateOpts) => {
      const args = readArgs(o);
      return runToEnd(
        io,
        o,
        (c) => startEvaluation(c, o, args),
        async (c, runId) => {
          const report = await c.call('evaluate.report', { runId });
          return { key: 'report', value: report, text: reportText(report, await warningsOf(c, runId)), alone: true };
        },
      );
    });

  evaluate
    .command('report')
    .description("an evaluation run's report as Markdown, CSV (the leaderboard and the systems table) or JSON")
    .argument('<run>', 'the evaluation run id', parseId)
    .addOption(new Option('--format <format>', 'file format').choices(['md', 'csv', 'json']).makeOptionMandatory())
    .addOption(new Option('--table <table>', 'which tables (md, csv)').choices(['systems', 'leaderboard', 'all']).default('all'))
    .option('--out <file>', 'write it to this file instead of standard output')
    .option('--force', 'replace the file if it already exists')
    .addOption(dataDirOption(io))
    .action((runId: number, o: Common & { format: 'md' | 'csv' | 'json'; table: 'systems' | 'leaderboard' | 'all'; out?: string; force?: boolean }) =>
      withClient(io, o, async (c) => {
        const { text } = await c.call('evaluate.export', { runId, format: o.format, table: o.table });
        if (!o.out) return io.out(text.endsWith('\n') ? text : `${text}\n`);
        // the rule of every file the app writes: an existing folder, none of the data folder's own files, no silent replace
        const { checkOutputPath } = await import('../core/files/output-path.js');
        const file = checkOutputPath(o.out, { dataDir: dataDirOf(io, o), replace: o.force === true, field: '--out' });
        const tmp = `${file}.${process.pid}.tmp`;
        try {
          fs.writeFileSync(tmp, text);
          fs.renameSync(tmp, file);
        } catch (e) {
          fs.rmSync(tmp, { force: true });
          throw new Error(`--out: cannot write ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
        io.err(`wrote ${file}\n`);
      }),
    );

  evaluate
    .command('contamination')
    .description('n-gram overlap of an evaluation split with training data or any dataset version (a run, executed here)')
    .requiredOption('--eval <dataset>', 'NAME[@VERSION][:split] (default split: test)')
    .requiredOption(
      '--against <dataset>',
      'NAME[@VERSION][:split] (without a split: the train split of the --eval dataset, another dataset whole); repeat for several',
      collect,
      [],
    )
    .option('--n <n>', 'the n of the n-grams', '13')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((o: Common & { eval: string; against: string[]; n: string }) => {
      const evalRef = parseSplitRef(o.eval, '--eval', 'test');
      const against = o.against.map((r) => againstRef(r, '--against', evalRef.dataset));
      const n = intOption(o.n, '--n');
      return runToEnd(
        io,
        o,
        (c) => c.call('evaluate.contamination', { eval: evalRef, against, n }),
        async (c, runId) => {
          const found = (await c.call('evaluate.contaminationOf', { runId })) as ContaminationSummary;
          return { key: 'contamination', value: found, text: `run ${runId}: ${contaminationLine(found)}`, alone: true };
        },
      );
    });

  evaluate
    .command('send-to-curation')
    .description("tag the examples where a student diverges most in the source dataset's working copy (undoable there)")
    .argument('<run>', 'the evaluation run id', parseId)
    .requiredOption('--variant <n>', 'the student: its number in the leaderboard (1 = the first variant)')
    .option('--top <n>', 'the N most divergent examples')
    .option('--positions <list>', '...or these example positions, e.g. 1,2,3')
    .option('--tag <tag>', 'the tag', 'diverges')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((runId: number, o: Common & { variant: string; top?: string; positions?: string; tag: string }) => {
      if (!o.top === !o.positions) throw usageError('badSelection', 'give either --top N or --positions 1,2,3');
      const variant = intOption(o.variant, '--variant') - 1;
      const positions = o.positions?.split(',').map((p) => {
        const x = Number(p.trim());
        if (!Number.isInteger(x) || x < 0) throw usageError('badPositions', `--positions: "${p}" is not an example position`);
        return x;
      });
      return callAndPrint(
        io,
        o,
        (c) =>
          c.call('evaluate.sendToCuration', {
            runId,
            variant,
            ...(o.top ? { top: intOption(o.top, '--top') } : {}),
            ...(positions ? { positions } : {}),
            tag: o.tag,
          }),
        (r) =>
          `${r.label}: ${r.affected} tagged${r.skipped ? `, ${r.skipped} left alone` : ''} in the working copy${r.draft ? ` (version ${r.draft.number} when committed)` : ''}`,
      );
    });
}
