/**
 * Per-answer text metrics on normalized answers: exact match, contains, token F1 (SQuAD's definitions), and a regular
 * expression with a guard against patterns that can take exponential time. Every score is 0..1.
 */
import { AppError } from '../../../../src-shared/errors.js';

/**
 * Whether a UTF-16 code unit is Python whitespace (`str.isspace()`, what `str.split()` splits on; every such code
 * point is in the BMP). JavaScript's `\s` differs: it lacks U+001C–U+001F and U+0085 and has U+FEFF. chrF and the
 * contamination words split as Python does.
 */
export function isPyWhitespace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  if (c < 0x85) return false;
  return (
    c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  );
}

// Unicode punctuation, plus the ASCII symbols of Python's string.punctuation that Unicode calls symbols ($+<=>^`|~),
// so ASCII behaves exactly as SQuAD's normalize_answer (which deletes string.punctuation).
const PUNCTUATION = /^[\p{P}$+<=>^`|~]$/u;
// per ASCII code: 1 punctuation (deleted), 2 whitespace
const ASCII = new Uint8Array(128);
for (let c = 0; c < 128; c++) ASCII[c] = PUNCTUATION.test(String.fromCharCode(c)) ? 1 : isPyWhitespace(c) ? 2 : 0;

/**
 * The answer as compared by exact/contains/F1: lowercased, punctuation deleted (as SQuAD does: "don't" → "dont"),
 * whitespace runs collapsed to one space, trimmed. Unlike SQuAD, articles (a, an, the) are kept: the issue asks for
 * case, whitespace and punctuation only, and answers are not always English.
 */
export function normalizeAnswer(s: string): string {
  const lower = s.toLowerCase();
  let out = '';
  let runStart = 0; // start of the current run of kept characters
  let space = false; // whitespace seen since the last kept character
  const flush = (end: number) => {
    if (end > runStart) {
      if (space && out) out += ' ';
      out += lower.slice(runStart, end);
      space = false;
    }
  };
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    let kind: number;
    let width = 1;
    if (c < 128) kind = ASCII[c]!;
    else if (isPyWhitespace(c)) kind = 2;
    else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < lower.length) width = 2;
      kind = PUNCTUATION.test(lower.slice(i, i + width)) ? 1 : 0;
    }
    if (kind !== 0) {
      flush(i);
      if (kind === 2) space = true;
      runStart = i + width;
    }
    i += width - 1;
  }
  flush(lower.length);
  return out;
}

/** Exact match of two already normalized answers. */
export const exactNormalized = (p: string, r: string): number => (p === r ? 1 : 0);

/** Contains on two already normalized answers. */
export function containsNormalized(p: string, r: string): number {
  if (!r) return p ? 0 : 1;
  return ` ${p} `.includes(` ${r} `) ? 1 : 0;
}

/** Token F1 of two already normalized answers. */
export function f1Normalized(pn: string, rn: string): number {
  const p = pn ? pn.split(' ') : [];
  const r = rn ? rn.split(' ') : [];
  if (p.length === 0 || r.length === 0) return p.length === r.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of r) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of p) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      same++;
      counts.set(t, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / p.length;
  const recall = same / r.length;
  return (2 * precision * recall) / (precision + recall);
}

/** 1 when the normalized answers are equal, else 0. */
export function exactMatch(prediction: string, reference: string): number {
  return exactNormalized(normalizeAnswer(prediction), normalizeAnswer(reference));
}

/**
 * 1 when the normalized reference occurs in the normalized prediction on word boundaries ("cat" is not in
 * "concatenate"), else 0. An empty normalized reference is contained only in an empty prediction.
 */
export function contains(prediction: string, reference: string): number {
  return containsNormalized(normalizeAnswer(prediction), normalizeAnswer(reference));
}

/**
 * SQuAD's token F1 over the normalized answers' tokens (bag of words, counted with multiplicity). As in SQuAD's
 * evaluate script, two empty answers score 1 and one empty answer 0.
 */
export function tokenF1(prediction: string, reference: string): number {
  return f1Normalized(normalizeAnswer(prediction), normalizeAnswer(reference));
}

/** Longest pattern accepted; answers are matched in full. */
export const MAX_REGEX_LENGTH = 1000;

/** The most repetitions `{m}`, `{m,}` or `{m,n}` at `i` allows (Infinity for `{m,}`), or 0 when `{` is a literal. */
function boundedRepeatMax(pattern: string, i: number): number {
  const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 24));
  if (!m) return 0;
  if (m[2] === undefined) return Number(m[1]);
  return m[3] ? Number(m[3]) : Infinity;
}

/**
 * Refuses patterns whose running time can explode on a long answer: a repeated group that itself holds a repetition
 * (`(a+)+`, `(\w*\s?)*`, `(x{1,9}){2,}`), the classic catastrophic backtracking shape. This is a heuristic (star
 * height > 1); overlapping alternatives inside one repetition (`(a|a)*`) are not detected. Returns the reason or null.
 */
export function nestedQuantifier(pattern: string): string | null {
  const groups: { repeats: boolean; start: number }[] = [];
  let inner = false; // the last closed group held a repetition
  let lastGroupStart = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      i++;
      inner = false;
      continue;
    }
    if (c === '[') {
      // skip a character class, escapes included
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
      inner = false;
      continue;
    }
    if (c === '(') {
      groups.push({ repeats: false, start: i });
      inner = false;
      continue;
    }
    if (c === ')') {
      const g = groups.pop();
      inner = g?.repeats ?? false;
      lastGroupStart = g?.start ?? -1;
      continue;
    }
    const repeat = c === '*' || c === '+' || (c === '{' && boundedRepeatMax(pattern, i) > 1);
    if (repeat) {
      if (inner) return `the group at character ${lastGroupStart + 1} repeats a repetition`;
      for (const g of groups) g.repeats = true;
    }
    inner = false;
  }
  return null;
}

/**
 * A regex metric's pattern, compiled once per run (Unicode mode). A pattern that does not compile, is longer than
 * MAX_REGEX_LENGTH or nests repetitions is refused as invalid_input naming `field`.
 */
export function compileRegex(pattern: string, field = 'metrics.regex'): RegExp {
  if (pattern.length > MAX_REGEX_LENGTH) throw new AppError('invalid_input', `${field}: the pattern is longer than ${MAX_REGEX_LENGTH} characters`, field);
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'u');
  } catch (e) {
    throw new AppError('invalid_input', `${field}: ${(e as Error).message}`, field);
  }
  const nested = nestedQuantifier(pattern);
  if (nested) throw new AppError('invalid_input', `${field}: ${nested}, which can take exponential time; simplify the pattern`, field);
  return re;
}

/** 1 when the pattern matches somewhere in the raw (not normalized) prediction, else 0. */
export function regexMatch(prediction: string, pattern: string | RegExp, field = 'metrics.regex'): number {
  const re = typeof pattern === 'string' ? compileRegex(pattern, field) : pattern;
  re.lastIndex = 0;
  return re.test(prediction) ? 1 : 0;
}
