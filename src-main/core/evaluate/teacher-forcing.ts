/**
 * The tokens to teacher-force: a conversation's prompt through the chat template (distill/local-teacher.ts
 * `renderChat`, as a generation would see it) and the answer as the template renders it after that prompt.
 *
 * Which positions count: the answer's tokens THROUGH the one that ends the assistant turn — the first
 * end-of-generation token (<|im_end|>, <|eot_id|>, </s>, <end_of_turn> …) or, for a template that closes turns with
 * plain text, the token that completes the first of its stop texts. Predicting that end is part of answering (a student
 * that does not stop is wrong), while what the template writes after it (ChatML's newline, the next turn's header) is
 * never generated and is not scored. A template that leaves the turn open (Llama 2's, as node-llama-cpp renders a
 * finished turn) gets the answer's tokens and then the model's end-of-generation token.
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
  if (end < 0) {
    // a template that leaves the turn open (node-llama-cpp's Llama 2 wrapper renders "answer\n\n"): the answer's own
    // tokens, then the model's end-of-generation token, which is how a generation of that answer stops
    const eos = tokenizer.tokens.eos;
    const want = answer.trim();
    const covers = (k: number) => tokenizer.detokenize(rest.slice(0, k) as Token[], true).includes(want);
    if (eos === null || want === '' || !covers(rest.length))
      throw new AppError('invalid_input', 'the chat template does not end the assistant turn with an end-of-generation token or a stop text');
    let lo = 1;
    let hi = rest.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (covers(mid)) hi = mid;
      else lo = mid + 1;
    }
    return { promptTokens: p, answerTokens: [...rest.slice(0, lo), eos] };
  }
  return { promptTokens: p, answerTokens: rest.slice(0, end + 1) };
}
