/**
 * JSON metrics. An answer counts as JSON when, trimmed, it is a JSON text, or it is exactly one Markdown code fence
 * (```json, ```JSON or a bare ```) around a JSON text: models often fence JSON even when asked not to, and a reader
 * extracting the block would accept it. JSON inside prose ("Here it is: {...}") does not count. Text nesting deeper
 * than MAX_JSON_DEPTH is refused before parsing (no recursion as deep as the input).
 */
import type { ValidateFunction } from 'ajv';
import { AppError } from '../../../../src-shared/errors.js';
import { compileSchema } from '../../distill/prompt.js';
import { jsonTextDepth, MAX_JSON_DEPTH } from '../../json-depth.js';

/** The body of a text that is exactly one fence (```json / ```JSON / ```, a newline, …, ```), else undefined. */
function fenceBody(text: string): string | undefined {
  if (text.length < 7 || !text.startsWith('```') || !text.endsWith('```')) return undefined;
  const newline = text.indexOf('\n');
  if (newline < 0 || !/^(json|JSON)?$/.test(text.slice(3, newline).trim())) return undefined;
  const body = text.slice(newline + 1, -3);
  return body.includes('```') ? undefined : body;
}

/** The parsed answer, or undefined when it is not JSON (see the module comment for what counts). */
export function parseAnswerJson(prediction: string): { value: unknown } | undefined {
  let text = prediction.trim();
  // a JSON text starts with one of {["-0-9tfn; anything else (prose) is refused without parsing
  if (!/^[{["\-0-9tfn`]/.test(text)) return undefined;
  const fenced = fenceBody(text);
  if (fenced !== undefined) text = fenced.trim();
  if (!text || jsonTextDepth(text) > MAX_JSON_DEPTH) return undefined;
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/** 1 when the answer parses as JSON, else 0. */
export function jsonValid(prediction: string): number {
  return parseAnswerJson(prediction) ? 1 : 0;
}

/**
 * A schema metric's JSON schema, compiled once per run: an object, or JSON text of one. Text that does not parse or a
 * schema Ajv cannot compile is refused as invalid_input naming `field`.
 */
export function compileAnswerSchema(schema: unknown, field = 'metrics.schema'): ValidateFunction {
  let value = schema;
  if (typeof schema === 'string') {
    try {
      value = JSON.parse(schema) as unknown;
    } catch (e) {
      throw new AppError('invalid_input', `${field}: the schema is not valid JSON (${(e as Error).message})`, field);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new AppError('invalid_input', `${field}: a JSON schema must be an object`, field);
  return compileSchema(value, field);
}

/** 1 when the answer is JSON and matches the schema, else 0. */
export function schemaMatch(prediction: string, schema: ValidateFunction): number {
  const parsed = parseAnswerJson(prediction);
  return parsed && schema(parsed.value) ? 1 : 0;
}
