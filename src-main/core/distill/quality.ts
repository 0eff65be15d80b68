import type { DistillFilters } from '../../../src-shared/domain/distill.js';

/**
 * A distillation's quality gate: a run whose output would be empty, or whose answers are rejected more often than the
 * user allows, does not end "succeeded". Its message names the main reasons (grouped by the filter that rejected
 * them) and, for each, what to change.
 */
export type RejectionCategory = 'truncated' | 'empty' | 'length' | 'regex' | 'refusal' | 'json' | 'schema' | 'judge' | 'hand' | 'other';

/** The filter behind a rejection reason (the texts of `rejection`, `jsonRejection` and `judgeRejection`). */
export function rejectionCategory(reason: string): RejectionCategory {
  if (reason.startsWith('truncated')) return 'truncated';
  if (reason === 'empty answer') return 'empty';
  if (/^(shorter|longer) than/.test(reason)) return 'length';
  if (/^(does not match|matches) \//.test(reason)) return 'regex';
  if (reason === 'reads like a refusal') return 'refusal';
  if (reason.startsWith('not valid JSON')) return 'json';
  if (reason.startsWith('does not match the JSON schema')) return 'schema';
  if (reason.startsWith('judge:')) return 'judge';
  if (reason === 'excluded by hand') return 'hand';
  return 'other';
}

/** What the gate needs of a run's settings to say what to change. */
export interface GateSettings {
  maxTokens: number;
  filters: DistillFilters;
  judgeThreshold?: number | undefined;
  maxRejectRate: number;
}

/**
 * What the answers of one category did, as a verb phrase ("hit max tokens 256"; `didOne` for one answer when it
 * differs), and what to change.
 */
function explain(category: RejectionCategory, s: GateSettings): { did: string; didOne?: string; fix: string } {
  const f = s.filters;
  switch (category) {
    case 'truncated':
      return { did: `hit max tokens ${s.maxTokens}`, fix: "raise it or untick 'reject truncated' (CLI: --keep-truncated)" };
    case 'empty':
      return { did: 'were empty', didOne: 'was empty', fix: "check the prompt template and the teacher's chat template" };
    case 'length': {
      const limits = [f.minChars !== undefined ? `at least ${f.minChars}` : '', f.maxChars !== undefined ? `at most ${f.maxChars}` : '']
        .filter(Boolean)
        .join(', ');
      return { did: `failed the length limits (${limits} characters)`, fix: 'loosen them' };
    }
    case 'regex': {
      const patterns = [f.mustMatch ? `must match /${f.mustMatch}/` : '', f.mustNotMatch ? `must not match /${f.mustNotMatch}/` : '']
        .filter(Boolean)
        .join(', ');
      return { did: `failed the patterns (${patterns})`, fix: 'check the patterns against a few answers' };
    }
    case 'refusal':
      return { did: 'read like refusals', didOne: 'read like a refusal', fix: "reword the prompt or untick 'reject refusals'" };
    case 'json':
      return {
        did: 'were not valid JSON',
        didOne: 'was not valid JSON',
        fix: `raise max tokens (${s.maxTokens}) or use a teacher that supports structured output`,
      };
    case 'schema':
      return { did: 'did not match the JSON schema', fix: 'loosen the schema or tell the teacher about it in the prompt' };
    case 'judge':
      return { did: `scored below the judge's pass mark ${s.judgeThreshold ?? ''}`.trimEnd(), fix: 'lower the pass mark or revise the rubric' };
    case 'hand':
      return { did: 'were excluded by hand', didOne: 'was excluded by hand', fix: 'include them again on the run page' };
    default:
      return { did: 'were rejected', didOne: 'was rejected', fix: 'see the reasons on the run page' };
  }
}

export interface AnswerCounts {
  total: number;
  /** Answers in the output (included). */
  kept: number;
  /** Answers out of the output, by rejection reason. */
  reasons: { reason: string; count: number }[];
}

/** The rejections grouped by category, most frequent first. */
export function groupRejections(reasons: AnswerCounts['reasons']): { category: RejectionCategory; count: number }[] {
  const by = new Map<RejectionCategory, number>();
  for (const r of reasons) by.set(rejectionCategory(r.reason), (by.get(rejectionCategory(r.reason)) ?? 0) + r.count);
  return [...by].map(([category, count]) => ({ category, count })).sort((a, b) => b.count - a.count);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "12 hit max tokens 256 (raise it …); 8 read like refusals (…)" */
function breakdown(groups: { category: RejectionCategory; count: number }[], s: GateSettings): string {
  return groups
    .map((g) => {
      const e = explain(g.category, s);
      return `${g.count} ${e.did} (${e.fix})`;
    })
    .join('; ');
}

/**
 * Why the finished run must not succeed, or null when it may: no answer kept (always), or more rejected than
 * `maxRejectRate` allows.
 */
export function endVerdict(c: AnswerCounts, s: GateSettings): string | null {
  const rejected = c.total - c.kept;
  const groups = groupRejections(c.reasons);
  if (c.kept === 0) {
    const only = groups.length === 1 ? explain(groups[0]!.category, s) : null;
    if (only) return c.total === 1 ? `the only answer ${only.didOne ?? only.did}; ${only.fix}` : `all ${c.total} answers ${only.did}; ${only.fix}`;
    return `all ${c.total} answers were rejected: ${breakdown(groups, s)}`;
  }
  if (rejected / c.total <= s.maxRejectRate) return null;
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return (
    `${rejected} of ${plural(c.total, 'answer')} were rejected (${pct(rejected / c.total)}, above the ${pct(s.maxRejectRate)} allowed): ${breakdown(groups, s)}. ` +
    `The ${plural(c.kept, 'kept answer')} stay in this run: resume it to write them anyway, or raise the max reject rate`
  );
}

/** The first answers a run checks before going on. */
export const EARLY_ANSWERS = 8;

/**
 * After the first EARLY_ANSWERS answers: a reason to stop now when every one was rejected for the same reason (a
 * setting, not the prompts, is at fault), else null.
 */
export function earlyVerdict(c: AnswerCounts, s: GateSettings): string | null {
  if (c.kept > 0 || s.maxRejectRate >= 1) return null;
  const groups = groupRejections(c.reasons);
  if (groups.length !== 1) return null;
  const e = explain(groups[0]!.category, s);
  return `the first ${c.total} answers all ${e.did}; ${e.fix} (stopped early; resume the run to answer the rest anyway)`;
}
