import type { NormalizedExample } from '../../../src-shared/domain/datasets.js';

export const EXPORT_FORMATS = ['openai', 'sharegpt', 'alpaca'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const SHAREGPT_FROM = { user: 'human', assistant: 'gpt', tool: 'observation' } as const;

/**
 * One example as a record of a training format, as Unsloth, Axolotl, LLaMA-Factory and TRL read them:
 * OpenAI chat `{messages}`; ShareGPT `{system?, conversations: [{from, value}]}`; Alpaca
 * `{instruction, input, output, system?, history?}` where earlier turns go to `history` (LLaMA-Factory's form).
 */
export function toRecord(format: ExportFormat, e: NormalizedExample): Record<string, unknown> {
  const system = e.messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
  const turns = e.messages.filter((m) => m.role !== 'system');
  switch (format) {
    case 'openai':
      return { messages: e.messages };
    case 'sharegpt':
      return {
        ...(system ? { system } : {}),
        conversations: turns.map((m) => ({ from: SHAREGPT_FROM[m.role as keyof typeof SHAREGPT_FROM], value: m.content })),
      };
    case 'alpaca': {
      // The last user message is the instruction; its answer (if any) the output; earlier pairs the history.
      const lastUser = turns.map((m) => m.role).lastIndexOf('user');
      const history: [string, string][] = [];
      for (let i = 0; i < lastUser; i++) {
        const m = turns[i]!;
        const next = turns[i + 1];
        if (m.role === 'user' && next?.role === 'assistant') {
          history.push([m.content, next.content]);
          i++;
        }
      }
      const output = turns[lastUser + 1]?.role === 'assistant' ? turns[lastUser + 1]!.content : '';
      return {
        instruction: turns[lastUser]?.content ?? '',
        input: '',
        output,
        ...(system ? { system } : {}),
        ...(history.length ? { history } : {}),
      };
    }
  }
}
