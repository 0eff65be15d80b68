import { parseEndpointLine } from '../distill/distill-form.js';
import type { OpInput } from '../../../src-shared/contract/index.js';
import type { TeacherChoice } from '../distill/distill-form.js';
import { EVAL_METRICS, type EvalMetric } from '../../../src-shared/domain/evaluate.js';

/** The Evaluate form's state (text fields as typed) and what it becomes: `evaluate.start`'s input, or field errors. */

export type Split = 'all' | 'train' | 'validation' | 'test';
export type VariantKind = 'model' | 'server' | 'distill' | 'predictions';

export interface VariantDraft {
  kind: VariantKind;
  modelId: number | null;
  /** Adapters attached at scales (typed as text). */
  adapters: { id: number; scale: string }[];
  baseUrl: string;
  model: string;
  apiKeySecret: string;
  /** A fleet's other servers of the same model, one `URL#model[@concurrency]` per line (the server above is the first). */
  more: string;
  runId: number | null;
  file: string;
  label: string;
}

export const newVariant = (kind: VariantKind = 'model'): VariantDraft => ({
  kind,
  modelId: null,
  adapters: [],
  baseUrl: 'http://127.0.0.1:8080/v1',
  model: '',
  apiKeySecret: '',
  more: '',
  runId: null,
  file: '',
  label: '',
});

/** The judge: a library model, or an OpenAI-compatible server (the Distill form's teacher picker). */
export type JudgeDraft = TeacherChoice;

export interface EvalForm {
  dataset: string;
  /** '' = the latest committed version. */
  version: string;
  split: Split;
  variants: VariantDraft[];
  /** Index of the teacher among the variants, or null. */
  teacher: number | null;
  against: 'reference' | 'teacher';
  metrics: EvalMetric[];
  regex: string;
  jsonSchema: string;
  judging: boolean;
  judge: JudgeDraft;
  rubric: string;
  temperature: string;
  maxTokens: string;
  seed: string;
  limit: string;
  divergence: boolean;
  systems: boolean;
  contaminating: boolean;
  contamination: { dataset: string; split: Split }[];
  n: string;
}

export const DEFAULT_FORM: EvalForm = {
  dataset: '',
  version: '',
  split: 'test',
  variants: [newVariant(), newVariant()],
  teacher: 1,
  against: 'reference',
  metrics: ['exact', 'f1', 'rougeL', 'chrf'],
  regex: '',
  jsonSchema: '',
  judging: false,
  judge: { source: '', baseUrl: 'http://127.0.0.1:8080/v1', model: '', apiKeySecret: '' },
  rubric: 'Is the answer correct, complete and helpful for the question?',
  temperature: '0',
  maxTokens: '256',
  seed: '42',
  limit: '',
  divergence: true,
  systems: true,
  contaminating: false,
  contamination: [{ dataset: '', split: 'train' }],
  n: '13',
};

export type StartInput = OpInput<'evaluate.start'>;

/** A number typed in a field, or undefined when it is not one within the bounds. */
function num(s: string, min: number, max: number, int: boolean): number | undefined {
  if (!s.trim()) return undefined;
  const v = Number(s);
  return Number.isFinite(v) && v >= min && v <= max && (!int || Number.isInteger(v)) ? v : undefined;
}

const isUrl = (s: string) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
};

/**
 * The form as `evaluate.start`'s input, with the problems it has keyed by the contract's field paths (the same paths
 * the service names in `AppError.field`, so one map places both kinds of error next to their field).
 */
export function buildInput(f: EvalForm): { input: StartInput | null; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  if (!f.dataset) errors.dataset = 'choose a dataset';
  const version = f.version ? num(f.version, 1, Number.MAX_SAFE_INTEGER, true) : undefined;
  if (f.variants.length === 0) errors.variants = 'add a variant';
  const variants = f.variants.map((v, i): StartInput['variants'][number] | null => {
    const at = `variants.${i}`;
    const label = v.label.trim() ? { label: v.label.trim() } : {};
    switch (v.kind) {
      case 'model': {
        if (v.modelId === null) {
          errors[`${at}.modelId`] = 'choose a model';
          return null;
        }
        const adapters = v.adapters.map((a, k) => {
          const scale = num(a.scale, -10, 10, false);
          if (scale === undefined) errors[`${at}.adapters`] = `the scale of adapter ${k + 1} is not a number between −10 and 10`;
          return { id: a.id, scale: scale ?? 1 };
        });
        return { kind: 'model', modelId: v.modelId, adapters, ...label };
      }
      case 'server':
        if (!isUrl(v.baseUrl.trim())) errors[`${at}.baseUrl`] = 'an http(s) URL, e.g. http://127.0.0.1:8080/v1';
        if (!v.model.trim()) errors[`${at}.model`] = 'the model name the server knows';
        {
          const key = v.apiKeySecret ? { apiKeySecret: v.apiKeySecret } : {};
          const first = { baseUrl: v.baseUrl.trim(), model: v.model.trim(), ...key };
          const lines = v.more.split('\n').filter((l) => l.trim());
          if (lines.length === 0) return { kind: 'server', ...first, ...label };
          // a fleet: the server above and one endpoint per line, the same key for all
          const more = lines.map(parseEndpointLine);
          const bad = more.find((e) => 'error' in e);
          if (bad) errors[`${at}.endpoints`] = (bad as { error: string }).error;
          const rest = more.flatMap((e) => ('error' in e ? [] : [{ ...e, ...key }]));
          return { kind: 'fleet', endpoints: [first, ...rest], ...label };
        }
      case 'distill':
        if (v.runId === null) {
          errors[`${at}.runId`] = 'choose a distillation run';
          return null;
        }
        return { kind: 'distill', runId: v.runId, ...label };
      case 'predictions':
        if (!v.file.trim()) {
          errors[`${at}.file`] = 'the path of a predictions JSONL file';
          return null;
        }
        return { kind: 'predictions', file: v.file.trim(), ...label };
    }
  });
  if (f.teacher !== null && f.teacher >= f.variants.length) errors.teacher = 'the teacher is not one of the variants';
  if (f.against === 'teacher' && f.teacher === null) errors.against = 'choose which variant is the teacher to score against its answers';
  if (f.metrics.length === 0) errors.metrics = 'tick at least one metric';
  if (f.metrics.includes('pairwise') && f.teacher === null) errors.metrics = 'the pairwise judge compares with the teacher: choose one';
  if ((f.metrics.includes('judge') || f.metrics.includes('pairwise')) && !f.judging) errors.judge = 'the judge metrics need a judge model';
  let regex: string | undefined;
  if (f.metrics.includes('regex')) {
    if (!f.regex) errors.regex = 'type the pattern answers must match';
    else {
      try {
        new RegExp(f.regex);
        regex = f.regex;
      } catch (e) {
        errors.regex = `not a regular expression: ${(e as Error).message}`;
      }
    }
  }
  let jsonSchema: Record<string, unknown> | undefined;
  if (f.metrics.includes('schema') || f.jsonSchema.trim()) {
    if (!f.jsonSchema.trim()) errors.jsonSchema = 'paste the JSON schema answers must match';
    else {
      try {
        const parsed: unknown = JSON.parse(f.jsonSchema);
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) errors.jsonSchema = 'a JSON schema is an object ({ … })';
        else jsonSchema = parsed as Record<string, unknown>;
      } catch (e) {
        errors.jsonSchema = `not JSON: ${(e as Error).message}`;
      }
    }
  }
  let judge: StartInput['judge'];
  if (f.judging) {
    const j = f.judge;
    if (j.source === '') errors['judge.model'] = 'choose the judge model';
    else if (j.source === 'server' && (!isUrl(j.baseUrl.trim()) || !j.model.trim())) errors['judge.model'] = 'the judge server needs a URL and a model name';
    if (!f.rubric.trim()) errors['judge.rubric'] = 'the rubric the judge scores by';
    if (j.source !== '')
      judge = {
        model:
          j.source === 'server'
            ? { baseUrl: j.baseUrl.trim(), model: j.model.trim(), ...(j.apiKeySecret ? { apiKeySecret: j.apiKeySecret } : {}) }
            : { modelId: Number(j.source) },
        rubric: f.rubric.trim(),
      };
  }
  const temperature = num(f.temperature, 0, 5, false);
  if (temperature === undefined) errors['generation.temperature'] = '0 to 5';
  const maxTokens = num(f.maxTokens, 1, 32_768, true);
  if (maxTokens === undefined) errors['generation.maxTokens'] = 'a whole number, 1 to 32768';
  const seed = num(f.seed, 0, 2 ** 32 - 1, true);
  if (seed === undefined) errors['generation.seed'] = 'a whole number ≥ 0';
  const limit = f.limit.trim() ? num(f.limit, 1, Number.MAX_SAFE_INTEGER, true) : undefined;
  if (f.limit.trim() && limit === undefined) errors.limit = 'a whole number ≥ 1, or empty for every example';
  let contamination: StartInput['contamination'];
  if (f.contaminating) {
    const against = f.contamination.filter((c) => c.dataset);
    if (against.length === 0) errors['contamination.against'] = 'choose the training data to check against';
    const n = num(f.n, 3, 50, true);
    if (n === undefined) errors['contamination.n'] = 'n-gram length, 3 to 50';
    contamination = { against: against.map((c) => ({ dataset: c.dataset, split: c.split })), n: n ?? 13 };
  }
  if (Object.keys(errors).length > 0 || variants.some((v) => v === null)) return { input: null, errors };
  return {
    input: {
      dataset: f.dataset,
      ...(version ? { version } : {}),
      split: f.split,
      variants: variants as StartInput['variants'],
      teacher: f.teacher,
      against: f.against,
      metrics: EVAL_METRICS.filter((m) => f.metrics.includes(m)),
      ...(regex ? { regex } : {}),
      ...(jsonSchema ? { jsonSchema } : {}),
      ...(judge ? { judge } : {}),
      generation: { temperature: temperature!, maxTokens: maxTokens!, seed: seed! },
      ...(limit ? { limit } : {}),
      divergence: f.divergence,
      systems: f.systems,
      ...(contamination ? { contamination } : {}),
    },
    errors,
  };
}

/**
 * The error to show next to a field: the form's own, else the service's when its `field` is this one or inside it
 * (`variants.1.baseUrl` shows at `variants.1.baseUrl`; `judge.model.baseUrl` at `judge.model`); with `exact`, only at the
 * field itself (a catch-all line whose sub-fields show their own errors).
 */
export function errorAt(
  field: string,
  local: Record<string, string>,
  server: { field?: string | undefined; message: string } | null,
  shown: boolean,
  exact = false,
): string | null {
  if (shown && local[field]) return local[field]!;
  const f = server?.field;
  if (f && (f === field || (!exact && f.startsWith(`${field}.`)))) return server!.message;
  return null;
}

/** The variants' indices after removing one: the teacher follows its variant (or is cleared with it). */
export function teacherAfterRemove(teacher: number | null, removed: number): number | null {
  if (teacher === null || teacher === removed) return null;
  return teacher > removed ? teacher - 1 : teacher;
}
