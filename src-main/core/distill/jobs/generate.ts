import type { JobKind } from '../../jobs/types.js';
import type { LlmEngine } from '../../llm/engine.js';
import type { SecretsStore } from '../../secrets/store.js';
import { nowIso } from '../../store/db.js';
import type { DatasetsService } from '../../datasets/service.js';
import type { DistillStore } from '../store.js';
import type { TeacherAnswer } from '../local-teacher.js';
import { openTeacher, teacherEndpoints, type OpenTeacher, type TeacherDeps } from '../teachers.js';
import { JUDGE_SCHEMA, judgeMessages, judgeRejection, readVerdict } from '../judge.js';
import { answerSeed, buildPrompt, compileSchema, jsonRejection, rejection } from '../prompt.js';
import { EARLY_ANSWERS, earlyVerdict, endVerdict, type GateSettings } from '../quality.js';
import { AnswerStream } from '../stream.js';
import type { Emit } from '../../events.js';
import type { JobConfig } from '../../../../src-shared/contract/jobs.js';
import { referenceOf, type ChatMessage, type ExampleRow, type ToolDefinition } from '../../../../src-shared/domain/datasets.js';
import { AppError, isAppError } from '../../../../src-shared/errors.js';
import { fleetFigures, type FleetEndpointStats } from '../fleet.js';

const FIGURES_EVERY_MS = 2000;

export type DistillConfig = JobConfig<'distill.generate'>;

interface Task {
  example: ExampleRow;
  sample: number;
}

/**
 * "Distill": a local GGUF teacher answers every prompt of a dataset version (× samples), `parallel` prompts at once
 * on the sequences of one context. Each answer is committed as it completes, with the filters' verdict, so a resumed
 * run (after a cancel, a crash or SIGKILL) answers only what is missing; at the end the included answers become
 * version 1 of a new dataset, linked to this run and the source version. A run that keeps no answer, or rejects more
 * than its `maxRejectRate`, fails with the reasons and what to change (quality.ts); so does one whose first answers
 * are all rejected for one reason, as soon as they are in. Answers in flight are streamed as `distill.stream` events.
 */
export function distillJob(
  datasets: DatasetsService,
  store: DistillStore,
  engine: LlmEngine,
  threads: () => number | null,
  secrets: SecretsStore,
  emit: Emit,
): JobKind<'distill.generate'> {
  return {
    kind: 'distill.generate',
    title: (c) => `Distill ${c.dataset}@${c.versionNumber}${c.split === 'all' ? '' : ` (${c.split})`} with ${c.teacher.name} → ${c.outName}`,
    async run(ctx) {
      const c = ctx.config;
      ctx.lineage('input', 'dataset', c.dataset, `${c.dataset}@${c.versionNumber}`);
      if (c.teacher.kind === 'local') ctx.lineage('input', 'model', String(c.teacher.modelId), c.teacher.name);
      for (const e of teacherEndpoints(c.teacher)) ctx.lineage('input', 'endpoint', e.ref, e.label);
      if (c.judge) {
        const j = c.judge.teacher;
        if (j.kind === 'local') ctx.lineage('input', 'model', String(j.modelId), `${j.name} (judge)`);
        for (const e of teacherEndpoints(j)) ctx.lineage('input', 'endpoint', e.ref, `${e.label} (judge)`);
      }
      const deps: TeacherDeps = { engine, threads, secrets, log: (level, message) => ctx.log(level, message) };
      const validate = c.jsonSchema ? compileSchema(c.jsonSchema) : undefined;
      const done = store.doneKeys(ctx.runId);
      const promptCount = Math.min(c.limit ?? Infinity, datasets.countIn(c.versionId, c.split));
      const total = promptCount * c.generation.samples;
      let answered = done.size;
      let generatedTokens = 0;
      if (answered > 0) ctx.log('info', `Resuming: ${answered} of ${total} answers were already committed.`);
      const gate: GateSettings = { maxTokens: c.generation.maxTokens, filters: c.filters, judgeThreshold: c.judge?.threshold, maxRejectRate: c.maxRejectRate };
      const start = store.gateCounts(ctx.runId);
      let kept = start.kept;
      const tally = () => `${answered} of ${total} answers (${kept} kept, ${answered - kept} rejected)`;
      try {
        // The prompts, a page at a time, with the answers still missing.
        let after = Number.MIN_SAFE_INTEGER;
        let seen = 0;
        const buffer: Task[] = [];
        const next = (): Task | null => {
          while (buffer.length === 0) {
            if (seen >= promptCount) return null;
            const rows = datasets.examplesAfter(c.versionId, after, Math.min(500, promptCount - seen), c.split);
            if (rows.length === 0) return null;
            after = rows.at(-1)!.position;
            seen += rows.length;
            for (const r of rows) {
              for (let s = 0; s < c.generation.samples; s++) if (!done.has(`${r.position}:${s}`)) buffer.push({ example: r, sample: s });
            }
          }
          return buffer.shift()!;
        };

        /**
         * The judge's pass, after every answer is in: each answer that passed the other filters and has no score yet is
         * scored (greedy, so a resumed pass scores the same) and committed with its verdict, `parallel` at a time.
         */
        const judge = async (j: NonNullable<DistillConfig['judge']>) => {
          const pending = store.unjudged(ctx.runId);
          if (pending.length === 0) return;
          const all = store.judgeCounts(ctx.runId);
          let judged = all.judged;
          ctx.log('info', `Judging ${pending.length} answer(s) with ${j.teacher.name} (pass mark ${j.threshold}/10).`);
          const judgeTeacher = await openTeacher(j.teacher, c.parallel, j.maxTokens, deps, ctx.signal);
          const generation = { ...c.generation, temperature: 0, maxTokens: j.maxTokens, samples: 1 };
          let nextIndex = 0;
          try {
            await Promise.all(
              Array.from({ length: c.parallel }, async () => {
                while (nextIndex < pending.length) {
                  ctx.throwIfCancelled();
                  const p = pending[nextIndex++]!;
                  const seed = answerSeed(c.generation.seed ^ 0x5bd1e995, p.position, p.sample);
                  const a = await judgeTeacher.answer(judgeMessages(j.rubric, p.prompt, p.answer), seed, { generation, jsonSchema: JUDGE_SCHEMA });
                  if (a.finishReason === 'cancelled') ctx.throwIfCancelled();
                  const verdict = readVerdict(a.text);
                  const rejected = judgeRejection(verdict, j.threshold);
                  ctx.commitItem(`judge-${p.position}:${p.sample}`, () => store.setJudgement(ctx.runId, p.position, p.sample, verdict, rejected));
                  judged++;
                  ctx.progress(judged, all.total, `judging: ${judged} of ${all.total} answers scored`);
                }
              }),
            );
          } finally {
            await judgeTeacher.close();
          }
        };

        // The early check stops the teacher through this signal (the user's cancel goes through it too).
        const halt = new AbortController();
        const signal = AbortSignal.any([ctx.signal, halt.signal]);
        let stopped: string | null = null;
        if (answered < total) {
          const generating = performance.now(); // tokens/s over generation only, not the model load
          let warnedNoLogprobs = false;
          // a fleet's figures per endpoint, written every few seconds and at the end (a failed run's too)
          let fleet: (() => FleetEndpointStats[]) | undefined;
          let figuresAt = performance.now();
          const writeFleetFigures = () => {
            if (!fleet) return;
            figuresAt = performance.now();
            for (const f of fleetFigures(fleet())) ctx.metric(f.name as `endpoint_tps:${string}`, f.value);
          };
          const record = (task: Task, sent: ChatMessage[], output: ChatMessage[], a: TeacherAnswer, ms: number) => {
            const rejected = rejection(a.text, a.finishReason, c.filters) ?? (c.jsonSchema ? jsonRejection(a.text, validate) : null);
            const key = `${task.example.position}:${task.sample}`;
            ctx.commitItem(`answer-${key}`, () => {
              store.insert(
                ctx.runId,
                {
                  position: task.example.position,
                  sample: task.sample,
                  prompt: sent,
                  output,
                  answer: a.text,
                  toolCalls: a.toolCalls ?? null,
                  finishReason: a.finishReason,
                  promptTokens: a.promptTokens,
                  completionTokens: a.completionTokens,
                  ms,
                  rejected,
                },
                nowIso(),
              );
              if (c.logprobs && a.logprobs) store.saveLogprobs(ctx.runId, task.example.position, task.sample, c.logprobs, a.logprobs);
            });
            if (c.logprobs && !a.logprobs && !warnedNoLogprobs) {
              warnedNoLogprobs = true;
              ctx.log('warn', `${c.teacher.name} returned no log-probabilities: the answers are kept without soft labels.`);
            }
            answered++;
            if (!rejected) kept++;
            generatedTokens += a.completionTokens ?? 0;
            const seconds = (performance.now() - generating) / 1000;
            const tps = generatedTokens / seconds;
            const eta = answered < total && answered > done.size ? ((total - answered) * seconds) / (answered - done.size) : 0;
            ctx.progress(answered, total, `${tally()} · ${tps.toFixed(1)} tokens/s · ${eta ? `~${Math.ceil(eta)} s left` : 'finishing'}`);
            if (fleet && performance.now() - figuresAt > FIGURES_EVERY_MS) writeFleetFigures();
            // The first answers of a run, checked as soon as they are in: all rejected for one reason is a setting's fault.
            if (answered === EARLY_ANSWERS && done.size < EARLY_ANSWERS && total > EARLY_ANSWERS && !stopped) {
              stopped = earlyVerdict(store.gateCounts(ctx.runId), gate);
              if (stopped) halt.abort();
            }
          };
          type Answer = (
            messages: ChatMessage[],
            seed: number,
            tools: ToolDefinition[] | undefined,
            onToken: (tokens: number, text: () => string) => void,
          ) => Promise<TeacherAnswer>;
          /** `parallel` workers take prompts from the queue until it is empty (or the run stops early); `answer` is the teacher. */
          const drain = async (answer: Answer) => {
            for (let task = next(); task && !stopped; task = next()) {
              ctx.throwIfCancelled();
              const { sent, kept: output, fewShot } = buildPrompt(task.example, c.template);
              const { position } = task.example;
              const t0 = performance.now();
              let a: TeacherAnswer;
              try {
                a = await answer(
                  [...fewShot, ...sent],
                  answerSeed(c.generation.seed, position, task.sample),
                  task.example.tools,
                  stream.begin(position, task.sample),
                );
              } catch (e) {
                stream.end(position, task.sample);
                if (stopped && !ctx.signal.aborted) return; // halted: the answer in flight is dropped
                throw e;
              }
              if (a.finishReason === 'cancelled') {
                stream.end(position, task.sample);
                ctx.throwIfCancelled();
                return; // halted by the early check
              }
              if (ended) return stream.end(position, task.sample); // the run failed meanwhile: its message counted what is kept
              record(task, sent, output, a, Math.round(performance.now() - t0));
              stream.end(position, task.sample); // committed: it leaves the list as it joins the answers
            }
          };
          const stream = new AnswerStream(ctx.runId, emit);
          let ended = false;
          try {
            const teacher: OpenTeacher = await openTeacher(c.teacher, c.parallel, c.generation.maxTokens, deps, signal);
            fleet = teacher.endpoints?.bind(teacher);
            try {
              const o = { generation: c.generation, jsonSchema: c.jsonSchema, logprobs: c.logprobs };
              await Promise.all(
                Array.from({ length: c.parallel }, () => drain((messages, seed, tools, onToken) => teacher.answer(messages, seed, { ...o, tools, onToken }))),
              );
            } catch (e) {
              ended = true;
              // a server (or every endpoint of a fleet) that stopped answering: what was answered is kept
              if (isAppError(e) && e.code === 'engine_error' && c.teacher.kind !== 'local' && !ctx.signal.aborted)
                throw new AppError('engine_error', `${e.message}; ${answered} answers are kept: resume the run when a server is back`);
              throw e;
            } finally {
              await teacher.close();
              try {
                writeFleetFigures();
              } catch {
                // the app is closing its database: the run's own outcome matters more
              }
            }
          } finally {
            stream.close();
          }
          const seconds = (performance.now() - generating) / 1000;
          if (generatedTokens) ctx.metric('tokens_per_second', generatedTokens / seconds);
          ctx.throwIfCancelled();
          if (stopped) throw new AppError('conflict', stopped);
        }
        ctx.throwIfCancelled();
        if (c.judge) await judge(c.judge);
        ctx.throwIfCancelled();

        // The student's training set: the included answers, as version 1 of a new dataset.
        const page = store.page(ctx.runId, 0, 1);
        ctx.metric('answers', page.total);
        ctx.metric('rejected', page.rejected);
        const counts = store.gateCounts(ctx.runId);
        kept = counts.kept;
        const why = endVerdict(counts, gate);
        if (why) {
          // Resuming a run the gate failed, with answers kept, is the user's "write them anyway".
          if (counts.kept === 0 || !ctx.doneItems().has('quality-gate')) {
            ctx.commitItem('quality-gate');
            throw new AppError('conflict', why);
          }
          ctx.log('warn', `Resumed after the quality check (${why}): writing the ${counts.kept} kept answer(s) anyway.`);
        }
        const out = store.outputs(ctx.runId);
        if (datasets.readyId(c.outName) !== null)
          throw new AppError('conflict', `a dataset named ${c.outName} already exists; the answers are kept in this run`);
        const message = `Distilled from ${c.dataset}@${c.versionNumber}${c.split === 'all' ? '' : ` (${c.split})`} by ${c.teacher.name}, run ${ctx.runId}`;
        // the training examples keep the tools their prompts offered the teacher
        const tools = datasets.toolsOf(c.versionId, [...new Set(out.map((o) => o.position))]);
        const examples = out.map((o) => {
          const t = tools.get(o.position);
          return { messages: o.messages, reference: referenceOf(o.messages), ...(t ? { tools: t } : {}) };
        });
        const version = datasets.createFromRun(c.outName, message, ctx.runId, examples, (positions) =>
          store.setOutPositions(
            ctx.runId,
            out.map((o, i) => ({ position: o.position, sample: o.sample, outPosition: positions[i]! })),
          ),
        );
        ctx.lineage('output', 'dataset', c.outName, `${c.outName}@${version}`);
        ctx.progress(total, total, `${page.total} answers: ${out.length} in ${c.outName}@${version}, ${page.rejected} rejected`);
        ctx.log(page.rejected ? 'warn' : 'info', `${out.length} answer(s) in ${c.outName}@1; ${page.rejected} rejected by the filters (kept in this run).`);
      } catch (e) {
        // No estimate of time left on a run that stopped: only what it made.
        const how = !ctx.signal.aborted ? 'stopped' : ctx.cancelledByUser() ? 'cancelled' : 'interrupted';
        try {
          ctx.progress(answered, total, `${tally()} · ${how}`);
        } catch {
          // the app is closing its database: the run's error matters more than its message
        }
        throw e;
      }
    },
  };
}
