/**
 * The pairwise judge: a model is shown the prompt and two answers (A and B) and says which is better, or a tie. Each
 * pair is asked in both orders (the student's answer first, then the teacher's first) to cancel position bias, as
 * MT-Bench's pairwise judge does: the student wins only when both orders prefer it, loses only when both prefer the
 * teacher; anything else (disagreement, ties, unreadable replies) is a tie.
 */
import type { ChatMessage } from '../../../src-shared/domain/datasets.js';

export const PAIRWISE_SCHEMA = {
  type: 'object',
  properties: { winner: { type: 'string', enum: ['A', 'B', 'tie'] }, reason: { type: 'string' } },
  required: ['winner', 'reason'],
  additionalProperties: false,
} as const;

export function pairwiseMessages(rubric: string, prompt: ChatMessage[], a: string, b: string): ChatMessage[] {
  const asked = prompt.filter((m) => m.role !== 'system').at(-1)?.content ?? '';
  return [
    {
      role: 'system',
      content:
        'You compare two answers to the same prompt against a rubric. Ignore their order and length; judge what they say. ' +
        'Reply with JSON only: {"winner": "A" | "B" | "tie", "reason": "<one short sentence>"}.',
    },
    { role: 'user', content: `RUBRIC:\n${rubric}\n\nPROMPT:\n${asked}\n\nANSWER A:\n${a}\n\nANSWER B:\n${b}` },
  ];
}

export type Preference = 'A' | 'B' | 'tie' | null;

/** The judge's choice: its JSON, else a lone "A"/"B"/"tie" in the text; null when it says none. */
export function readPreference(text: string): Preference {
  const json = text.match(/\{[\s\S]*\}/)?.[0];
  if (json) {
    try {
      const w = (JSON.parse(json) as { winner?: unknown }).winner;
      if (w === 'A' || w === 'B') return w;
      if (typeof w === 'string' && w.toLowerCase() === 'tie') return 'tie';
    } catch {
      /* read it as text */
    }
  }
  const m = text.match(/"?winner"?\s*[:=]\s*"?(A|B|tie)\b/i) ?? text.match(/^\s*(A|B|tie)\s*$/i);
  if (!m) return null;
  const w = m[1]!;
  return w.toLowerCase() === 'tie' ? 'tie' : (w.toUpperCase() as 'A' | 'B');
}

/**
 * The student's result from both orders: `first` asked with the student as A, `second` with the student as B.
 * 1 = win, 0.5 = tie, 0 = loss.
 */
export function pairwiseOutcome(first: Preference, second: Preference): 1 | 0.5 | 0 {
  const studentFirst = first === 'A' ? 1 : first === 'B' ? -1 : 0;
  const studentSecond = second === 'B' ? 1 : second === 'A' ? -1 : 0;
  if (studentFirst === 1 && studentSecond === 1) return 1;
  if (studentFirst === -1 && studentSecond === -1) return 0;
  return 0.5;
}
