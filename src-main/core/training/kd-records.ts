/**
 * One example's soft labels as training records (docs/training.md, "Soft labels (KD)"): the teacher's stored top-k per
 * answer token (token TEXTS, distill_logprobs) put into the student's ids (evaluate/soft-labels.ts SoftLabelMapper)
 * and aligned with the student's tokens of the conversation as Axolotl renders it (the chat template through Jinja,
 * tokenized by the student's vocabulary). Pure functions: kd.ts feeds them the tokens and writes the lines.
 *
 * Alignment (Axolotl's `axolotl.integrations.kd.chat_template`, ChatTemplateStrategyWithKDv2): the `logprobs` rows are
 * RIGHT-aligned with the tokenized conversation (the first len(input_ids) − len(rows) positions get empty rows) and
 * the row at position p is compared with the student's logits at p, which predict token p + 1 (the trainer shifts
 * the hard labels, never the KD targets). So the rows start at the last prompt token (its row: the teacher's
 * distribution of the first answer token), one per answer token, then one ONE-HOT row (log-probability 0 on the true
 * token) for each token the template writes after the answer (end of turn …: a teacher's stored labels stop at its
 * answer), and a last row at the conversation's last token, which predicts nothing: one-hot on end-of-sequence.
 */
import { Template } from '@huggingface/jinja';
import type { ChatMessage, ToolDefinition } from '../../../src-shared/domain/datasets.js';
import type { TokenLogprob } from '../../../src-shared/domain/distill.js';
import type { SoftLabelMapper } from '../evaluate/soft-labels.js';

/**
 * Axolotl's own ChatML (src/axolotl/utils/chat_templates/templates/chatml.jinja), for a student GGUF without a chat
 * template: the records and the recipe then use it.
 */
export const CHATML_TEMPLATE =
  "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/** The log-probability of a filler alternative (a row padded to k): e^−30 ≈ 9e−14, never 0 (0 · log 0 is NaN in a loss). */
export const FILLER_LOGPROB = -30;

/** Six decimals: a probability moves by < 1e−6 relative. */
const round = (x: number) => Math.round(x * 1e6) / 1e6 || 0;

export interface ChatRenderer {
  /** The conversation as the template writes it: with the generation prompt (the prompt side) or without (training). */
  render(messages: ChatMessage[], tools: ToolDefinition[] | undefined, addGenerationPrompt: boolean): string;
}

export function chatRenderer(source: string, bos: string, eos: string): ChatRenderer {
  const template = new Template(source);
  return {
    render(messages, tools, addGenerationPrompt) {
      return template.render({
        messages: messages.map((m) => ({ role: m.role, content: m.content })),
        ...(tools?.length ? { tools } : {}),
        add_generation_prompt: addGenerationPrompt,
        bos_token: bos,
        eos_token: eos,
      });
    },
  };
}

/** What the Jinja template writes for one example: the prompt side, and the training conversation. */
export interface RenderedTexts {
  prompt: string;
  full: string;
}

/** The texts to tokenize, or why the template does not write the answer right after the prompt. */
export function renderTexts(r: ChatRenderer, messages: ChatMessage[], tools: ToolDefinition[] | undefined): RenderedTexts | { reason: string } {
  const answer = messages.at(-1)!.content;
  let prompt: string;
  let full: string;
  try {
    prompt = r.render(messages.slice(0, -1), tools, true);
    full = r.render(messages, tools, false);
  } catch (e) {
    return { reason: `the chat template fails on it: ${(e as Error).message}` };
  }
  if (!full.startsWith(prompt + answer)) return { reason: 'the chat template does not write the answer right after the prompt' };
  return { prompt, full };
}

export interface KdRecordInput {
  messages: ChatMessage[];
  /** The teacher's stored labels of this answer, token by token. */
  stored: TokenLogprob[];
  /** The student's tokens of the prompt side, of prompt + answer, and of the whole training conversation. */
  promptTokens: ArrayLike<number>;
  withAnswerTokens: ArrayLike<number>;
  fullTokens: ArrayLike<number>;
  k: number;
  eos: number;
}

/** One example's records: the app's compact form (answer rows only) and Axolotl's rows (answer, tail, end). */
export interface KdRecord {
  /** The student's ids of the answer's tokens (the tokens the teacher chose), one per answer row. */
  tokens: number[];
  /** Per answer token, the teacher's alternatives in the student's ids, likeliest first (≤ k: duplicates merged). */
  ids: number[][];
  logprobs: number[][];
  /** Rows that hold the hard label only (one-hot, log-probability 0): the first, when the answer's trimming cut its token. */
  hard: number[];
  /** Axolotl's rows, each exactly k wide (see the file's comment). */
  axolotlIds: number[][];
  axolotlLogprobs: number[][];
}

const startsWith = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  if (b.length > a.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/**
 * The stored tokens that spell the answer: leading whitespace-only tokens (trimmed off the answer) and a stop text's
 * after it left out. `trimmed`: the first token carried whitespace the answer was trimmed of (" Hello" for "Hello").
 */
export function answerSpan(stored: TokenLogprob[], answer: string): { span: TokenLogprob[]; trimmed: boolean } | null {
  let i = 0;
  while (i < stored.length && stored[i]!.token.trim() === '' && !answer.startsWith(stored[i]!.token)) i++;
  if (i >= stored.length) return null;
  const first = stored[i]!.token;
  let text = answer.startsWith(first) ? first : first.trimStart();
  const trimmed = text !== first;
  let j = i + 1;
  while (j < stored.length && text.length < answer.length) text += stored[j++]!.token;
  return text === answer ? { span: stored.slice(i, j), trimmed } : null;
}

/** A row padded to k with the smallest ids not in it, at FILLER_LOGPROB. */
function pad(ids: number[], logprobs: number[], k: number): { ids: number[]; logprobs: number[] } {
  const out = { ids: [...ids], logprobs: [...logprobs] };
  const taken = new Set(ids);
  for (let id = 0; out.ids.length < k; id++) {
    if (taken.has(id)) continue;
    out.ids.push(id);
    out.logprobs.push(FILLER_LOGPROB);
  }
  return out;
}

export function kdRecord(mapper: SoftLabelMapper, x: KdRecordInput): KdRecord | { reason: string } {
  const answer = x.messages.at(-1)!.content;
  if (!startsWith(x.withAnswerTokens, x.promptTokens) || !startsWith(x.fullTokens, x.withAnswerTokens)) {
    return { reason: "the student's tokens of the answer change with what the template writes around it" };
  }
  const tokens = Array.from(x.withAnswerTokens).slice(x.promptTokens.length);
  if (tokens.length === 0) return { reason: 'the answer is empty' };
  const found = answerSpan(x.stored, answer);
  if (!found) return { reason: "the stored soft labels do not spell the answer (the teacher's tokens end inside it or run past it)" };
  const { span, trimmed } = found;
  if (span.length !== tokens.length) {
    return { reason: `the teacher wrote the answer in ${span.length} tokens, the student's tokenizer in ${tokens.length}: the soft labels do not align` };
  }
  // a first token the answer's trimming cut: its text without the whitespace must be the student's first token, and
  // its distribution (over tokens after that whitespace) is not the student's: that row is the hard label
  const texts = trimmed ? [{ token: span[0]!.token.trimStart(), logprob: 0, top: [] }, ...span.slice(1)] : span;
  const aligned = mapper.align(texts, tokens);
  if (!aligned.ok) return { reason: aligned.reason };
  const ids: number[][] = [];
  const logprobs: number[][] = [];
  aligned.positions.forEach((p, j) => {
    const order = p.ids.map((_, i) => i).sort((a, b) => p.logprobs[b]! - p.logprobs[a]!);
    // no alternative the student has (each a partial character), or the trimmed first token: the chosen token alone
    const row = order.length ? order.map((i) => p.ids[i]!) : [tokens[j]!];
    const lp = order.length ? order.map((i) => round(p.logprobs[i]!)) : [round(Math.min(0, texts[j]!.logprob))];
    ids.push(row.slice(0, x.k));
    logprobs.push(lp.slice(0, x.k));
  });
  const axolotlIds: number[][] = [];
  const axolotlLogprobs: number[][] = [];
  const push = (row: { ids: number[]; logprobs: number[] }) => {
    axolotlIds.push(row.ids);
    axolotlLogprobs.push(row.logprobs);
  };
  ids.forEach((row, j) => push(pad(row, logprobs[j]!, x.k)));
  for (let p = x.withAnswerTokens.length; p < x.fullTokens.length; p++) push(pad([x.fullTokens[p]!], [0], x.k));
  push(pad([x.eos], [0], x.k));
  return { tokens, ids, logprobs, hard: trimmed ? [0] : [], axolotlIds, axolotlLogprobs };
}
