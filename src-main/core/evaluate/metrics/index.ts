/**
 * The Evaluate room's metric library: pure functions, no SQLite, no models. `scoreAnswer` scores one answer with the
 * metrics a run asked for; aggregates are means over answers (also for chrF and ROUGE-L's F-measure), with
 * `bootstrapMean` / `pairedDifference` for their intervals.
 */
import type { ValidateFunction } from 'ajv';
import { AppError } from '../../../../src-shared/errors.js';
import { bootstrapMean, type BootstrapOptions, type Interval } from './bootstrap.js';
import { chrF } from './chrf.js';
import { compileAnswerSchema, parseAnswerJson } from './json.js';
import { rougeL } from './rouge.js';
import { compileRegex, containsNormalized, exactNormalized, f1Normalized, normalizeAnswer, regexMatch } from './text.js';

export { bootstrapMean, pairedDifference, quantileSorted, type BootstrapOptions, type Interval } from './bootstrap.js';
export { chrF } from './chrf.js';
export { contamination, ContaminationIndex, wordHashes, type ContaminationOptions, type ContaminationRow } from './contamination.js';
export { compileAnswerSchema, jsonValid, parseAnswerJson, schemaMatch } from './json.js';
export { lcsLength, MAX_ROUGE_TOKENS, rougeL, rougeTokens, type RougeScore } from './rouge.js';
export { pointAtShare, pointAtThreshold, routingCurve, thresholdForTarget, type RoutingCurve, type RoutingExample, type RoutingPoint } from './routing.js';
export { compileRegex, contains, exactMatch, nestedQuantifier, normalizeAnswer, regexMatch, tokenF1 } from './text.js';

export const METRIC_IDS = ['exact', 'contains', 'regex', 'f1', 'rougeL', 'chrf', 'json', 'schema'] as const;
export type MetricId = (typeof METRIC_IDS)[number];

export interface MetricSpec {
  metrics: readonly MetricId[];
  /** The pattern for 'regex' (without it, 'regex' is null). */
  regex?: string;
  /** The JSON schema for 'schema', an object or its JSON text (without it, 'schema' is null). */
  schema?: unknown;
}

export interface PreparedMetrics {
  regex: RegExp | null;
  schema: ValidateFunction | null;
}
const prepared = new WeakMap<MetricSpec, PreparedMetrics>();

/**
 * Checks a spec once, before a run: unknown metric ids, a pattern that does not compile (or nests repetitions), a
 * schema that does not compile are refused as invalid_input naming `metrics.metrics[i]`, `metrics.regex` or
 * `metrics.schema`. scoreAnswer calls it too (cached per spec object).
 */
export function prepareMetrics(spec: MetricSpec): PreparedMetrics {
  let p = prepared.get(spec);
  if (p) return p;
  spec.metrics.forEach((id, i) => {
    if (!(METRIC_IDS as readonly string[]).includes(id))
      throw new AppError('invalid_input', `metrics.metrics[${i}]: unknown metric '${id}' (one of ${METRIC_IDS.join(', ')})`, `metrics.metrics[${i}]`);
  });
  p = {
    regex: spec.regex === undefined ? null : compileRegex(spec.regex, 'metrics.regex'),
    schema: spec.schema === undefined || spec.schema === null ? null : compileAnswerSchema(spec.schema, 'metrics.schema'),
  };
  prepared.set(spec, p);
  return p;
}

/**
 * One answer's scores, keyed by metric id: exact, contains, regex, f1, json, schema in 0..1, rougeL its F-measure in
 * 0..1, chrf 0..100 (sacrebleu's scale). null = not applicable: 'regex' without a pattern, 'schema' without a schema.
 * Make the spec once per run and pass the same object for every answer: its compiled pattern and schema are cached
 * per spec object (a new object per answer would recompile the schema each time).
 */
export function scoreAnswer(prediction: string, reference: string, spec: MetricSpec): Record<string, number | null> {
  const p = prepareMetrics(spec);
  const out: Record<string, number | null> = {};
  // normalized forms and the parsed JSON are shared by the metrics that use them
  let norm: [string, string] | undefined;
  const normalized = () => (norm ??= [normalizeAnswer(prediction), normalizeAnswer(reference)]);
  let json: { value: unknown } | undefined | null = null;
  const parsed = () => (json === null ? (json = parseAnswerJson(prediction)) : json);
  for (const id of spec.metrics) {
    switch (id) {
      case 'exact':
        out[id] = exactNormalized(...normalized());
        break;
      case 'contains':
        out[id] = containsNormalized(...normalized());
        break;
      case 'regex':
        out[id] = p.regex ? regexMatch(prediction, p.regex) : null;
        break;
      case 'f1':
        out[id] = f1Normalized(...normalized());
        break;
      case 'rougeL':
        out[id] = rougeL(prediction, reference).fmeasure;
        break;
      case 'chrf':
        out[id] = chrF(prediction, reference);
        break;
      case 'json':
        out[id] = parsed() ? 1 : 0;
        break;
      case 'schema': {
        const j = p.schema ? parsed() : undefined;
        out[id] = p.schema ? (j && p.schema(j.value) ? 1 : 0) : null;
        break;
      }
    }
  }
  return out;
}

/** The mean of the applicable (non-null) scores, or null when none is. */
export function meanScore(values: readonly (number | null)[]): number | null {
  let sum = 0;
  let n = 0;
  for (const v of values)
    if (v !== null) {
      sum += v;
      n++;
    }
  return n ? sum / n : null;
}

/**
 * Per metric id, the mean of the applicable scores over answers with its bootstrap interval (`n` = answers where the
 * metric applied). Each metric resamples with the same seed, so a rerun gives the same table.
 */
export function aggregateScores(rows: readonly Record<string, number | null>[], opts: BootstrapOptions): Record<string, Interval> {
  const values = new Map<string, number[]>();
  for (const row of rows)
    for (const [id, v] of Object.entries(row)) {
      if (!values.has(id)) values.set(id, []);
      if (v !== null) values.get(id)!.push(v);
    }
  const out: Record<string, Interval> = {};
  for (const [id, v] of values) out[id] = bootstrapMean(v, opts, id);
  return out;
}
