/**
 * The tokens to teacher-force: a conversation's prompt through the chat template (distill/local-teacher.ts
 * `renderChat`, as a generation would see it) and the answer as the template renders it after that prompt.
 *
 * Which positions count: the answer's tokens THROUGH the one that ends the assistant turn — the first
 * end-of-generation token (<|im_end|>, <|eot_id|>, </s>, <end_of_turn> …) or, for a template that closes turns with
 * plain text, the token that completes the first of its stop texts; a template that writes neither (node-llama-cpp's
 * fallback for a model without one) gets the model's end-of-sequence token after the answer. Predicting that end is
 * part of answering (a student that does not stop is wrong), while what the template writes after it (ChatML's
 * newline, the next turn's header) is never generated and is not scored.
 */
import type { LlamaModel, Token } from 'node-llama-cpp';
import type { ChatMessage } from '../../../src-shared/domain/datasets.js';
import { AppError } from '../../../src-shared/errors.js';
import { renderChat } from '../distill/local-teacher.js';

export interface TeacherForcedTokens {
  promptTokens: number[];
  answerTokens: number[];
}

/** `tokenizer`: the (vocabulary-only) model whose template renders the chat — the student's, which is being evaluated. */
export function teacherForcedTokens(tokenizer: LlamaModel, messages: ChatMessage[], answer: string): TeacherForcedTokens {
  const prompt = renderChat(tokenizer, messages);
  const full = renderChat(tokenizer, [...messages, { role: 'assistant', content: answer }]).tokens;
  const p = prompt.tokens;
  if (full.length <= p.length || p.some((t, i) => full[i] !== t)) {
    throw new AppError(
      'invalid_input',
      'the chat template does not render the answer after the prompt (the prompt is not a prefix): it cannot be teacher-forced',
    );
  }
  const rest = full.slice(p.length);
  let end = rest.findIndex((t) => tokenizer.isEogToken(t as Token));
  if (end < 0 && prompt.stops.length) {
    // the shortest prefix whose text contains a stop text (monotone in the length: a binary search)
    const hasStop = (k: number) => {
      const text = tokenizer.detokenize(rest.slice(0, k) as Token[], true);
      return prompt.stops.some((s) => text.includes(s));
    };
    if (hasStop(rest.length)) {
      let lo = 1;
      let hi = rest.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (hasStop(mid)) hi = mid;
        else lo = mid + 1;
      }
      end = lo - 1;
    }
  }
  if (end >= 0) return { promptTokens: p, answerTokens: rest.slice(0, end + 1) };
  // a template that ends an assistant turn with neither (node-llama-cpp's Llama 2 fallback renders "answer\n\n"): the
  // answer as rendered without the template's trailing whitespace, then the end-of-sequence token a generation stops on
  const eos = tokenizer.tokens.eos;
  if (eos === null) throw new AppError('invalid_input', 'the chat template does not end the assistant turn and the model has no end-of-sequence token');
  let n = rest.length;
  if (answer.trimEnd() === answer) while (n > 0 && tokenizer.detokenize([rest[n - 1]] as Token[], true).trim() === '') n--;
  return { promptTokens: p, answerTokens: [...rest.slice(0, n), eos] };
}
