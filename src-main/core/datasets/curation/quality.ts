/**
 * Language-agnostic quality checks on one example: only structure, punctuation and repetition, no word lists, so they
 * behave the same on English, CJK or code.
 *
 * The answer is the last assistant message (the reference); the prompt is every message before it (every message
 * when there is no assistant message). Each kind is reported at most once per example.
 *
 * - `empty-prompt`: no user message of the prompt has non-whitespace content (or the prompt has no user message).
 * - `empty-answer`: the answer exists and is empty or whitespace-only. Examples without any assistant message are
 *   prompt-only and NOT flagged. The two checks below run only on a non-empty answer.
 * - `repeated-ngrams` (degenerate loops), any of:
 *   1. a line: the same trimmed line, at least `minRepeatedLineLength` characters long and containing a letter, on
 *      `minRepeats` (3) or more consecutive lines;
 *   2. a looping span: a span of tokens repeated back to back `minRepeats` (3) or more times, whose unit (one period,
 *      up to `maxPeriod` tokens) has at least `minUnitDistinctWords` (3) distinct words, or `minUnitDistinctChars` (4)
 *      distinct characters in character mode ("I'm sorry. I'm sorry. I'm sorry.", "我不知道。我不知道。我不知道。");
 *   3. a dominant n-gram: with at least `minNgrams` (20) n-grams (n = `ngram`, 3), the most frequent n-gram contains a
 *      letter and makes more than `maxTopNgramShare` (30%) of all of them ("no no no no …").
 *   Tokens are the whitespace-separated words, lowercased; text written without spaces (CJK, Thai…), detected as an
 *   average of more than `charModeAvgTokenLength` (12) non-space characters per word, is tokenized by character
 *   (whitespace dropped). The unit-diversity and letter conditions keep code (`[0, 0, 0, 0, …]`, `}` `}` `}`, table
 *   rules `| --- | --- |`) and ordinary prose from triggering.
 * - `truncated-answer`, any of (on the answer with trailing whitespace removed):
 *   1. unclosed code fence: a ``` or ~~~ fence (CommonMark: ≥ 3 characters, up to 3 spaces of indent) is opened and
 *      never closed by a fence of the same character at least as long;
 *   2. dangling last character: the answer ends with `,` `;` `:` `(` `[` (not in an emoticon `:(` `;(` `=(`) `{`
 *      `\` `–` `—`, a `-` not preceded by another `-` (a markdown rule `---` is fine), an operator `=` `+` `&`
 *      preceded by a space (`x =`), or the CJK forms `，` `、` `；` `：` `（` `［` `｛` `【` `「` `『` `《`;
 *   3. unbalanced brackets: outside fenced code blocks and inline code spans, a `(` `[` `{` (or `（` `［` `｛` `【` `「`
 *      `『` `《`) is never closed, and the answer does not end with terminal punctuation (`. ! ? 。 ！ ？ …`).
 *      Emoticon brackets (`:(` `;(` `=(` followed by a space or the end) are not counted; unmatched closers
 *      (`1) first 2) second`) are ignored;
 *   4. mid-sentence (`midSentence`, default on): the last non-blank line is prose — not a list item, heading, quote,
 *      table row or fence — that contains a finished sentence (a word of ≥ 2 letters followed by `.`, `!` or `?`
 *      and a space, or a CJK `。！？` followed by more text), and it ends with a letter or digit: the next sentence was
 *      cut ("Paris is the capital. It is known for");
 *   5. token limit (only when `countTokens` is given, e.g. the model's tokenizer): the answer is exactly one of
 *      `tokenLimits` tokens long (± `tokenLimitSlack`) and does not end with terminal punctuation or a closing
 *      bracket, quote or fence: generation stopped at max_tokens.
 */
import type { NormalizedExample } from '../../../../src-shared/domain/datasets.js';

export type QualityIssueKind = 'empty-answer' | 'repeated-ngrams' | 'truncated-answer' | 'empty-prompt';

export interface QualityIssue {
  kind: QualityIssueKind;
  /** Human-readable reason, naming the rule and quoting the offending text (shortened). */
  detail: string;
}

export interface QualityOptions {
  /** n of the dominant n-gram rule. */
  ngram: number;
  /** Share of all n-grams above which the most frequent one flags repetition. */
  maxTopNgramShare: number;
  /** Fewer n-grams than this: the dominant n-gram rule does not apply (short answers). */
  minNgrams: number;
  /** Consecutive copies of a line or of a looping span that flag repetition. */
  minRepeats: number;
  /** Longest looping unit looked for, in tokens. */
  maxPeriod: number;
  /** Distinct words a looping unit needs (word mode). */
  minUnitDistinctWords: number;
  /** Distinct characters a looping unit needs (character mode). */
  minUnitDistinctChars: number;
  /** Shortest trimmed line whose consecutive repetition counts. */
  minRepeatedLineLength: number;
  /** Average non-space characters per whitespace-separated word above which text is tokenized by character. */
  charModeAvgTokenLength: number;
  /** Check for a last line cut mid-sentence. */
  midSentence: boolean;
  /** Token counter for the token-limit rule; the rule is off without it. */
  countTokens?: (text: string) => number;
  /** Generation limits (max_tokens) that an unfinished answer may have hit. */
  tokenLimits: readonly number[];
  /** Tolerance, in tokens, around each limit. */
  tokenLimitSlack: number;
}

export const DEFAULT_QUALITY_OPTIONS: Readonly<QualityOptions> = Object.freeze({
  ngram: 3,
  maxTopNgramShare: 0.3,
  minNgrams: 20,
  minRepeats: 3,
  maxPeriod: 64,
  minUnitDistinctWords: 3,
  minUnitDistinctChars: 4,
  minRepeatedLineLength: 10,
  charModeAvgTokenLength: 12,
  midSentence: true,
  tokenLimits: Object.freeze([64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768]),
  tokenLimitSlack: 0,
});

/** The issues of one example (at most one per kind), in the order empty-prompt, empty-answer, repeated-ngrams, truncated-answer. */
export function qualityIssues(e: NormalizedExample, options: Partial<QualityOptions> = {}): QualityIssue[] {
  const opts: QualityOptions = { ...DEFAULT_QUALITY_OPTIONS, ...options };
  const issues: QualityIssue[] = [];
  let answerIndex = -1;
  for (let i = e.messages.length - 1; i >= 0; i--) {
    if (e.messages[i]!.role === 'assistant') {
      answerIndex = i;
      break;
    }
  }
  const prompt = answerIndex < 0 ? e.messages : e.messages.slice(0, answerIndex);
  const users = prompt.filter((m) => m.role === 'user');
  if (!users.some((m) => m.content.trim() !== '')) {
    issues.push({ kind: 'empty-prompt', detail: users.length === 0 ? 'the prompt has no user message' : 'every user message of the prompt is empty' });
  }
  const answer = answerIndex >= 0 ? e.messages[answerIndex]!.content : e.reference;
  if (answer === null) return issues; // prompt-only example
  if (answer.trim() === '') {
    issues.push({ kind: 'empty-answer', detail: answer === '' ? 'the answer is empty' : 'the answer is only whitespace' });
    return issues;
  }
  const repetition = repetitionIssue(answer, opts);
  if (repetition) issues.push({ kind: 'repeated-ngrams', detail: repetition });
  const truncation = truncationIssue(answer, opts);
  if (truncation) issues.push({ kind: 'truncated-answer', detail: truncation });
  return issues;
}

// ---------------------------------------------------------------------------------------------------------------------
// Repetition

const LETTER = /\p{L}/u;
const quote = (s: string, max = 60) => `“${s.length > max ? `${s.slice(0, max - 1)}…` : s}”`;

/** Why `text` looks like a degenerate loop (see the module comment), or null. */
export function repetitionIssue(text: string, options: Partial<QualityOptions> = {}): string | null {
  const opts: QualityOptions = { ...DEFAULT_QUALITY_OPTIONS, ...options };

  // 1. The same line several times in a row.
  let previous = '';
  let run = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    run = line !== '' && line === previous ? run + 1 : 1;
    previous = line;
    if (run >= opts.minRepeats && line.length >= opts.minRepeatedLineLength && LETTER.test(line)) {
      return `the line ${quote(line)} is repeated ${opts.minRepeats}+ times in a row`;
    }
  }

  // Tokens: words, or characters for text written without spaces.
  const words = text.split(/\s+/u).filter((w) => w !== '');
  if (words.length === 0) return null;
  const nonSpace = words.reduce((n, w) => n + w.length, 0);
  const charMode = nonSpace / words.length > opts.charModeAvgTokenLength;
  const tokens = charMode ? Array.from(words.join('')) : words.map((w) => w.toLowerCase());
  const idOf = new Map<string, number>();
  const ids = new Int32Array(tokens.length);
  tokens.forEach((t, i) => {
    let id = idOf.get(t);
    if (id === undefined) idOf.set(t, (id = idOf.size));
    ids[i] = id;
  });
  const joiner = charMode ? '' : ' ';

  // 2. A span looping back to back.
  const m = ids.length;
  const minDistinct = charMode ? opts.minUnitDistinctChars : opts.minUnitDistinctWords;
  const maxPeriod = Math.min(opts.maxPeriod, Math.floor(m / opts.minRepeats));
  for (let p = 1; p <= maxPeriod; p++) {
    let matched = 0; // positions i with ids[i] === ids[i - p] in the current run
    for (let i = p; i <= m; i++) {
      if (i < m && ids[i] === ids[i - p]) {
        matched++;
        continue;
      }
      const copies = Math.floor((matched + p) / p);
      if (copies >= opts.minRepeats) {
        const start = i - matched - p;
        const unit = ids.subarray(start, start + p);
        if (new Set(unit).size >= minDistinct) {
          return `${quote(tokens.slice(start, start + p).join(joiner))} is repeated ${copies} times in a row`;
        }
      }
      matched = 0;
    }
  }

  // 3. One n-gram dominating the answer.
  const n = opts.ngram;
  const total = m - n + 1;
  if (total >= opts.minNgrams) {
    const counts = new Map<string, number>();
    let best = 0;
    let bestAt = 0;
    for (let i = 0; i < total; i++) {
      let key = '';
      for (let k = 0; k < n; k++) key += `${ids[i + k]},`;
      const c = (counts.get(key) ?? 0) + 1;
      counts.set(key, c);
      if (c > best) {
        best = c;
        bestAt = i;
      }
    }
    const gram = tokens.slice(bestAt, bestAt + n);
    if (best / total > opts.maxTopNgramShare && gram.some((t) => LETTER.test(t))) {
      return `the ${n}-gram ${quote(gram.join(joiner))} makes ${Math.round((100 * best) / total)}% of the answer's ${total} ${n}-grams`;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------------
// Truncation

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/u;
const TERMINAL = /[.!?。！？…]$/u;
/** Always dangling at the very end. */
const DANGLING = new Set([',', ';', ':', '(', '[', '{', '\\', '–', '—', '，', '、', '；', '：', '（', '［', '｛', '【', '「', '『', '《']);
/** Dangling when preceded by a space: an operator waiting for its right operand. */
const DANGLING_OPERATORS = new Set(['=', '+', '&']);
const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}', '（': '）', '［': '］', '｛': '｝', '【': '】', '「': '」', '『': '』', '《': '》' };
const CLOSERS = new Map(Object.entries(OPENERS).map(([o, c]) => [c, o]));
const THEMATIC_BREAK = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/u;
const NOT_PROSE_LINE = /^\s*(?:[-*+>#|]|\d+[.)](?:\s|$)|`{3,}|~{3,})/u;
const FINISHED_SENTENCE = /\p{L}{2}[.!?]["'”’»)\]]*\s+\S|[。！？]["'”’」』)）]*\S/u;
const ENDS_IN_WORD = /[\p{L}\p{N}]$/u;
const CLOSING_END = /[.!?。！？…)\]}）］｝】」』》"'`”’»]$/u;

/** Why `text` looks cut off (see the module comment), or null. */
export function truncationIssue(text: string, options: Partial<QualityOptions> = {}): string | null {
  const opts: QualityOptions = { ...DEFAULT_QUALITY_OPTIONS, ...options };
  const body = text.trimEnd();
  if (body === '') return null;
  const lines = body.split('\n');

  // 1. Fences; collect the text outside them for the bracket rule.
  let open: { char: string; length: number } | null = null;
  const outside: string[] = [];
  for (const line of lines) {
    const fence = FENCE.exec(line);
    if (open === null) {
      if (fence && !(fence[1]![0] === '`' && fence[2]!.includes('`'))) open = { char: fence[1]![0]!, length: fence[1]!.length };
      else outside.push(line);
    } else if (fence && fence[1]![0] === open.char && fence[1]!.length >= open.length && fence[2]!.trim() === '') {
      open = null;
    }
  }
  if (open !== null) return `a ${open.char.repeat(3)} code fence is never closed`;

  const lastLine = lines.at(-1)!;
  const endsWithFence = FENCE.test(lastLine);

  // 2. Dangling last character.
  const chars = Array.from(body);
  const last = chars.at(-1)!;
  const beforeLast = chars.at(-2) ?? '';
  if (!endsWithFence && !THEMATIC_BREAK.test(lastLine)) {
    const emoticon = (last === '(' || last === '[') && /[:;=]/u.test(beforeLast);
    if ((DANGLING.has(last) && !emoticon) || (last === '-' && beforeLast !== '-') || (DANGLING_OPERATORS.has(last) && /\s/u.test(beforeLast))) {
      return `the answer ends with a dangling ${quote(last)}`;
    }
  }

  // 3. Unclosed brackets outside code.
  if (!TERMINAL.test(body)) {
    const prose = outside.join('\n').replace(/`[^`\n]*`/gu, '');
    const depth = new Map<string, number>();
    const proseChars = Array.from(prose);
    proseChars.forEach((c, i) => {
      if (c in OPENERS) {
        const emoticon = (c === '(' || c === '[') && /[:;=]/u.test(proseChars[i - 1] ?? '') && /^\s?$/u.test(proseChars[i + 1] ?? '');
        if (!emoticon) depth.set(c, (depth.get(c) ?? 0) + 1);
      } else {
        const opener = CLOSERS.get(c);
        if (opener !== undefined && (depth.get(opener) ?? 0) > 0) depth.set(opener, depth.get(opener)! - 1);
      }
    });
    const unclosed = [...depth.entries()].filter(([, d]) => d > 0).map(([o]) => o);
    if (unclosed.length > 0) return `unclosed ${unclosed.map((o) => quote(o)).join(', ')} at the end of the answer`;
  }

  // 4. Last line cut mid-sentence.
  if (opts.midSentence && !endsWithFence) {
    const line = lines.findLast((l) => l.trim() !== '')!.trim();
    if (!NOT_PROSE_LINE.test(line) && FINISHED_SENTENCE.test(line) && ENDS_IN_WORD.test(line)) {
      return `the last sentence is cut off: ${quote(line.length > 60 ? `…${line.slice(-59)}` : line)}`;
    }
  }

  // 5. Stopped at a generation limit.
  if (opts.countTokens && !CLOSING_END.test(body) && !endsWithFence) {
    const n = opts.countTokens(text);
    const limit = opts.tokenLimits.find((l) => Math.abs(n - l) <= opts.tokenLimitSlack);
    if (limit !== undefined) return `the answer is ${n} tokens long (a generation limit of ${limit}) and has no final punctuation`;
  }
  return null;
}
