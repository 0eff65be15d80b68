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
 *   1. a line: the same trimmed line, at least `minRepeatedLineLength` (10) characters long and containing a letter,
 *      on `minRepeats` (3) or more consecutive lines — `minRepeatsInCode` (6) inside a fenced code block, where a few
 *      identical lines are ordinary;
 *   2. a looping span: a span of tokens repeated back to back `minRepeats` (3; in fenced code `minRepeatsInCode`, 6)
 *      or more times, whose unit (one period, up to `maxPeriod` (64) tokens) has at least `minUnitDistinctWords` (3)
 *      distinct words, or `minUnitDistinctChars` (4) distinct characters in character mode ("I'm sorry. I'm sorry.
 *      I'm sorry.", "我不知道。我不知道。我不知道。"); prose and each code block are searched separately;
 *   3. a dominant n-gram: over the prose (outside fenced code), with at least `minNgrams` (20) n-grams (n = `ngram`,
 *      3), the most frequent n-gram contains a letter and makes more than `maxTopNgramShare` (30%) of all of them
 *      ("no no no no …").
 *   Tokens are the whitespace-separated words, lowercased; text written without spaces — at least `charModeMinShare`
 *   (30%) of its non-space characters in Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar or Tibetan script — is
 *   tokenized by character (whitespace dropped). The unit-diversity and letter conditions keep code (`[0, 0, 0, …]`,
 *   `}` `}` `}`, table rules `| --- | --- |`) and ordinary prose from triggering.
 * - `truncated-answer`, any of (on the answer with trailing whitespace removed):
 *   1. unclosed code fence: a ``` or ~~~ fence (CommonMark: ≥ 3 characters, up to 3 spaces of indent) is opened and
 *      never closed by a fence of the same character at least as long;
 *   2. dangling last character: the answer ends with `,` `;` `:` `(` `[` `{` `\` `–` `—`, a `-` not preceded by
 *      another `-` (a markdown rule `---` is fine), an operator `=` `+` `&` preceded by a space (`x =`), or the CJK
 *      forms `，` `、` `；` `：` `（` `［` `｛` `【` `「` `『` `《` — unless it ends with an emoji shortcode (`:hugs:`) or
 *      an emoticon (`:(`, `;-(`, `:P`);
 *   3. unbalanced brackets: the answer does not end with a fence line or terminal punctuation (`. ! ? 。 ！ ？ …`),
 *      and its last paragraph of prose (after the last blank line outside fenced code; inline code spans removed)
 *      opens a `(` `[` `{` (or `（` `［` `｛` `【` `「` `『` `《`) that it never closes. Emoticon brackets (`:(` `;(`
 *      `=(` followed by a space or the end) are not counted; unmatched closers (`1) first 2) second`) are ignored;
 *   4. mid-sentence (`midSentence`, default on): the last non-blank line is prose — not a list item, heading, quote,
 *      table row or fence — that contains a finished sentence (a word of ≥ 2 letters followed by `.`, `!` or `?`
 *      and a space, or a CJK `。！？` followed by more text), and it ends with a letter or digit (not an emoticon
 *      like `:P`): the next sentence was cut ("Paris is the capital. It is known for");
 *   5. token limit (only when `countTokens` is given, e.g. the model's tokenizer): the answer is exactly one of
 *      `tokenLimits` tokens long (± `tokenLimitSlack`) and does not end with terminal punctuation or a closing
 *      bracket, quote or fence: generation stopped at max_tokens.
 */
import { messageText, type NormalizedExample } from '../../../../src-shared/domain/datasets.js';

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
  /** Consecutive copies of a line or of a looping span that flag repetition (outside fenced code). */
  minRepeats: number;
  /** The same inside fenced code blocks, where a few identical lines are ordinary (`model.add(Dense(64))` × 3). */
  minRepeatsInCode: number;
  /** Longest looping unit looked for, in tokens. */
  maxPeriod: number;
  /** Distinct words a looping unit needs (word mode). */
  minUnitDistinctWords: number;
  /** Distinct characters a looping unit needs (character mode). */
  minUnitDistinctChars: number;
  /** Shortest trimmed line whose consecutive repetition counts. */
  minRepeatedLineLength: number;
  /** Share of non-space characters from scripts written without spaces above which text is tokenized by character. */
  charModeMinShare: number;
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
  minRepeatsInCode: 6,
  maxPeriod: 64,
  minUnitDistinctWords: 3,
  minUnitDistinctChars: 4,
  minRepeatedLineLength: 10,
  charModeMinShare: 0.3,
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
  const answer = answerIndex >= 0 ? messageText(e.messages[answerIndex]!) : e.reference;
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
// Markdown structure

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/u;

interface Segment {
  code: boolean;
  lines: string[];
}

/**
 * The text cut into prose and fenced-code segments (fence lines belong to neither), and the fence left open at the
 * end, if any (CommonMark: ≥ 3 backticks or tildes after ≤ 3 spaces; a backtick fence's info string has no backtick;
 * closed by the same character, at least as many, nothing after).
 */
function fenceSegments(text: string): { segments: Segment[]; open: { char: string; length: number } | null } {
  const segments: Segment[] = [];
  let current: Segment = { code: false, lines: [] };
  let open: { char: string; length: number } | null = null;
  const push = (code: boolean) => {
    if (current.lines.length > 0) segments.push(current);
    current = { code, lines: [] };
  };
  for (const line of text.split('\n')) {
    const fence = FENCE.exec(line);
    if (open === null) {
      if (fence && !(fence[1]![0] === '`' && fence[2]!.includes('`'))) {
        open = { char: fence[1]![0]!, length: fence[1]!.length };
        push(true);
      } else {
        current.lines.push(line);
      }
    } else if (fence && fence[1]![0] === open.char && fence[1]!.length >= open.length && fence[2]!.trim() === '') {
      open = null;
      push(false);
    } else {
      current.lines.push(line);
    }
  }
  push(false);
  return { segments, open };
}

// ---------------------------------------------------------------------------------------------------------------------
// Repetition

const LETTER = /\p{L}/u;
/** Scripts written without spaces between words. */
const SPACELESS = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{Script=Tibetan}]/gu;
const quote = (s: string, max = 60) => `“${s.length > max ? `${s.slice(0, max - 1)}…` : s}”`;

/** Token ids (equal tokens, equal ids), numbering new tokens in `idOf`. */
function idsOf(tokens: readonly string[], idOf: Map<string, number>): Int32Array {
  const ids = new Int32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    let id = idOf.get(t);
    if (id === undefined) idOf.set(t, (id = idOf.size));
    ids[i] = id;
  }
  return ids;
}

/** A span of tokens repeated back to back at least `minRepeats` times whose unit has `minDistinct` distinct tokens, described; or null. */
function loopingSpan(tokens: string[], ids: Int32Array, joiner: string, minDistinct: number, minRepeats: number, maxPeriodOption: number): string | null {
  const m = ids.length;
  const maxPeriod = Math.min(maxPeriodOption, Math.floor(m / minRepeats));
  for (let p = 1; p <= maxPeriod; p++) {
    const need = (minRepeats - 1) * p; // matching positions that make minRepeats copies of a p-token unit
    let matched = 0; // positions i with ids[i] === ids[i - p] in the current run
    for (let i = p; i <= m; i++) {
      if (i < m && ids[i] === ids[i - p]) {
        matched++;
        continue;
      }
      if (matched >= need) {
        const start = i - matched - p;
        if (new Set(ids.subarray(start, start + p)).size >= minDistinct) {
          const copies = Math.floor((matched + p) / p);
          return `${quote(tokens.slice(start, start + p).join(joiner))} is repeated ${copies} times in a row`;
        }
      }
      matched = 0;
    }
  }
  return null;
}

/** Why `text` looks like a degenerate loop (see the module comment), or null. */
export function repetitionIssue(text: string, options: Partial<QualityOptions> = {}): string | null {
  const opts: QualityOptions = { ...DEFAULT_QUALITY_OPTIONS, ...options };
  const { segments } = fenceSegments(text);
  // Tokens: lowercased words, or in character mode the characters of the words (whitespace dropped).
  const words = segments.map((g) =>
    g.lines
      .join('\n')
      .toLowerCase()
      .split(/\s+/u)
      .filter((w) => w !== ''),
  );
  const nonSpace = words.reduce((n, list) => list.reduce((k, w) => k + w.length, n), 0);
  if (nonSpace === 0) return null;
  const charMode = (text.match(SPACELESS)?.length ?? 0) / nonSpace >= opts.charModeMinShare;
  const joiner = charMode ? '' : ' ';

  const idOf = new Map<string, number>();
  const proseTokens: string[] = [];
  const proseIds: number[] = [];
  for (const [g, segment] of segments.entries()) {
    const minRepeats = segment.code ? opts.minRepeatsInCode : opts.minRepeats;
    // 1. The same line several times in a row.
    let previous = '';
    let run = 0;
    for (const raw of segment.lines) {
      const line = raw.trim();
      run = line !== '' && line === previous ? run + 1 : 1;
      previous = line;
      if (run >= minRepeats && line.length >= opts.minRepeatedLineLength && LETTER.test(line)) {
        return `the line ${quote(line)} is repeated ${minRepeats}+ times in a row`;
      }
    }
    // 2. A span looping back to back.
    const tokens = charMode ? Array.from(words[g]!.join('')) : words[g]!;
    const ids = idsOf(tokens, idOf);
    const loop = loopingSpan(tokens, ids, joiner, charMode ? opts.minUnitDistinctChars : opts.minUnitDistinctWords, minRepeats, opts.maxPeriod);
    if (loop) return loop;
    if (!segment.code) {
      for (const t of tokens) proseTokens.push(t);
      for (const id of ids) proseIds.push(id);
    }
  }

  // 3. One n-gram dominating the prose (n-grams keyed by a number: ids in base `distinct`, exact below 2^53).
  const ids = Int32Array.from(proseIds);
  const n = opts.ngram;
  const total = ids.length - n + 1;
  // Every occurrence of an n-gram starts with its first token: when no token occurs often enough, no n-gram does.
  let distinct = 0;
  for (const id of ids) if (id >= distinct) distinct = id + 1;
  const tokenCounts = new Int32Array(distinct);
  let maxTokenCount = 0;
  for (const id of ids) if (++tokenCounts[id]! > maxTokenCount) maxTokenCount = tokenCounts[id]!;
  if (total >= opts.minNgrams && maxTokenCount / total > opts.maxTopNgramShare) {
    const numeric = Math.pow(distinct, n) < Number.MAX_SAFE_INTEGER;
    const counts = new Map<number | string, number>();
    let best = 0;
    let bestAt = 0;
    for (let i = 0; i < total; i++) {
      let key: number | string;
      if (numeric) {
        key = 0;
        for (let k = 0; k < n; k++) key = key * distinct + ids[i + k]!;
      } else {
        key = ids.subarray(i, i + n).join(',');
      }
      const c = (counts.get(key) ?? 0) + 1;
      counts.set(key, c);
      if (c > best) {
        best = c;
        bestAt = i;
      }
    }
    const gram = proseTokens.slice(bestAt, bestAt + n);
    if (best / total > opts.maxTopNgramShare && gram.some((t) => LETTER.test(t))) {
      return `the ${n}-gram ${quote(gram.join(joiner))} makes ${Math.round((100 * best) / total)}% of the answer's ${total} ${n}-grams`;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------------
// Truncation

const TERMINAL = /[.!?。！？…]$/u;
/** Always dangling at the very end. */
const DANGLING = new Set([',', ';', ':', '(', '[', '{', '\\', '–', '—', '，', '、', '；', '：', '（', '［', '｛', '【', '「', '『', '《']);
/** Dangling when preceded by a space: an operator waiting for its right operand. */
const DANGLING_OPERATORS = new Set(['=', '+', '&']);
/** Emoji shortcodes (`:hugs:`) and emoticons (`:(`, `;-(`, `:P`, `:D`) at the end are not cut text. */
const EMOJI_END = /(?::[a-z0-9_+-]+:|[:;=]-?[([A-Za-z])$/u;
const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}', '（': '）', '［': '］', '｛': '｝', '【': '】', '「': '」', '『': '』', '《': '》' };
const CLOSERS = new Map(Object.entries(OPENERS).map(([o, c]) => [c, o]));
const BRACKETS = /[()[\]{}（）［］｛｝【】「」『』《》]/gu;
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

  // 1. A fence left open.
  const { segments, open } = fenceSegments(body);
  if (open !== null) return `a ${open.char.repeat(3)} code fence is never closed`;

  const lines = body.split('\n');
  const lastLine = lines.at(-1)!;
  const endsWithFence = FENCE.test(lastLine);
  const emojiEnd = EMOJI_END.test(body);

  // 2. Dangling last character.
  const tail = Array.from(body.slice(-4));
  const last = tail.at(-1)!;
  const beforeLast = tail.at(-2) ?? '';
  if (!endsWithFence && !emojiEnd && !THEMATIC_BREAK.test(lastLine)) {
    if (DANGLING.has(last) || (last === '-' && beforeLast !== '-') || (DANGLING_OPERATORS.has(last) && /\s/u.test(beforeLast))) {
      return `the answer ends with a dangling ${quote(last)}`;
    }
  }

  // 3. Unclosed brackets in the last paragraph of prose (inline code spans removed).
  if (!endsWithFence && !TERMINAL.test(body)) {
    const prose = segments.filter((g) => !g.code).flatMap((g) => g.lines);
    const blank = prose.findLastIndex((l) => l.trim() === '');
    const paragraph = prose
      .slice(blank + 1)
      .join('\n')
      .replace(/`[^`\n]*`/gu, '');
    const depth = new Map<string, number>();
    for (const m of paragraph.matchAll(BRACKETS)) {
      const c = m[0];
      if (c in OPENERS) {
        const emoticon = (c === '(' || c === '[') && /[:;=]/u.test(paragraph[m.index - 1] ?? '') && /^\s?$/u.test(paragraph[m.index + 1] ?? '');
        if (!emoticon) depth.set(c, (depth.get(c) ?? 0) + 1);
      } else {
        const opener = CLOSERS.get(c)!;
        if ((depth.get(opener) ?? 0) > 0) depth.set(opener, depth.get(opener)! - 1);
      }
    }
    const unclosed = [...depth.entries()].filter(([, d]) => d > 0).map(([o]) => o);
    if (unclosed.length > 0) return `unclosed ${unclosed.map((o) => quote(o)).join(', ')} at the end of the answer`;
  }

  // 4. Last line cut mid-sentence.
  if (opts.midSentence && !endsWithFence && !emojiEnd) {
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
