/** A run's metrics, checked once, applied to each answer (metrics/ holds the computations). */
import { prepareMetrics, scoreAnswer, type MetricId, type MetricSpec } from './metrics/index.js';
import type { EvalMetric } from '../../../src-shared/domain/evaluate.js';

/** The metrics scored per answer against a target text (the judge's are scored in their own pass). */
const TEXT_METRICS = new Set<EvalMetric>(['exact', 'contains', 'regex', 'f1', 'rougeL', 'chrf', 'json', 'schema']);

/** The text metrics of a run's config as one spec, refused at once (the field named) when its regex or schema is bad. */
export function compileMetrics(c: {
  metrics: readonly EvalMetric[];
  regex?: string | undefined;
  jsonSchema?: Record<string, unknown> | undefined;
}): MetricSpec {
  const spec: MetricSpec = {
    metrics: c.metrics.filter((m) => TEXT_METRICS.has(m)) as MetricId[],
    ...(c.regex !== undefined ? { regex: c.regex } : {}),
    ...(c.jsonSchema !== undefined ? { schema: c.jsonSchema } : {}),
  };
  prepareMetrics(spec);
  return spec;
}

/**
 * One answer's values. Metrics that need no target (regex, json, schema) are scored even without one; the others
 * need the reference (or the teacher's answer) and are left out when there is none.
 */
export function scoreAnswers(spec: MetricSpec, answer: string, target: string | null): Partial<Record<EvalMetric, number | null>> {
  if (target !== null) return scoreAnswer(answer, target, spec) as Partial<Record<EvalMetric, number | null>>;
  const free = spec.metrics.filter((m) => m === 'regex' || m === 'json' || m === 'schema');
  return free.length ? (scoreAnswer(answer, '', { ...spec, metrics: free }) as Partial<Record<EvalMetric, number | null>>) : {};
}
