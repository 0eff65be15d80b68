/**
 * PII and secret detection with validation (checksums, structure), so that numbers that merely look like PII —
 * dates, versions, timestamps, arbitrary digit runs — are not reported. Pure functions over one string.
 * Over 400 lines for a reason: each kind's rule is written out below and implemented in the same order, so a rule
 * and its code are read side by side.
 *
 * Rules, per kind:
 * - `email`: `local@domain.tld`; local part of letters, digits and `_ % + -` in dot-separated atoms; domain of
 *   dot-separated labels (letters, digits, inner `-`) and an alphabetic TLD of ≥ 2 letters. Unicode letters allowed.
 * - `credit-card`: 13–19 digits, either contiguous or grouped as cards are printed — groups of 4 with a last group of
 *   1–4, or 4-6-5 / 4-6-4 (Amex, Diners) — separated by single spaces or single dashes (one kind of separator), not
 *   part of a longer number (a letter, digit, `_`, `.`, `,`, `+` or `-` before it; a letter, digit, `_` or `.digit`
 *   after it; longer space-separated runs are searched for such windows of whole groups), passing the Luhn check AND
 *   starting with a known issuer prefix at a length that issuer uses: Visa 4 (13, 16, 19); Mastercard 51–55,
 *   2221–2720 (16); Amex 34, 37 (15); Discover 6011, 644–649, 65 (16–19); Diners 300–305, 3095, 36, 38, 39 (14–19);
 *   JCB 3528–3589 (16–19); UnionPay 62 (16–19); Maestro 50, 56–58, 6304, 6759, 6761–6763 (13–19); Mir 2200–2204
 *   (16–19); RuPay 60 (16). A failing Luhn digit is not a match.
 * - `iban`: a country code from the IBAN registry table below, 2 check digits, then the BBAN so that the total
 *   length is the country's; written compact or with single spaces every 4 characters; not followed by another
 *   letter or digit; ISO 13616 mod-97 of the rearranged number must be 1. Case-insensitive.
 * - `ip`: IPv4 as four decimal octets 0–255 without leading zeros, not preceded by a letter, digit, `_` or `.`, and not
 *   followed by a letter, digit, `_` or `.digit` (so `1.2.3.4.5` and `256.1.1.1` are not addresses); IPv6 in full
 *   (8 groups of 1–4 hex digits) or compressed (`::`, once; < 8 groups) form, optionally ending with an embedded
 *   IPv4, with at least one decimal digit and at least two groups unless it is `::1`; timestamps (`12:30:45`: three
 *   groups without `::`), MAC addresses (6 groups) and `Foo::Bar` are not matched.
 * - `phone`: a run of digit groups separated by single spaces, dots, dashes or slashes (one kind besides spaces),
 *   with optional parenthesized groups (`(555)`, `(0)`), not preceded by a letter, digit, `_ . - / +` and not followed
 *   by a letter, digit or `_`, that is one of:
 *   1. international: starts with `+`, 7–15 digits (a `(0)` trunk group not counted), country code of 1–3 digits
 *      when there are separators (`+44 20 7946 0958`, `+1 (415) 555-0132`, `+4915112345678`);
 *   2. North American: groups 3-3-4, optionally preceded by a `1` group (`(415) 555-0132`, `415.555.0132`,
 *      `1-800-555-0199`);
 *   3. national with a trunk prefix: at least 2 groups, the first starting with `0` and ≥ 2 digits long (or
 *      parenthesized), the others ≥ 2 digits, 8–15 digits in all, and no `0` right after the `0`/`00` prefix
 *      (`020 7946 0958`, `06 12 34 56 78`, `030/1234567`, `(089) 123 4567`, `0044 20 7946 0958`; not a hex dump
 *      `00 00 00 00 00`).
 *   Never a phone: a date (groups 4-2-2 or 2-2-4 forming a valid month and day: `2024-01-15`, `01.02.2024`), a version
 *   or decimal number (a single-digit first group: `0.19.1234`; letters before it: `v1.2.3`), a time (`:` is not a
 *   separator), a digit run without separators (card numbers, ids, Unix times) unless it starts with `+`. When a run
 *   as a whole fails, its space-separated sub-runs are tried, longest first, dropping only chunks that are not plain digit groups
 *   (`2024-01-15 020 7946 0958` yields `020 7946 0958`; the digit groups of a broken IBAN yield nothing).
 * - `secret`: well-known token formats: OpenAI `sk-…`/`sk-proj-…`, Anthropic `sk-ant-…`, GitHub `ghp_ gho_ ghs_ ghu_
 *   ghr_` (36+ characters) and `github_pat_…`, AWS access key ids `AKIA…`/`ASIA…` (+16), Slack `xox[abpors]-…`, Google
 *   `AIza…` (+35), Stripe `sk_live_ rk_live_ sk_test_ rk_test_`, Hugging Face `hf_…` (30+), JWTs `eyJ….eyJ….…`, PEM
 *   private key blocks (`-----BEGIN … PRIVATE KEY-----` to the matching END; when cut, through the following base64 and
 *   `Header: value` lines);
 *   the bodies of `sk-` and `hf_` keys must mix at least two of lowercase, uppercase and digits (so `sk-learn-…` is
 *   not a key). Generic rule: a key name containing `api_key`/`apikey`/`secret`/`token`/`password`/`passwd`/`pwd`/
 *   `access_key`/`credential(s)` (as a whole word part: `GITHUB_TOKEN`, `clientSecret`, not `tokenizer`), then `=`,
 *   `:`, `:=` or `=>` and an optionally quoted value of ≥ 20 characters without spaces, quotes or brackets that
 *   contains a letter and a digit, is not a URL, and has a Shannon entropy ≥ 3.0 bits per character; only the value
 *   is reported.
 *
 * Overlaps: one match per span. Candidates are accepted in order of specificity — secret, email, iban, credit-card,
 * ip, phone — then longer first, then leftmost; a candidate overlapping an accepted one is dropped.
 */

export type PiiKind = 'email' | 'phone' | 'credit-card' | 'iban' | 'ip' | 'secret';

export const PII_KINDS: readonly PiiKind[] = ['email', 'phone', 'credit-card', 'iban', 'ip', 'secret'];

export const PII_PLACEHOLDERS: Readonly<Record<PiiKind, string>> = {
  email: '[EMAIL]',
  phone: '[PHONE]',
  'credit-card': '[CREDIT_CARD]',
  iban: '[IBAN]',
  ip: '[IP]',
  secret: '[SECRET]',
};

export interface PiiMatch {
  kind: PiiKind;
  /** UTF-16 offsets in the scanned text, end exclusive. */
  start: number;
  end: number;
  value: string;
}

/** Specificity order used to resolve overlaps (lower wins). */
const PRIORITY: Record<PiiKind, number> = { secret: 0, email: 1, iban: 2, 'credit-card': 3, ip: 4, phone: 5 };

/** Minimum Shannon entropy (bits per character) of a generic `token=…` value. */
export const GENERIC_SECRET_MIN_ENTROPY = 3.0;
/** Minimum length of a generic `token=…` value. */
export const GENERIC_SECRET_MIN_LENGTH = 20;

// ---------------------------------------------------------------------------------------------------------------------
// Validators

/** Luhn (mod 10) check of a digit string. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/u.test(digits)) return false;
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Issuer prefix ranges (compared on the first `width` digits) and the lengths the issuer uses. */
const CARD_ISSUERS: { lo: number; hi: number; width: number; lengths: readonly number[] }[] = [
  { lo: 4, hi: 4, width: 1, lengths: [13, 16, 19] }, // Visa
  { lo: 51, hi: 55, width: 2, lengths: [16] }, // Mastercard
  { lo: 2221, hi: 2720, width: 4, lengths: [16] }, // Mastercard 2-series
  { lo: 34, hi: 34, width: 2, lengths: [15] }, // Amex
  { lo: 37, hi: 37, width: 2, lengths: [15] }, // Amex
  { lo: 6011, hi: 6011, width: 4, lengths: [16, 17, 18, 19] }, // Discover
  { lo: 644, hi: 649, width: 3, lengths: [16, 17, 18, 19] }, // Discover
  { lo: 65, hi: 65, width: 2, lengths: [16, 17, 18, 19] }, // Discover
  { lo: 300, hi: 305, width: 3, lengths: [14, 15, 16, 17, 18, 19] }, // Diners Club
  { lo: 3095, hi: 3095, width: 4, lengths: [14, 15, 16, 17, 18, 19] }, // Diners Club
  { lo: 36, hi: 36, width: 2, lengths: [14, 15, 16, 17, 18, 19] }, // Diners Club
  { lo: 38, hi: 39, width: 2, lengths: [14, 15, 16, 17, 18, 19] }, // Diners Club
  { lo: 3528, hi: 3589, width: 4, lengths: [16, 17, 18, 19] }, // JCB
  { lo: 62, hi: 62, width: 2, lengths: [16, 17, 18, 19] }, // UnionPay
  { lo: 50, hi: 50, width: 2, lengths: [13, 14, 15, 16, 17, 18, 19] }, // Maestro
  { lo: 56, hi: 58, width: 2, lengths: [13, 14, 15, 16, 17, 18, 19] }, // Maestro
  { lo: 6304, hi: 6304, width: 4, lengths: [13, 14, 15, 16, 17, 18, 19] }, // Maestro
  { lo: 6759, hi: 6759, width: 4, lengths: [13, 14, 15, 16, 17, 18, 19] }, // Maestro
  { lo: 6761, hi: 6763, width: 4, lengths: [13, 14, 15, 16, 17, 18, 19] }, // Maestro
  { lo: 2200, hi: 2204, width: 4, lengths: [16, 17, 18, 19] }, // Mir
  { lo: 60, hi: 60, width: 2, lengths: [16] }, // RuPay
];

/** A plausible card number: a known issuer prefix at one of its lengths, and a valid Luhn check digit. */
export function cardNumberValid(digits: string): boolean {
  if (!/^\d{13,19}$/u.test(digits)) return false;
  const known = CARD_ISSUERS.some((c) => {
    const prefix = Number(digits.slice(0, c.width));
    return prefix >= c.lo && prefix <= c.hi && c.lengths.includes(digits.length);
  });
  return known && luhnValid(digits);
}

/** IBAN length per country (SWIFT IBAN registry). */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BI: 27,
  BR: 29,
  BY: 28,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DJ: 27,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FK: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LC: 32,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  LY: 25,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MN: 20,
  MR: 27,
  MT: 31,
  MU: 30,
  NI: 28,
  NL: 18,
  NO: 15,
  OM: 23,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  RU: 33,
  SA: 24,
  SC: 31,
  SD: 18,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  SO: 23,
  ST: 25,
  SV: 28,
  TL: 23,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
  YE: 30,
};

/** A valid IBAN (spaces ignored, case-insensitive): known country, its length, mod-97 == 1. */
export function ibanValid(iban: string): boolean {
  const s = iban.replace(/ /gu, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/u.test(s)) return false;
  if (IBAN_LENGTHS[s.slice(0, 2)] !== s.length) return false;
  const rearranged = s.slice(4) + s.slice(0, 4);
  let rest = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? code - 55 : code - 48; // A = 10 … Z = 35
    rest = value >= 10 ? (rest * 100 + value) % 97 : (rest * 10 + value) % 97;
  }
  return rest === 1;
}

/** Shannon entropy of the characters of `s`, in bits per character. */
export function shannonEntropy(s: string): number {
  const chars = Array.from(s);
  if (chars.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / chars.length;
    h -= p * Math.log2(p);
  }
  return h;
}

// ---------------------------------------------------------------------------------------------------------------------
// Detectors: each pushes candidates; `scanPii` resolves overlaps.

type Candidate = PiiMatch;

const EMAIL =
  /(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}_%+-]+(?:\.[\p{L}\p{N}_%+-]+)*@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,63}(?![\p{L}\p{N}_-])/gu;

function emails(text: string, out: Candidate[]): void {
  for (const m of text.matchAll(EMAIL)) out.push({ kind: 'email', start: m.index, end: m.index + m[0].length, value: m[0] });
}

/** Digit groups separated by single spaces or dashes; validated by `cards`. */
const CARD_RUN = /(?<![\p{L}\p{N}_.,+-])\d[\d -]*\d(?![\p{L}\p{N}_]|[.,]\d)/gu;

function cards(text: string, out: Candidate[]): void {
  for (const m of text.matchAll(CARD_RUN)) {
    // Double separators break the run into segments; each segment is searched on its own.
    let offset = m.index;
    for (const segment of m[0].split(/(?<=\d)(?=[ -]{2,})|(?<=[ -]{2,})(?=\d)/u)) {
      const segStart = offset;
      offset += segment.length;
      if (!/^\d/u.test(segment)) continue;
      findCard(segment, segStart, out);
    }
  }
}

/** How card numbers are printed: groups of 4 (the last 1–4 long), or Amex/Diners 4-6-5 and 4-6-4. */
function cardGrouping(lengths: number[]): boolean {
  const key = lengths.join('-');
  if (key === '4-6-5' || key === '4-6-4') return true;
  return lengths.slice(0, -1).every((n) => n === 4) && lengths.at(-1)! >= 1 && lengths.at(-1)! <= 4;
}

function findCard(segment: string, base: number, out: Candidate[]): void {
  const seps = new Set(segment.replace(/\d/gu, ''));
  if (seps.size > 1) return; // mixed spaces and dashes
  const groups: { start: number; digits: string }[] = [];
  for (const g of segment.matchAll(/\d+/gu)) groups.push({ start: g.index, digits: g[0] });
  // Windows of whole groups, leftmost first, longest first.
  for (let s = 0; s < groups.length; s++) {
    for (let e = groups.length - 1; e >= s; e--) {
      let digits = '';
      const lengths: number[] = [];
      for (let k = s; k <= e; k++) {
        lengths.push(groups[k]!.digits.length);
        digits += groups[k]!.digits;
      }
      if (lengths.length > 1 && !cardGrouping(lengths)) continue;
      if (digits.length < 13 || digits.length > 19 || !cardNumberValid(digits)) continue;
      const start = base + groups[s]!.start;
      const end = base + groups[e]!.start + groups[e]!.digits.length;
      out.push({ kind: 'credit-card', start, end, value: segment.slice(groups[s]!.start, groups[e]!.start + groups[e]!.digits.length) });
      s = e; // continue after this match
      break;
    }
  }
}

const IBAN_START = /(?<![\p{L}\p{N}_])[A-Za-z]{2}\d{2}(?=[ ]?[A-Za-z0-9])/gu;
const ALNUM = /[A-Za-z0-9]/u;

function ibans(text: string, out: Candidate[]): void {
  for (const m of text.matchAll(IBAN_START)) {
    const length = IBAN_LENGTHS[m[0].slice(0, 2).toUpperCase()];
    if (length === undefined) continue;
    // Compact, or spaced: one space before every group of 4 after the first 4 characters (decided at the first group).
    let i = m.index + 4;
    let collected = 4;
    let spaced: boolean | null = null;
    while (collected < length) {
      const c = text[i];
      if (c === ' ') {
        if (collected % 4 !== 0 || spaced === false || text[i - 1] === ' ') break;
        i++;
        continue;
      }
      if (c === undefined || !ALNUM.test(c)) break;
      if (collected % 4 === 0) {
        const afterSpace = text[i - 1] === ' ';
        if (spaced === null) spaced = afterSpace;
        else if (spaced !== afterSpace) break;
      }
      collected++;
      i++;
    }
    if (collected !== length || /[\p{L}\p{N}_]/u.test(text[i] ?? '')) continue;
    const value = text.slice(m.index, i);
    if (ibanValid(value)) out.push({ kind: 'iban', start: m.index, end: i, value });
  }
}

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`(?<![\\p{L}\\p{N}_.])${OCTET}(?:\\.${OCTET}){3}(?![\\p{L}\\p{N}_]|\\.\\d)`, 'gu');
const IPV4_EXACT = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`, 'u');
/** A maximal run of hex digits, colons and dots containing a colon; validated by `ipv6Valid`. */
const IPV6_RUN = /(?<![\p{L}\p{N}_.:])[0-9A-Fa-f.:]*:[0-9A-Fa-f.:]*/gu;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/u;

/** A syntactically valid IPv6 address (no zone id) with the plausibility conditions of the module comment. */
export function ipv6Valid(s: string): boolean {
  if (s === '::1') return true;
  if (!/\d/u.test(s)) return false;
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const parse = (part: string): string[] | null => (part === '' ? [] : part.split(':'));
  const groups: string[] = [];
  for (const half of halves) {
    const g = parse(half);
    if (g === null) return false;
    groups.push(...g);
  }
  let count = 0;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    if (i === groups.length - 1 && g.includes('.')) {
      if (!IPV4_EXACT.test(g)) return false;
      count += 2;
    } else if (HEX_GROUP.test(g)) {
      count += 1;
    } else {
      return false;
    }
  }
  if (halves.length === 2) return count < 8 && groups.length >= 2;
  return count === 8;
}

function ips(text: string, out: Candidate[]): void {
  for (const m of text.matchAll(IPV4)) out.push({ kind: 'ip', start: m.index, end: m.index + m[0].length, value: m[0] });
  for (const m of text.matchAll(IPV6_RUN)) {
    let value = m[0];
    // Sentence punctuation after the address: a trailing `.`, or one `:` that is not part of `::`.
    while (value.endsWith('.')) value = value.slice(0, -1);
    if (value.endsWith(':') && !value.endsWith('::')) value = value.slice(0, -1);
    const end = m.index + value.length;
    if (end === m.index + m[0].length && /[\p{L}\p{N}_]/u.test(text[end] ?? '')) continue; // `std::vector`, `0xff:abc`…
    if (ipv6Valid(value)) out.push({ kind: 'ip', start: m.index, end, value });
  }
}

/** Digit groups with single separators and parenthesized groups; validated by `phoneValid`. */
const PHONE_RUN = /(?<![\p{L}\p{N}_.+\-/])\+?[\d(][\d() .\-/]*\d/gu;
const PHONE_SHAPE = /^\+?(?:\(\d{1,5}\) ?)?\d+(?:(?:[ .\-/]| ?\(\d{1,5}\) ?)\d+)*$/u;

function isDate(groups: string[], seps: Set<string>): boolean {
  if (groups.length !== 3 || seps.size !== 1) return false;
  const [a, b, c] = groups.map(Number) as [number, number, number];
  const lens = groups.map((g) => g.length).join('-');
  const md = (month: number, day: number) => month >= 1 && month <= 12 && day >= 1 && day <= 31;
  if (lens === '4-2-2') return md(b, c);
  if (lens === '2-2-4') return md(b, a) || md(a, b);
  return false;
}

/** Whether `s` (a candidate run) is a phone number under the rules of the module comment. */
export function phoneValid(s: string): boolean {
  if (!PHONE_SHAPE.test(s)) return false;
  const seps = new Set(s.replace(/[\d()+ ]/gu, ''));
  if (seps.size > 1) return false;
  const parts = [...s.matchAll(/\((\d+)\)|(\d+)/gu)].map((m) => ({ digits: m[1] ?? m[2]!, paren: m[1] !== undefined }));
  const plain = parts.map((p) => p.digits);
  const hasSeparator = /[ .\-/()]/u.test(s);
  if (s.startsWith('+')) {
    const digits = parts.filter((p, i) => !(i > 0 && p.paren && p.digits === '0')).reduce((n, p) => n + p.digits.length, 0);
    if (digits < 7 || digits > 15) return false;
    return !hasSeparator || parts[0]!.digits.length <= 3;
  }
  if (parts.length < 2) return false;
  if (isDate(plain, seps)) return false;
  const total = plain.reduce((n, d) => n + d.length, 0);
  const lens = plain.map((d) => d.length).join('-');
  if (lens === '3-3-4' || (lens === '1-3-3-4' && plain[0] === '1')) return parts.every((p, i) => !p.paren || i === (lens === '3-3-4' ? 0 : 1));
  const first = parts[0]!;
  if (first.digits.startsWith('0') && (first.digits.length >= 2 || first.paren)) {
    // After the trunk `0` (or the international `00`) comes an area or country code, which never starts with 0.
    const all = plain.join('');
    const afterPrefix = all.startsWith('00') ? all.slice(2) : all.slice(1);
    if (afterPrefix.startsWith('0')) return false;
    return total >= 8 && total <= 15 && parts.slice(1).every((p) => p.digits.length >= 2);
  }
  return false;
}

function phones(text: string, out: Candidate[]): void {
  for (const m of text.matchAll(PHONE_RUN)) {
    const run = m[0];
    const glued = /[\p{L}\p{N}_]/u.test(text[m.index + run.length] ?? ''); // `…0958abc`: the last chunk is not a number
    // The whole run, else its space-separated sub-runs (longest first, leftmost first). A sub-run may only drop
    // chunks that are tokens of their own (`2024-01-15`), never plain digit groups: `DE89 3704 0044 0532 0130 01`
    // (an IBAN with a wrong check) holds no phone number `0044 0532 0130 01`.
    const chunks: { start: number; end: number; plain: boolean }[] = [];
    for (const c of run.matchAll(/[^ ]+/gu)) chunks.push({ start: c.index, end: c.index + c[0].length, plain: /^\d+$/u.test(c[0]) });
    for (let s = 0; s < chunks.length; s++) {
      if (s > 0 && chunks[s - 1]!.plain) continue;
      for (let e = chunks.length - 1; e >= s; e--) {
        if (e < chunks.length - 1 && chunks[e + 1]!.plain) continue;
        const value = run.slice(chunks[s]!.start, chunks[e]!.end);
        // A sub-run must still start and end on a digit group (not a dangling `(` or separator).
        if (!/^[+(\d]/u.test(value) || !/\d$/u.test(value) || (glued && e === chunks.length - 1)) continue;
        if (phoneValid(value)) {
          out.push({ kind: 'phone', start: m.index + chunks[s]!.start, end: m.index + chunks[e]!.end, value });
          s = e;
          break;
        }
      }
    }
  }
}

const mixesCases = (s: string) => [/[a-z]/u, /[A-Z]/u, /\d/u].filter((r) => r.test(s)).length >= 2;

const SECRET_PATTERNS: { re: RegExp; body?: (m: RegExpMatchArray) => string }[] = [
  { re: /(?<![\w-])sk-ant-[A-Za-z0-9_-]{20,}/gu },
  { re: /(?<![\w-])sk-(?!ant-)(?:proj-|svcacct-|admin-)?([A-Za-z0-9_-]{20,})/gu, body: (m) => m[1]! },
  { re: /(?<!\w)gh[opsur]_[A-Za-z0-9]{36,}(?!\w)/gu },
  { re: /(?<!\w)github_pat_[A-Za-z0-9_]{22,}/gu },
  { re: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/gu },
  { re: /(?<!\w)xox[abposr]-[A-Za-z0-9-]{10,}/gu },
  { re: /(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])/gu },
  { re: /(?<!\w)[sr]k_(?:live|test)_[0-9A-Za-z]{16,}/gu },
  { re: /(?<!\w)hf_([A-Za-z0-9]{30,})(?!\w)/gu, body: (m) => m[1]! },
  { re: /(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/gu },
  {
    re: /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----(?:[\s\S]*?-----END \1-----|(?:\r?\n(?:[A-Za-z0-9+/=]+|[A-Za-z-]+: [^\r\n]*))+)/gu,
  },
];

const GENERIC_SECRET =
  /(?<![A-Za-z0-9])([A-Za-z0-9_.-]*?(?:api[_-]?key|apikey|secret|token|passw(?:or)?d|pwd|access[_-]?key|credentials?)(?:[_-][A-Za-z0-9]+)*)["']?\s*(?:=>|:=|=|:)\s*["'`]?([^\s"'`,;<>()[\]{}]+)/giu;

function secrets(text: string, out: Candidate[]): void {
  for (const { re, body } of SECRET_PATTERNS) {
    for (const m of text.matchAll(re)) {
      if (body && !mixesCases(body(m))) continue;
      out.push({ kind: 'secret', start: m.index, end: m.index + m[0].length, value: m[0] });
    }
  }
  for (const m of text.matchAll(GENERIC_SECRET)) {
    let value = m[2]!;
    value = value.replace(/[.,:;!?]+$/u, '');
    if (value.length < GENERIC_SECRET_MIN_LENGTH || value.includes('://')) continue;
    if (!/\p{L}/u.test(value) || !/\d/u.test(value) || shannonEntropy(value) < GENERIC_SECRET_MIN_ENTROPY) continue;
    const start = m.index + m[0].length - m[2]!.length;
    out.push({ kind: 'secret', start, end: start + value.length, value });
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// API

/** Every PII match in `text`, ordered by start; overlaps resolved (see the module comment). */
export function scanPii(text: string): PiiMatch[] {
  const candidates: Candidate[] = [];
  secrets(text, candidates);
  emails(text, candidates);
  ibans(text, candidates);
  cards(text, candidates);
  ips(text, candidates);
  phones(text, candidates);
  candidates.sort((a, b) => PRIORITY[a.kind] - PRIORITY[b.kind] || b.end - b.start - (a.end - a.start) || a.start - b.start);
  // Accepted spans stay sorted and disjoint: a candidate only has to be checked against its two neighbours.
  const accepted: Candidate[] = [];
  for (const c of candidates) {
    if (c.end <= c.start) continue;
    let lo = 0;
    let hi = accepted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (accepted[mid]!.start < c.start) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && accepted[lo - 1]!.end > c.start) continue;
    if (lo < accepted.length && accepted[lo]!.start < c.end) continue;
    accepted.splice(lo, 0, c);
  }
  return accepted;
}

/** `text` with every match of `kinds` (default: all) replaced by its placeholder (`[EMAIL]`, `[PHONE]`, …). */
export function redactPii(text: string, kinds?: Iterable<PiiKind>): string {
  const only = kinds === undefined ? null : new Set(kinds);
  let result = '';
  let at = 0;
  for (const m of scanPii(text)) {
    if (only && !only.has(m.kind)) continue;
    result += text.slice(at, m.start) + PII_PLACEHOLDERS[m.kind];
    at = m.end;
  }
  return result + text.slice(at);
}

/** Number of matches per kind (every kind present, 0 when none). */
export function countPii(text: string): Record<PiiKind, number> {
  const counts = Object.fromEntries(PII_KINDS.map((k) => [k, 0])) as Record<PiiKind, number>;
  for (const m of scanPii(text)) counts[m.kind]++;
  return counts;
}
