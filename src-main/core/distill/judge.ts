import type { ChatMessage } from '../../../src-shared/domain/datasets.js';

/**
 * LLM-as-judge: a chosen model scores each answer against the user's rubric, 1 to 10, with a one-line reason. The
 * judge is asked for JSON (a grammar on local models, response_format on servers) and read leniently, because a
 * server may ignore response_format and a small judge may stop mid-sentence.
 */
export const JUDGE_SCALE = 10;

export const JUDGE_SCHEMA = {
  type: 'object',
  properties: {
    score: { type: 'integer', enum: Array.from({ length: JUDGE_SCALE }, (_, i) => i + 1) },
    reason: { type: 'string' },
  },
  required: ['score', 'reason'],
  additionalProperties: false,
} as const;

export function judgeMessages(rubric: string, prompt: ChatMessage[], answer: string): ChatMessage[] {
  const asked = prompt.filter((m) => m.role !== 'system').at(-1)?.content ?? '';
  return [
    {
      role: 'system',
      content:
        `You grade answers. Score the ANSWER to the PROMPT against the RUBRIC, from 1 (fails it) to ${JUDGE_SCALE} (fully meets it). ` +
        `Reply with JSON only: {"score": <integer 1-${JUDGE_SCALE}>, "reason": "<one short sentence>"}.`,
    },
    { role: 'user', content: `RUBRIC:\n${rubric}\n\nPROMPT:\n${asked}\n\nANSWER:\n${answer}` },
  ];
}

export interface Verdict {
  score: number | null;
  reason: string;
}

const clip = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}…` : s);

/** The judge's score and reason: its JSON, else a "score: N" or "N/10" in its text; score null when there is none. */
export function readVerdict(text: string): Verdict {
  const inRange = (n: number) => Number.isFinite(n) && n >= 1 && n <= JUDGE_SCALE;
  const json = text.match(/\{[\s\S]*\}/)?.[0];
  if (json) {
    try {
      const v = JSON.parse(json) as { score?: unknown; reason?: unknown };
      const score = typeof v.score === 'number' ? v.score : Number(v.score);
      if (inRange(score)) return { score, reason: clip(typeof v.reason === 'string' ? v.reason.trim() : '') };
    } catch {
      /* read it as text */
    }
  }
  const m = text.match(/"?score"?\s*[:=]\s*"?(\d+(?:\.\d+)?)/i) ?? text.match(/\b(\d+(?:\.\d+)?)\s*\/\s*10\b/);
  const score = m ? Number(m[1]) : NaN;
  const reason = text.match(/"reason"\s*:\s*"((?:[^"\\]|\\.)*)/)?.[1] ?? text;
  return inRange(score) ? { score, reason: clip(reason.trim()) } : { score: null, reason: clip(text.trim()) };
}

/** Why the judge rejects an answer, or null when it passes. */
export function judgeRejection(v: Verdict, threshold: number): string | null {
  if (v.score === null) return `judge: no score in its reply (${v.reason ? `"${clip(v.reason, 120)}"` : 'empty'})`;
  if (v.score < threshold) return `judge: ${v.score}/${JUDGE_SCALE} < ${threshold}${v.reason ? `: ${v.reason}` : ''}`;
  return null;
}
