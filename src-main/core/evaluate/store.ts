import type { Db } from '../store/db.js';
import type { DivergenceFigures, EvalMetric } from '../../../src-shared/domain/evaluate.js';
import type { TokenLogprob } from '../../../src-shared/domain/distill.js';

/** One variant's answer to one example, as the run stored it. */
export interface StoredAnswer {
  variant: number;
  position: number;
  text: string | null;
  error: string | null;
  tokens: number | null;
  promptTokens: number | null;
  ms: number | null;
  ttftMs: number | null;
  tps: number | null;
  meanLogprob: number | null;
  minProb: number | null;
  finish: string | null;
}

export interface AnswerWrite extends Omit<StoredAnswer, 'variant' | 'position'> {
  logprobs: TokenLogprob[] | null;
}

interface AnswerRow {
  variant: number;
  position: number;
  text: string | null;
  error: string | null;
  tokens: number | null;
  prompt_tokens: number | null;
  ms: number | null;
  ttft_ms: number | null;
  tps: number | null;
  mean_logprob: number | null;
  min_prob: number | null;
  finish: string | null;
}

const answer = (r: AnswerRow): StoredAnswer => ({
  variant: r.variant,
  position: r.position,
  text: r.text,
  error: r.error,
  tokens: r.tokens,
  promptTokens: r.prompt_tokens,
  ms: r.ms,
  ttftMs: r.ttft_ms,
  tps: r.tps,
  meanLogprob: r.mean_logprob,
  minProb: r.min_prob,
  finish: r.finish,
});

/** SQL of the Evaluate room: answers, metric values, divergence, systems figures and contamination flags per run. */
export class EvaluateStore {
  constructor(private readonly db: Db) {}

  saveAnswer(runId: number, variant: number, position: number, a: AnswerWrite): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO eval_answers (run_id, variant, position, text, error, tokens, prompt_tokens, ms, ttft_ms, tps, mean_logprob, min_prob, finish, logprobs)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        runId,
        variant,
        position,
        a.text,
        a.error,
        a.tokens,
        a.promptTokens,
        a.ms,
        a.ttftMs,
        a.tps,
        a.meanLogprob,
        a.minProb,
        a.finish,
        a.logprobs ? JSON.stringify(a.logprobs) : null,
      );
  }

  saveScores(
    runId: number,
    variant: number,
    position: number,
    values: Partial<Record<EvalMetric | 'length', number | null>>,
    note: string | null = null,
  ): void {
    const put = this.db.prepare(`INSERT OR REPLACE INTO eval_scores (run_id, variant, position, metric, value, note) VALUES (?, ?, ?, ?, ?, ?)`);
    for (const [metric, value] of Object.entries(values))
      if (value !== null && value !== undefined && Number.isFinite(value)) put.run(runId, variant, position, metric, value, note);
  }

  answers(runId: number, variant?: number): StoredAnswer[] {
    const rows = (
      variant === undefined
        ? this.db.prepare(`SELECT * FROM eval_answers WHERE run_id = ? ORDER BY variant, position`).all(runId)
        : this.db.prepare(`SELECT * FROM eval_answers WHERE run_id = ? AND variant = ? ORDER BY position`).all(runId, variant)
    ) as AnswerRow[];
    return rows.map(answer);
  }

  answerAt(runId: number, variant: number, position: number): StoredAnswer | null {
    const r = this.db.prepare(`SELECT * FROM eval_answers WHERE run_id = ? AND variant = ? AND position = ?`).get(runId, variant, position) as
      AnswerRow | undefined;
    return r ? answer(r) : null;
  }

  logprobsAt(runId: number, variant: number, position: number): TokenLogprob[] | null {
    const r = this.db.prepare(`SELECT logprobs FROM eval_answers WHERE run_id = ? AND variant = ? AND position = ?`).get(runId, variant, position) as
      { logprobs: string | null } | undefined;
    return r?.logprobs ? (JSON.parse(r.logprobs) as TokenLogprob[]) : null;
  }

  /** Every metric value of a run: metric → variant → position → value. */
  scores(runId: number): Map<string, Map<number, Map<number, number>>> {
    const out = new Map<string, Map<number, Map<number, number>>>();
    const rows = this.db.prepare(`SELECT variant, position, metric, value FROM eval_scores WHERE run_id = ?`).all(runId) as {
      variant: number;
      position: number;
      metric: string;
      value: number;
    }[];
    for (const r of rows) {
      let byVariant = out.get(r.metric);
      if (!byVariant) out.set(r.metric, (byVariant = new Map()));
      let byPosition = byVariant.get(r.variant);
      if (!byPosition) byVariant.set(r.variant, (byPosition = new Map()));
      byPosition.set(r.position, r.value);
    }
    return out;
  }

  notes(runId: number, metric: string): Map<string, string> {
    const rows = this.db.prepare(`SELECT variant, position, note FROM eval_scores WHERE run_id = ? AND metric = ? AND note IS NOT NULL`).all(runId, metric) as {
      variant: number;
      position: number;
      note: string;
    }[];
    return new Map(rows.map((r) => [`${r.variant}:${r.position}`, r.note]));
  }

  saveDivergence(runId: number, variant: number, position: number, d: DivergenceFigures, method: 'full' | 'topk'): void {
    this.db
      .prepare(`INSERT OR REPLACE INTO eval_divergence (run_id, variant, position, tokens, kld, max_kld, top1, nll, method) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(runId, variant, position, d.tokens, d.kld, d.maxKld, d.top1, d.nll, method);
  }

  divergence(runId: number): { variant: number; position: number; method: 'full' | 'topk'; figures: DivergenceFigures }[] {
    const rows = this.db.prepare(`SELECT * FROM eval_divergence WHERE run_id = ? ORDER BY variant, position`).all(runId) as {
      variant: number;
      position: number;
      tokens: number;
      kld: number;
      max_kld: number;
      top1: number;
      nll: number;
      method: 'full' | 'topk';
    }[];
    return rows.map((r) => ({
      variant: r.variant,
      position: r.position,
      method: r.method,
      figures: { tokens: r.tokens, kld: r.kld, maxKld: r.max_kld, top1: r.top1, nll: r.nll },
    }));
  }

  saveSystems(runId: number, variant: number, figures: object): void {
    this.db.prepare(`INSERT OR REPLACE INTO eval_systems (run_id, variant, figures) VALUES (?, ?, ?)`).run(runId, variant, JSON.stringify(figures));
  }

  systems(runId: number): Map<number, Record<string, unknown>> {
    const rows = this.db.prepare(`SELECT variant, figures FROM eval_systems WHERE run_id = ?`).all(runId) as { variant: number; figures: string }[];
    return new Map(rows.map((r) => [r.variant, JSON.parse(r.figures) as Record<string, unknown>]));
  }

  saveContamination(runId: number, rows: { position: number; matched: number; total: number }[]): void {
    const put = this.db.prepare(`INSERT OR REPLACE INTO eval_contamination (run_id, position, matched, total) VALUES (?, ?, ?, ?)`);
    for (const r of rows) put.run(runId, r.position, r.matched, r.total);
  }

  contamination(runId: number): { position: number; matched: number; total: number }[] {
    return this.db.prepare(`SELECT position, matched, total FROM eval_contamination WHERE run_id = ? ORDER BY position`).all(runId) as {
      position: number;
      matched: number;
      total: number;
    }[];
  }
}
