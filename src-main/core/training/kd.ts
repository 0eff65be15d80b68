/**
 * Soft labels for knowledge distillation (issue 15, point 2): a dataset version made by a distillation run that kept
 * the teacher's top-k log-probabilities, exported for the student in Axolotl's KD format and in the app's compact
 * form (docs/training.md, "Soft labels (KD)"; the rows' alignment in kd-records.ts).
 *
 * The run behind a version: version 1 of the dataset was written by a `distill.generate` run (its output dataset); a
 * later curated version keeps the examples' positions (datasets/draft.ts copies them), and each example maps to the
 * answer written at its position (`distill_answers.out_position`). An example added after the run, or whose
 * conversation or answer was edited since, is SKIPPED with the reason — never given another answer's labels.
 *
 * `check` refuses before the export starts: no distillation run behind the version; a run that kept no soft labels;
 * a local teacher whose vocabulary is not the student's (evaluate/vocabulary.ts); a token of the stored top-k the
 * student does not have (named, with its example: the whole version is scanned, a page at a time). `write` walks the
 * version a page at a time and streams both files; nothing of the dataset is held beyond a page.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DatasetsService } from '../datasets/service.js';
import type { DistillStore } from '../distill/store.js';
import type { LlmEngine } from '../llm/engine.js';
import type { RunsStore } from '../runs/store.js';
import { readGgufHeader } from '../gguf/header.js';
import { checkSameVocabulary } from '../evaluate/vocabulary.js';
import { SoftLabelMapper } from '../evaluate/soft-labels.js';
import { CHATML_TEMPLATE, chatRenderer, kdRecord, renderTexts } from './kd-records.js';
import type { KdCheck, KdSource, KdStudent, KdSummary, KdWriter } from './kd-types.js';
import type { ChatMessage, ExampleRow } from '../../../src-shared/domain/datasets.js';
import type { JobConfig } from '../../../src-shared/contract/jobs.js';
import type { TokenLogprob } from '../../../src-shared/domain/distill.js';
import { AppError } from '../../../src-shared/errors.js';

export interface KdDeps {
  datasets: DatasetsService;
  distill: DistillStore;
  runs: RunsStore;
  engine: LlmEngine;
}

export const KD_FILE = 'data/kd.jsonl';
export const KD_COMPACT_FILE = 'data/kd-compact.jsonl';
const PAGE = 200;

/** The distillation run behind a version, and what its labels are. */
interface KdRun {
  runId: number;
  config: JobConfig<'distill.generate'>;
  k: number;
  /**
   * The temperature of the stored distributions: a local teacher's are softmax(logits / T) at the run's T (1 when
   * greedy, native/batch-generator.ts); a server's (llama-server, OpenAI) are of the raw logits, T = 1.
   */
  temperature: number;
}

type Visit = (example: ExampleRow, answer: { position: number; sample: number }, labels: { k: number; tokens: TokenLogprob[] }) => Promise<void> | void;

const label = (s: KdSource) => `${s.dataset}@${s.version}${s.split === 'all' ? '' : ` (${s.split})`}`;

const sameMessage = (a: ChatMessage, b: ChatMessage) =>
  a.role === b.role && a.content === b.content && JSON.stringify(a.tool_calls ?? null) === JSON.stringify(b.tool_calls ?? null);

export function makeKd(deps: KdDeps): { check: KdCheck; write: KdWriter } {
  const { datasets, distill, runs, engine } = deps;

  function runBehind(source: KdSource): KdRun {
    const first = datasets.resolve(source.dataset, 1).version;
    const kind = first.runId === null ? null : runs.row(first.runId).kind;
    if (first.runId === null || kind !== 'distill.generate') {
      throw new AppError(
        'invalid_input',
        `${source.dataset}@${source.version} was not made by a distillation run (${source.dataset}@1 came from ${kind ? `a ${kind} run` : 'no run'}): there are no soft labels to export`,
        'kd',
      );
    }
    const config = runs.config(first.runId, 'distill.generate');
    if (!config.logprobs) {
      throw new AppError(
        'invalid_input',
        `distillation run ${first.runId}, which made ${source.dataset}, kept no soft labels: distill again with top-k log-probabilities (logprobs) to export for KD`,
        'kd',
      );
    }
    if (!distill.hasLogprobs(first.runId)) {
      throw new AppError(
        'invalid_input',
        `distillation run ${first.runId} asked ${config.teacher.name} for soft labels but none were saved (the teacher returned no log-probabilities)`,
        'kd',
      );
    }
    const t = config.generation.temperature;
    return { runId: first.runId, config, k: config.logprobs, temperature: config.teacher.kind === 'local' && t > 0 ? t : 1 };
  }

  /** Each example of the version's split with its answer's labels; the others go to `skip` with the reason. */
  async function walk(source: KdSource, run: KdRun, signal: AbortSignal | undefined, visit: Visit, skip: (position: number, reason: string) => void) {
    const total = datasets.countIn(source.versionId, source.split);
    let after = Number.MIN_SAFE_INTEGER;
    for (let seen = 0; seen < total;) {
      const rows = datasets.examplesAfter(source.versionId, after, Math.min(PAGE, total - seen), source.split);
      if (rows.length === 0) break;
      seen += rows.length;
      after = rows.at(-1)!.position;
      const answers = distill.atOutPositions(
        run.runId,
        rows.map((r) => r.position),
      );
      for (const r of rows) {
        if (signal?.aborted) throw new AppError('cancelled', 'the KD export was cancelled');
        const a = answers.get(r.position);
        const last = r.messages.at(-1);
        if (!a) {
          skip(r.position, `not an answer of distillation run ${run.runId} (added to the dataset after it)`);
        } else if (!last || last.role !== 'assistant' || !a.messages.length || !sameMessage(last, a.messages.at(-1)!)) {
          skip(r.position, `its answer was edited after distillation run ${run.runId}: the soft labels are those of the teacher's answer`);
        } else if (r.messages.length !== a.messages.length || r.messages.some((m, i) => !sameMessage(m, a.messages[i]!))) {
          skip(r.position, `its conversation was edited after distillation run ${run.runId}: the teacher answered another prompt`);
        } else if (last.tool_calls?.length) {
          skip(r.position, 'its answer calls tools: the soft labels of tool calls are not exported');
        } else {
          const labels = distill.logprobs(run.runId, a.position, a.sample);
          if (!labels || labels.tokens.length === 0) skip(r.position, `${run.config.teacher.name} returned no soft labels for this answer`);
          else await visit(r, a, labels);
        }
      }
    }
  }

  const vocabularyOf = (student: KdStudent, signal?: AbortSignal) => engine.native().request('vocabulary', { model: { path: student.path } }, { signal });

  /** Refuses a local teacher of another vocabulary (read from both GGUFs; a teacher file since removed is not read). */
  function checkVocabulary(run: KdRun, student: KdStudent) {
    const teacher = run.config.teacher;
    if (teacher.kind !== 'local' || !fs.existsSync(teacher.path)) return;
    checkSameVocabulary(
      teacher.path,
      student.path,
      'student',
      teacher.name,
      student.name,
      "the soft labels are the teacher's token ids; pick a student of the teacher's family",
    );
  }

  /**
   * Refuses labels with a token text the student has no token for (a partial UTF-8 character, U+FFFD, or an empty
   * text — a special token a server did not print — cannot be told: left out of the row instead).
   */
  function checkTokens(mapper: SoftLabelMapper, run: KdRun, student: KdStudent, position: number, tokens: TokenLogprob[]) {
    tokens.forEach((t, j) => {
      for (const text of [t.token, ...t.top.map((a) => a.token)]) {
        if (mapper.id(text) !== undefined || text === '' || text.includes('\uFFFD')) continue;
        throw new AppError(
          'invalid_input',
          `${student.name} has no token ${JSON.stringify(text)}, which ${run.config.teacher.name} gave at answer token ${j + 1} of example ${position}: the soft labels cannot be put in the student's vocabulary`,
          'student',
        );
      }
    });
  }

  const check: KdCheck = async (source, student, signal) => {
    const run = runBehind(source);
    checkVocabulary(run, student);
    const mapper = new SoftLabelMapper(await vocabularyOf(student, signal));
    let labelled = 0;
    await walk(
      source,
      run,
      signal,
      (example, _answer, labels) => {
        labelled++;
        checkTokens(mapper, run, student, example.position, labels.tokens);
      },
      () => undefined,
    );
    if (labelled === 0) throw new AppError('invalid_input', `no example of ${label(source)} has soft labels from distillation run ${run.runId}`, 'kd');
  };

  const write: KdWriter = async (source, student, dir, opts) => {
    const run = runBehind(source);
    checkVocabulary(run, student);
    const vocabulary = await vocabularyOf(student, opts.signal);
    const mapper = new SoftLabelMapper(vocabulary);
    const { pieces } = vocabulary;
    const meta = readGgufHeader(student.path).metadata;
    const own = meta.get('tokenizer.chat_template');
    const chatTemplate = typeof own === 'string' && own.trim() ? own : CHATML_TEMPLATE;
    const idOf = (key: string) => {
      const v = meta.get(key);
      return typeof v === 'number' ? v : null;
    };
    const bos = idOf('tokenizer.ggml.bos_token_id');
    const eos = idOf('tokenizer.ggml.eos_token_id');
    if (eos === null) throw new AppError('invalid_input', `${student.name} has no end-of-sequence token (tokenizer.ggml.eos_token_id)`, 'student');
    const renderer = chatRenderer(chatTemplate, (bos !== null && pieces[bos]) || '', pieces[eos] ?? '');
    const tokenize = async (text: string) =>
      (await engine.native().request('tokenize', { model: { path: student.path }, text, addSpecial: false, parseSpecial: true }, { signal: opts.signal }))
        .tokens;

    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    const axolotl = fs.createWriteStream(path.join(dir, KD_FILE));
    const compact = fs.createWriteStream(path.join(dir, KD_COMPACT_FILE));
    const put = async (stream: fs.WriteStream, line: string) => {
      if (!stream.write(`${line}\n`)) await new Promise<void>((resolve, reject) => stream.once('drain', resolve).once('error', reject));
    };
    const skipped: KdSummary['skipped'] = [];
    const total = datasets.countIn(source.versionId, source.split);
    let records = 0;
    let done = 0;
    const progress = () => opts.onProgress?.(++done, total);
    try {
      await walk(
        source,
        run,
        opts.signal,
        async (example, answer, labels) => {
          checkTokens(mapper, run, student, example.position, labels.tokens);
          const texts = renderTexts(renderer, example.messages, example.tools);
          const built =
            'reason' in texts
              ? texts
              : kdRecord(mapper, {
                  messages: example.messages,
                  stored: labels.tokens,
                  promptTokens: await tokenize(texts.prompt),
                  withAnswerTokens: await tokenize(texts.prompt + example.messages.at(-1)!.content),
                  fullTokens: await tokenize(texts.full),
                  k: run.k,
                  eos,
                });
          if ('reason' in built) {
            skipped.push({ position: example.position, reason: built.reason });
            return progress();
          }
          const messages = example.messages.map((m) => ({ role: m.role, content: m.content }));
          const tools = example.tools?.length ? { tools: example.tools } : {};
          await put(
            axolotl,
            JSON.stringify({ messages, ...tools, target_token_ids: built.axolotlIds, logprobs: built.axolotlLogprobs, temperature: run.temperature }),
          );
          await put(
            compact,
            JSON.stringify({
              position: example.position,
              run: run.runId,
              run_position: answer.position,
              sample: answer.sample,
              messages,
              ...tools,
              k: run.k,
              temperature: run.temperature,
              tokens: built.tokens,
              hard: built.hard,
              ids: built.ids,
              logprobs: built.logprobs,
            }),
          );
          records++;
          progress();
        },
        (position, reason) => {
          skipped.push({ position, reason });
          progress();
        },
      );
    } finally {
      await Promise.all([axolotl, compact].map((s) => new Promise<void>((resolve, reject) => s.end((e?: Error | null) => (e ? reject(e) : resolve())))));
    }
    return {
      file: KD_FILE,
      compactFile: KD_COMPACT_FILE,
      records,
      skipped,
      k: run.k,
      temperature: run.temperature,
      teacher: run.config.teacher.name,
      distillRunId: run.runId,
      chatTemplate,
    };
  };

  return { check, write };
}
