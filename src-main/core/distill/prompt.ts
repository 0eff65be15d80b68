import type { ChatMessage, NormalizedExample } from '../../../src-shared/domain/datasets.js';
import type { DistillFilters, DistillTemplate } from '../../../src-shared/domain/distill.js';
import { AppError } from '../../../src-shared/errors.js';
import { Ajv, type ValidateFunction } from 'ajv';

const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g;
const KNOWN = new Set(['prompt', 'system', 'reference']);

/** Refuses a template naming a placeholder we do not fill, before a run starts. */
export function checkTemplate(t: DistillTemplate): void {
  for (const [field, text] of [
    ['template.user', t.user],
    ['template.system', t.system ?? ''],
  ] as const) {
    for (const m of text.matchAll(PLACEHOLDER)) {
      if (!KNOWN.has(m[1]!))
        throw new AppError('invalid_input', `${field}: unknown placeholder {{${m[1]}}} (use {{prompt}}, {{system}} or {{reference}})`, field);
    }
  }
}

const fill = (text: string, vars: Record<string, string>) => text.replace(PLACEHOLDER, (_, name: string) => vars[name] ?? '');

/**
 * What the teacher is sent for one example, and the training example the answer completes: the example's turns up to
 * its last user message (its reference answer, if any, dropped), the last user message rendered through the
 * template, the template's system prompt (or the example's), few-shot pairs before the conversation (sent, never kept).
 */
export function buildPrompt(example: NormalizedExample, t: DistillTemplate): { sent: ChatMessage[]; kept: ChatMessage[]; fewShot: ChatMessage[] } {
  const lastUser = example.messages.map((m) => m.role).lastIndexOf('user');
  const turns = example.messages.slice(0, lastUser + 1);
  const system = turns
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n\n');
  const dialogue = turns.filter((m) => m.role !== 'system');
  const vars = { prompt: dialogue.at(-1)?.content ?? '', system, reference: example.reference ?? '' };
  const teacherSystem = t.system === null ? system : fill(t.system, vars);
  const rendered = dialogue.map((m, i) => (i === dialogue.length - 1 ? { ...m, content: fill(t.user, vars) } : m));
  const sent: ChatMessage[] = [...(teacherSystem ? [{ role: 'system' as const, content: teacherSystem }] : []), ...rendered];
  const fewShot = t.fewShot.flatMap((p): ChatMessage[] => [
    { role: 'user', content: p.user },
    { role: 'assistant', content: p.assistant },
  ]);
  return { sent, kept: t.output === 'as-sent' ? sent : turns, fewShot };
}

const REFUSAL =
  /^\s*(i['’]m sorry,? but|i am sorry,? but|sorry,? (but )?i can(no|')t|i can(no|')t (help|assist|provide|comply)|i'm (not able|unable) to|as an ai\b|i apologi[sz]e,? but)/i;

/** Why a filter rejects an answer, or null when it passes. */
export function rejection(answer: string, finishReason: string | null, f: DistillFilters): string | null {
  if (f.truncated && finishReason === 'length') return 'truncated: the answer hit the token limit';
  if (!answer.trim()) return 'empty answer';
  if (f.minChars !== undefined && answer.length < f.minChars) return `shorter than ${f.minChars} characters (${answer.length})`;
  if (f.maxChars !== undefined && answer.length > f.maxChars) return `longer than ${f.maxChars} characters (${answer.length})`;
  if (f.mustMatch && !new RegExp(f.mustMatch, 'u').test(answer)) return `does not match /${f.mustMatch}/`;
  if (f.mustNotMatch && new RegExp(f.mustNotMatch, 'u').test(answer)) return `matches /${f.mustNotMatch}/`;
  if (f.refusals && REFUSAL.test(answer)) return 'reads like a refusal';
  return null;
}

/** Regular expressions in the filters must compile: refused at the boundary with the field named. */
export function checkFilters(f: DistillFilters): void {
  for (const field of ['mustMatch', 'mustNotMatch'] as const) {
    const re = f[field];
    if (re === undefined) continue;
    try {
      new RegExp(re, 'u');
    } catch (e) {
      throw new AppError('invalid_input', `filters.${field}: ${(e as Error).message}`, `filters.${field}`);
    }
  }
}

/** A seed per (example, sample), from the run's: reproducible, and different for each sample. */
export function answerSeed(runSeed: number, position: number, sample: number): number {
  let h = (runSeed ^ 0x9e3779b9) >>> 0;
  for (const v of [position % 2 ** 32, Math.floor(position / 2 ** 32), sample]) {
    h = Math.imul(h ^ v, 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
  }
  return h;
}

/**
 * A JSON schema compiled to a validator (Ajv): refused at the boundary, with the reason, when it is not a schema. Unknown
 * keywords are allowed, since servers and grammars accept vendor extensions.
 */
export function compileSchema(schema: object, field = 'jsonSchema'): ValidateFunction {
  try {
    return new Ajv({ strict: false, allErrors: false }).compile(schema);
  } catch (e) {
    throw new AppError('invalid_input', `${field}: not a usable JSON schema (${(e as Error).message})`, field);
  }
}

/**
 * With a JSON schema, an answer must parse as JSON and match the schema (a server may ignore response_format, and a
 * grammar cannot express every keyword): otherwise it is rejected with the first mismatch.
 */
export function jsonRejection(answer: string, validate?: ValidateFunction): string | null {
  let value: unknown;
  try {
    value = JSON.parse(answer);
  } catch (e) {
    return `not valid JSON (${(e as Error).message})`;
  }
  if (validate && !validate(value)) {
    const err = validate.errors?.[0];
    return `does not match the JSON schema: ${err ? `${err.instancePath || 'the answer'} ${err.message ?? 'is invalid'}` : 'invalid'}`;
  }
  return null;
}
