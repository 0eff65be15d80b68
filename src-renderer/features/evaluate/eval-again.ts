import type { JobConfig } from '../../../src-shared/contract/jobs.js';
import { DEFAULT_FORM, newVariant, type EvalForm, type JudgeDraft, type VariantDraft } from './eval-form.js';

type RunConfig = JobConfig<'evaluate.run'>;

/** A server judge's settings; a fleet (CLI or API) comes back as its first endpoint: the form edits one server. */
const judgeOf = (m: NonNullable<RunConfig['judge']>['model']): JudgeDraft => {
  if (m.kind === 'local') return { ...DEFAULT_FORM.judge, source: String(m.modelId) };
  const s = m.kind === 'fleet' ? m.endpoints[0]! : m;
  return { source: 'server', baseUrl: s.baseUrl, model: s.model, apiKeySecret: s.apiKeySecret ?? '' };
};

function variantOf(v: RunConfig['variants'][number]): VariantDraft {
  switch (v.kind) {
    case 'model':
      return { ...newVariant('model'), modelId: v.model.modelId, adapters: v.model.adapters.map((a) => ({ id: a.id, scale: String(a.scale) })) };
    case 'server': {
      const s = v.server.kind === 'http' ? v.server : v.server.kind === 'fleet' ? v.server.endpoints[0]! : null;
      const more = v.server.kind === 'fleet' ? v.server.endpoints.slice(1).map((e) => `${e.baseUrl}#${e.model}@${e.concurrency}`) : [];
      return {
        ...newVariant('server'),
        baseUrl: s?.baseUrl ?? '',
        model: s?.model ?? '',
        apiKeySecret: s?.apiKeySecret ?? '',
        more: more.join('\n'),
        label: v.label,
      };
    }
    case 'distill':
      return { ...newVariant('distill'), runId: v.runId, label: v.label };
    case 'predictions':
      return { ...newVariant('predictions'), file: v.file, label: v.label };
  }
}

/**
 * A past evaluation's settings as the form's state ("run again from here"). The dataset is read at its latest version
 * (the version field left empty), the point of evaluating again after curation; the contamination datasets too.
 */
export function evalFormFromRun(c: RunConfig): EvalForm {
  return {
    ...DEFAULT_FORM,
    dataset: c.dataset,
    version: '',
    split: c.split,
    variants: c.variants.map(variantOf),
    teacher: c.teacher,
    against: c.against,
    metrics: [...c.metrics],
    regex: c.regex ?? '',
    jsonSchema: c.jsonSchema ? JSON.stringify(c.jsonSchema, null, 2) : '',
    judging: c.judge !== undefined,
    judge: c.judge ? judgeOf(c.judge.model) : DEFAULT_FORM.judge,
    rubric: c.judge?.rubric ?? DEFAULT_FORM.rubric,
    temperature: String(c.generation.temperature),
    maxTokens: String(c.generation.maxTokens),
    seed: String(c.generation.seed),
    limit: c.limit ? String(c.limit) : '',
    divergence: c.divergence,
    systems: c.systems,
    contaminating: c.contamination !== undefined,
    contamination: c.contamination ? c.contamination.against.map((a) => ({ dataset: a.dataset, split: a.split })) : DEFAULT_FORM.contamination,
    n: String(c.contamination?.n ?? DEFAULT_FORM.n),
  };
}
