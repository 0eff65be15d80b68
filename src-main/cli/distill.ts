// `distillery distill`: a teacher (a local model or an OpenAI-compatible server) answers a dataset's prompts, an optional
// judge scores the answers, and the kept answers become a new dataset.
import fs from 'node:fs';
import { Option, type Command } from 'commander';
import { runToEnd } from './open.js';
import { collect, dataDirOption, jsonOption, parseId, parseRef, readJsonFile, usageError, type Common } from './options.js';
import type { Io } from './output.js';
import { parseEndpoint, parseFleet } from './fleet-args.js';
import { DEFAULT_ENDPOINT_CONCURRENCY } from '../../src-shared/contract/distill.js';

/**
 * The teacher of `--teacher` given once (a library model id, or a server: URL with --model-name, or URL#model) or
 * repeated (a fleet: every --teacher a server, URL#model[@N]); the key options apply to every server.
 */
function teacherArg<K extends object>(
  o: { teacher: string[]; modelName?: string | undefined; teacherConcurrency?: string | undefined },
  key: K,
): { modelId: number } | ({ baseUrl: string; model: string } & K) | { endpoints: ({ baseUrl: string; model: string; concurrency: number } & K)[] } {
  if (o.teacher.length === 0) throw usageError('badTeacher', '--teacher is required: a model id, or http(s)://host:port/v1#model (repeat for a fleet)');
  if (o.teacher.length > 1) return parseFleet(o.teacher, '--teacher', o, key);
  if (o.teacherConcurrency) throw usageError('badTeacher', '--teacher-concurrency is for a fleet (two or more --teacher); use --parallel');
  const raw = o.teacher[0]!;
  if (!/^https?:\/\//i.test(raw)) return { modelId: parseId(raw) };
  if (!o.modelName && !raw.includes('#')) throw usageError('badTeacher', '--model-name is required with an http(s) teacher');
  const e = parseEndpoint(raw, '--teacher', o.modelName, DEFAULT_ENDPOINT_CONCURRENCY);
  if (/@\d+$/.test(new URL(raw).hash)) throw usageError('badTeacher', `--teacher ${raw}: @N (an endpoint's concurrency) is for a fleet; use --parallel`);
  return { baseUrl: e.baseUrl, model: e.model, ...key };
}

export function addDistillCommand(program: Command, io: Io): void {
  program
    .command('distill')
    .description("have a teacher answer a dataset's prompts; the answers become a new dataset (a run, executed here)")
    .requiredOption('--dataset <dataset>', 'NAME or NAME@VERSION (a committed version)')
    .addOption(new Option('--split <split>', 'which examples').choices(['train', 'validation', 'test', 'all']).default('all'))
    .option(
      '--teacher <model>',
      'a model id of the library (local GGUF), or an OpenAI-compatible server: http(s)://host:port/v1 (with --model-name) or http(s)://host:port/v1#model; ' +
        'repeat for a fleet of servers of the same model, each http(s)://host:port/v1#model[@N] (N: its concurrency)',
      collect,
      [],
    )
    .option('--model-name <name>', "the server's model name (with an http(s) teacher given without #model)")
    .option(
      '--teacher-concurrency <n>',
      `requests each endpoint of a fleet takes at once, unless its --teacher says @N (default ${DEFAULT_ENDPOINT_CONCURRENCY})`,
    )
    .option('--api-key-env <VAR>', 'the environment variable holding the API key (the key itself is never stored)')
    .option('--api-key-secret <name>', 'a saved API key (see `secrets set`), stored encrypted')
    .option('--parallel <k>', 'prompts answered at once (default: from the hardware)')
    .option('--samples <s>', 'answers per prompt', '1')
    .option('--temperature <t>', 'sampling temperature', '0.7')
    .option('--max-tokens <n>', 'longest answer, in tokens', '512')
    .option('--seed <n>', 'the run seed (each answer gets its own from it)', '42')
    .option('--system <text>', "the teacher's system prompt (default: each example's own)")
    .option('--template <text>', 'the prompt as the teacher sees it; {{prompt}}, {{system}}, {{reference}}', '{{prompt}}')
    .option('--limit <n>', 'answer only the first N prompts (a trial)')
    .option('--json-schema <file>', 'structured answers: a JSON schema file (a grammar on local teachers, response_format on servers)')
    .option('--logprobs <k>', "keep the teacher's top-k log-probabilities per token (soft labels; servers that return them)")
    .option('--keep-truncated', 'keep answers cut by the token limit')
    .option('--max-reject-rate <r>', 'fail the run when more than this share (0-1) of its answers is rejected', '0.5')
    .option('--judge <model>', 'LLM-as-judge: a model id or an http(s)://…/v1 server scores each answer against --rubric')
    .option('--judge-model-name <name>', "the judge server's model name (with an http(s) judge)")
    .option('--judge-api-key-secret <name>', "the judge server's saved API key")
    .option('--rubric <text>', 'what the judge checks, e.g. "Correct, complete, and polite"')
    .option('--rubric-file <file>', 'the rubric, from a file')
    .option('--judge-threshold <n>', 'answers scoring below this (1-10) are rejected', '6')
    .requiredOption('--out-name <name>', 'the new dataset holding the answers')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action(
      (
        opts: Common & {
          dataset: string;
          split: 'train' | 'validation' | 'test' | 'all';
          teacher: string[];
          modelName?: string;
          teacherConcurrency?: string;
          apiKeyEnv?: string;
          apiKeySecret?: string;
          judge?: string;
          judgeModelName?: string;
          judgeApiKeySecret?: string;
          rubric?: string;
          rubricFile?: string;
          judgeThreshold: string;
          parallel?: string;
          samples: string;
          temperature: string;
          maxTokens: string;
          seed: string;
          system?: string;
          template: string;
          limit?: string;
          jsonSchema?: string;
          logprobs?: string;
          keepTruncated?: boolean;
          maxRejectRate: string;
          outName: string;
        },
      ) =>
        runToEnd(io, opts, (c) => {
          const { name, version } = parseRef(opts.dataset);
          const key = { ...(opts.apiKeyEnv ? { apiKeyEnv: opts.apiKeyEnv } : {}), ...(opts.apiKeySecret ? { apiKeySecret: opts.apiKeySecret } : {}) };
          const teacher = teacherArg(opts, key);
          if (opts.judge && /^https?:\/\//.test(opts.judge) && !opts.judgeModelName) {
            throw usageError('badJudge', '--judge-model-name is required with an http(s) judge');
          }
          let rubric = opts.rubric;
          if (opts.rubricFile) {
            try {
              rubric = fs.readFileSync(opts.rubricFile, 'utf8');
            } catch (e) {
              throw usageError('badRubric', `--rubric-file: cannot read ${opts.rubricFile} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
            }
          }
          if (opts.judge && !rubric?.trim()) throw usageError('badJudge', '--judge needs --rubric or --rubric-file');
          const num = (v: string, flag: string) => {
            const n = Number(v);
            if (!Number.isFinite(n)) throw usageError('badNumber', `${flag} must be a number, not "${v}"`);
            return n;
          };
          return c.call('distill.start', {
            dataset: name,
            version,
            split: opts.split,
            teacher,
            ...(opts.judge
              ? {
                  judge: {
                    teacher: /^https?:\/\//.test(opts.judge)
                      ? { baseUrl: opts.judge, model: opts.judgeModelName!, ...(opts.judgeApiKeySecret ? { apiKeySecret: opts.judgeApiKeySecret } : {}) }
                      : { modelId: parseId(opts.judge) },
                    rubric: rubric!,
                    threshold: num(opts.judgeThreshold, '--judge-threshold'),
                  },
                }
              : {}),
            template: { system: opts.system ?? null, user: opts.template },
            generation: {
              samples: num(opts.samples, '--samples'),
              temperature: num(opts.temperature, '--temperature'),
              maxTokens: num(opts.maxTokens, '--max-tokens'),
              seed: num(opts.seed, '--seed'),
            },
            filters: { truncated: !opts.keepTruncated },
            maxRejectRate: num(opts.maxRejectRate, '--max-reject-rate'),
            ...(opts.parallel ? { parallel: num(opts.parallel, '--parallel') } : {}),
            ...(opts.limit ? { limit: num(opts.limit, '--limit') } : {}),
            ...(opts.logprobs ? { logprobs: num(opts.logprobs, '--logprobs') } : {}),
            ...(opts.jsonSchema ? { jsonSchema: readJsonFile(opts.jsonSchema, '--json-schema') } : {}),
            outName: opts.outName,
          });
        }),
    );
}
