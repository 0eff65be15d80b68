import type { Db } from '../store/db.js';
import { toolCallText, type ChatMessage, type ToolCall } from '../../../src-shared/domain/datasets.js';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { DistillAnswer, DistillAnswersPage, DistillRunCounts, TokenLogprob } from '../../../src-shared/domain/distill.js';
import type { AnswerCounts } from './quality.js';

interface Row {
  position: number;
  sample: number;
  prompt: string;
  answer: string;
  finish_reason: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  ms: number;
  rejected: string | null;
  included: number;
  judge_score: number | null;
  judge_reason: string | null;
}

/** What an answer's training example is made of: the conversation it answers, and the answer (text and tool calls). */
interface AnswerRow {
  output: string;
  answer: string;
  tool_calls: string | null;
}

/**
 * An answer's training example: the conversation, then the answer as an assistant message. An answer that calls tools
 * becomes what an imported OpenAI tool-calling turn is: `content` the text written besides the calls ('' when none),
 * and `tool_calls` with the server's ids, or `call_<n>` (n after the conversation's earlier calls) when it gave none.
 */
function example(r: AnswerRow): ChatMessage[] {
  const before = JSON.parse(r.output) as ChatMessage[];
  if (r.tool_calls === null) return [...before, { role: 'assistant', content: r.answer }];
  const calls = JSON.parse(r.tool_calls) as ToolCall[];
  const taken = new Set(before.flatMap((m) => m.tool_calls?.map((c) => c.id) ?? []));
  let n = before.reduce((k, m) => k + (m.tool_calls?.length ?? 0), 0);
  const nextId = () => {
    let id: string;
    do id = `call_${++n}`;
    while (taken.has(id));
    return id;
  };
  const withIds = calls.map((c) => (c.id ? c : { ...c, id: nextId() }));
  return [...before, { role: 'assistant', content: textBesides(r.answer, calls), tool_calls: withIds }];
}

/** The text an answer wrote besides its calls: its text form is that text, then one `name(arguments)` line per call. */
function textBesides(answer: string, calls: ToolCall[]): string {
  const lines = calls.map(toolCallText).join('\n');
  if (answer === lines) return '';
  return answer.endsWith(`\n${lines}`) ? answer.slice(0, -lines.length - 1) : answer;
}

/** SQL for a distillation run's answers. */
export class DistillStore {
  constructor(private readonly db: Db) {}

  /** The (position, sample) pairs already answered: a resumed run skips them. */
  doneKeys(runId: number): Set<string> {
    const rows = this.db.prepare(`SELECT position, sample FROM distill_answers WHERE run_id = ?`).all(runId) as { position: number; sample: number }[];
    return new Set(rows.map((r) => `${r.position}:${r.sample}`));
  }

  insert(
    runId: number,
    a: {
      position: number;
      sample: number;
      prompt: ChatMessage[];
      output: ChatMessage[];
      answer: string;
      /** The tools the answer calls (its text then ends with them as `name(arguments)` lines); null or absent when none. */
      toolCalls?: ToolCall[] | null;
      finishReason: string | null;
      promptTokens: number | null;
      completionTokens: number | null;
      ms: number;
      rejected: string | null;
    },
    at: string,
  ): void {
    this.db
      .prepare(
        `INSERT INTO distill_answers (run_id, position, sample, prompt, output, answer, tool_calls, finish_reason, prompt_tokens, completion_tokens, ms, rejected, included, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        runId,
        a.position,
        a.sample,
        JSON.stringify(a.prompt),
        JSON.stringify(a.output),
        a.answer,
        a.toolCalls?.length ? JSON.stringify(a.toolCalls) : null,
        a.finishReason,
        a.promptTokens,
        a.completionTokens,
        a.ms,
        a.rejected,
        a.rejected === null ? 1 : 0,
        at,
      );
  }

  saveLogprobs(runId: number, position: number, sample: number, k: number, tokens: TokenLogprob[]): void {
    const compact = tokens.map((t) => [t.token, t.logprob, t.top.map((a) => [a.token, a.logprob])]);
    this.db
      .prepare(`INSERT OR REPLACE INTO distill_logprobs (run_id, position, sample, k, data) VALUES (?, ?, ?, ?, ?)`)
      .run(runId, position, sample, k, deflateRawSync(JSON.stringify(compact)));
  }

  logprobs(runId: number, position: number, sample: number): { k: number; tokens: TokenLogprob[] } | null {
    const r = this.db.prepare(`SELECT k, data FROM distill_logprobs WHERE run_id = ? AND position = ? AND sample = ?`).get(runId, position, sample) as
      { k: number; data: Buffer } | undefined;
    if (!r) return null;
    const compact = JSON.parse(inflateRawSync(r.data).toString('utf8')) as [string, number, [string, number][]][];
    return { k: r.k, tokens: compact.map(([token, logprob, top]) => ({ token, logprob, top: top.map(([t, l]) => ({ token: t, logprob: l })) })) };
  }

  /** Whether run `runId` saved any soft labels. */
  hasLogprobs(runId: number): boolean {
    return this.db.prepare(`SELECT 1 FROM distill_logprobs WHERE run_id = ? LIMIT 1`).get(runId) !== undefined;
  }

  /**
   * The answers written at these positions of the run's output dataset: each one's (position, sample) in the run and
   * its training example. Positions no answer was written at are absent from the map.
   */
  atOutPositions(runId: number, outPositions: number[]): Map<number, { position: number; sample: number; messages: ChatMessage[] }> {
    const rows = this.db
      .prepare(
        `SELECT position, sample, output, answer, tool_calls, out_position FROM distill_answers
         WHERE run_id = ? AND out_position IN (SELECT value FROM json_each(?))`,
      )
      .all(runId, JSON.stringify(outPositions)) as (AnswerRow & { position: number; sample: number; out_position: number })[];
    return new Map(rows.map((r) => [r.out_position, { position: r.position, sample: r.sample, messages: example(r) }]));
  }

  /** One answer's training example and where it stands, or null when there is no such answer. */
  /** A run's first answers (sample 0) at these positions: what an evaluation reads as a variant's answers. */
  answersAt(runId: number, positions: number[]): Map<number, { text: string; finishReason: string | null; tokens: number | null }> {
    const get = this.db.prepare(`SELECT answer, finish_reason, completion_tokens FROM distill_answers WHERE run_id = ? AND position = ? AND sample = 0`);
    const out = new Map<number, { text: string; finishReason: string | null; tokens: number | null }>();
    for (const p of positions) {
      const r = get.get(runId, p) as { answer: string; finish_reason: string | null; completion_tokens: number | null } | undefined;
      if (r) out.set(p, { text: r.answer, finishReason: r.finish_reason, tokens: r.completion_tokens });
    }
    return out;
  }

  answerState(runId: number, position: number, sample: number): { messages: ChatMessage[]; included: boolean; outPosition: number | null } | null {
    const r = this.db
      .prepare(`SELECT output, answer, tool_calls, included, out_position FROM distill_answers WHERE run_id = ? AND position = ? AND sample = ?`)
      .get(runId, position, sample) as (AnswerRow & { included: number; out_position: number | null }) | undefined;
    if (!r) return null;
    return {
      messages: example(r),
      included: r.included === 1,
      outPosition: r.out_position,
    };
  }

  /** Marks an answer included (at `outPosition` in the output dataset when it is already written). */
  include(runId: number, position: number, sample: number, outPosition: number | null): void {
    this.db
      .prepare(`UPDATE distill_answers SET included = 1, out_position = ? WHERE run_id = ? AND position = ? AND sample = ?`)
      .run(outPosition, runId, position, sample);
  }

  /** Takes an answer out of the output; the reason says it was by hand unless a filter had rejected it. */
  exclude(runId: number, position: number, sample: number): void {
    this.db
      .prepare(
        `UPDATE distill_answers SET included = 0, out_position = NULL, rejected = coalesce(rejected, 'excluded by hand') WHERE run_id = ? AND position = ? AND sample = ?`,
      )
      .run(runId, position, sample);
  }

  /** Records where the included answers went in the output dataset. */
  setOutPositions(runId: number, rows: { position: number; sample: number; outPosition: number }[]): void {
    const set = this.db.prepare(`UPDATE distill_answers SET out_position = ? WHERE run_id = ? AND position = ? AND sample = ?`);
    for (const r of rows) set.run(r.outPosition, runId, r.position, r.sample);
  }

  /** Answers the judge still has to score: those that passed the other filters. */
  unjudged(runId: number): { position: number; sample: number; prompt: ChatMessage[]; answer: string }[] {
    const rows = this.db
      .prepare(
        `SELECT position, sample, prompt, answer FROM distill_answers WHERE run_id = ? AND rejected IS NULL AND judge_score IS NULL ORDER BY position, sample`,
      )
      .all(runId) as { position: number; sample: number; prompt: string; answer: string }[];
    return rows.map((r) => ({ position: r.position, sample: r.sample, prompt: JSON.parse(r.prompt) as ChatMessage[], answer: r.answer }));
  }

  /** For the judge's progress: answers it scores in all (scored or still to score), and those scored. */
  judgeCounts(runId: number): { total: number; judged: number } {
    return this.db
      .prepare(
        `SELECT count(*) AS total, count(judge_score) + coalesce(sum(judge_score IS NULL AND judge_reason IS NOT NULL), 0) AS judged FROM distill_answers
         WHERE run_id = ? AND (rejected IS NULL OR judge_reason IS NOT NULL)`,
      )
      .get(runId) as { total: number; judged: number };
  }

  /** The judge's verdict; a rejected answer leaves the output. */
  setJudgement(runId: number, position: number, sample: number, verdict: { score: number | null; reason: string }, rejected: string | null): void {
    this.db
      .prepare(
        `UPDATE distill_answers SET judge_score = ?, judge_reason = ?, rejected = ?, included = CASE WHEN ? IS NULL THEN included ELSE 0 END
         WHERE run_id = ? AND position = ? AND sample = ?`,
      )
      .run(verdict.score, verdict.reason, rejected, rejected, runId, position, sample);
  }

  /** The included answers as training examples, in source order. */
  outputs(runId: number): { position: number; sample: number; messages: ChatMessage[] }[] {
    const rows = this.db
      .prepare(`SELECT position, sample, output, answer, tool_calls FROM distill_answers WHERE run_id = ? AND included = 1 ORDER BY position, sample`)
      .all(runId) as (AnswerRow & { position: number; sample: number })[];
    return rows.map((r) => ({ position: r.position, sample: r.sample, messages: example(r) }));
  }

  /** For the quality gate: answers in all, those kept (included), and the others by rejection reason. */
  gateCounts(runId: number): AnswerCounts {
    const { total, kept } = this.db
      .prepare(`SELECT count(*) AS total, coalesce(sum(included), 0) AS kept FROM distill_answers WHERE run_id = ?`)
      .get(runId) as { total: number; kept: number };
    const reasons = this.db
      .prepare(`SELECT coalesce(rejected, 'excluded by hand') AS reason, count(*) AS count FROM distill_answers WHERE run_id = ? AND included = 0 GROUP BY 1`)
      .all(runId) as { reason: string; count: number }[];
    return { total, kept, reasons };
  }

  /** Answers, kept and rejected of the given distillation runs (the runs list). */
  runCounts(runIds: number[]): DistillRunCounts[] {
    const one = this.db.prepare(`SELECT count(*) AS total, coalesce(sum(included), 0) AS included FROM distill_answers WHERE run_id = ?`);
    return runIds.map((runId) => {
      const r = one.get(runId) as { total: number; included: number };
      return { runId, total: r.total, included: r.included, rejected: r.total - r.included };
    });
  }

  page(runId: number, offset: number, limit: number, only?: 'included' | 'rejected'): DistillAnswersPage {
    const counts = this.db
      .prepare(`SELECT count(*) AS total, coalesce(sum(included), 0) AS included, count(rejected) AS rejected FROM distill_answers WHERE run_id = ?`)
      .get(runId) as { total: number; included: number; rejected: number };
    const where = only === 'included' ? 'AND included = 1' : only === 'rejected' ? 'AND rejected IS NOT NULL' : '';
    const rows = this.db
      .prepare(`SELECT * FROM distill_answers WHERE run_id = ? ${where} ORDER BY position, sample LIMIT ? OFFSET ?`)
      .all(runId, limit, offset) as Row[];
    return {
      ...counts,
      rows: rows.map((r): DistillAnswer => ({
        position: r.position,
        sample: r.sample,
        prompt: JSON.parse(r.prompt) as DistillAnswer['prompt'],
        answer: r.answer,
        finishReason: r.finish_reason,
        promptTokens: r.prompt_tokens,
        completionTokens: r.completion_tokens,
        ms: r.ms,
        rejected: r.rejected,
        included: r.included === 1,
        judgeScore: r.judge_score,
        judgeReason: r.judge_reason,
      })),
    };
  }
}
