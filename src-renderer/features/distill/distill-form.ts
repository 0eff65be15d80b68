import type { JobConfig } from '../../../src-shared/contract/jobs.js';

/** The Distill form's state (text fields as typed), its defaults, and a past run's settings as form state. */
export interface DistillForm {
  dataset: string;
  split: 'all' | 'train' | 'validation' | 'test';
  system: string;
  user: string;
  temperature: string;
  maxTokens: string;
  samples: string;
  seed: string;
  parallel: string;
  limit: string;
  keepTruncated: boolean;
  refusals: boolean;
  mustMatch: string;
  /** Percent of answers a run may reject before it fails. */
  maxRejectPercent: string;
  jsonSchema: string;
  judging: boolean;
  rubric: string;
  threshold: string;
  outName: string;
}

export const DEFAULT_FORM: DistillForm = {
  dataset: '',
  split: 'all',
  system: '',
  user: '{{prompt}}',
  temperature: '0.7',
  maxTokens: '512',
  samples: '1',
  seed: '42',
  parallel: '',
  limit: '',
  keepTruncated: false,
  refusals: true,
  mustMatch: '',
  maxRejectPercent: '50',
  jsonSchema: '',
  judging: false,
  rubric: 'The answer is correct, complete and helpful.',
  threshold: '6',
  outName: '',
};

export interface TeacherChoice {
  source: '' | 'server' | string; // '' none yet, 'server' an OpenAI-compatible URL, else a model id
  baseUrl: string;
  model: string;
  apiKeySecret: string;
  /** A fleet's other endpoints, one `URL#model[@concurrency]` per line (the server above is the first). */
  more?: string;
}

/** One `URL#model[@concurrency]` line of a fleet, or why it is not one. */
export function parseEndpointLine(line: string): { baseUrl: string; model: string; concurrency?: number } | { error: string } {
  const m = /^(https?:\/\/[^#\s]+)#([^@\s]+)(?:@(\d+))?$/.exec(line.trim());
  if (!m) return { error: `${line.trim()}: write an endpoint as URL#model or URL#model@concurrency` };
  const concurrency = m[3] === undefined ? undefined : Number(m[3]);
  if (concurrency !== undefined && (concurrency < 1 || concurrency > 64)) return { error: `${line.trim()}: the concurrency is 1 to 64` };
  return { baseUrl: m[1]!, model: m[2]!, ...(concurrency !== undefined ? { concurrency } : {}) };
}
export const noTeacher: TeacherChoice = { source: '', baseUrl: 'http://127.0.0.1:8080/v1', model: '', apiKeySecret: '' };

type RunConfig = JobConfig<'distill.generate'>;
type ConfigTeacher = RunConfig['teacher'];

/** A fleet comes back as its first endpoint, the others as the form's lines. */
const choice = (t: ConfigTeacher): TeacherChoice => {
  if (t.kind === 'local') return { ...noTeacher, source: String(t.modelId) };
  const s = t.kind === 'fleet' ? t.endpoints[0]! : t;
  const more = t.kind === 'fleet' ? t.endpoints.slice(1).map((e) => `${e.baseUrl}#${e.model}@${e.concurrency}`) : [];
  return { source: 'server', baseUrl: s.baseUrl, model: s.model, apiKeySecret: s.apiKeySecret ?? '', ...(more.length ? { more: more.join('\n') } : {}) };
};

/**
 * A past run's settings as the form's state: "run again with these settings". The output name is the run's when it
 * wrote no dataset (a failed or cancelled run), else the run's with a number added.
 */
export function formFromRun(c: RunConfig, wroteOutput: boolean): { form: DistillForm; teacher: TeacherChoice; judge: TeacherChoice } {
  return {
    form: {
      dataset: c.dataset,
      split: c.split,
      system: c.template.system ?? '',
      user: c.template.user,
      temperature: String(c.generation.temperature),
      maxTokens: String(c.generation.maxTokens),
      samples: String(c.generation.samples),
      seed: String(c.generation.seed),
      parallel: String(c.parallel),
      limit: c.limit ? String(c.limit) : '',
      keepTruncated: c.filters.truncated === false,
      refusals: c.filters.refusals !== false,
      mustMatch: c.filters.mustMatch ?? '',
      maxRejectPercent: String(Math.round(c.maxRejectRate * 100)),
      jsonSchema: c.jsonSchema ? JSON.stringify(c.jsonSchema, null, 2) : '',
      judging: c.judge !== undefined,
      rubric: c.judge?.rubric ?? DEFAULT_FORM.rubric,
      threshold: String(c.judge?.threshold ?? DEFAULT_FORM.threshold),
      outName: wroteOutput ? `${c.outName}-2` : c.outName,
    },
    teacher: choice(c.teacher),
    judge: c.judge ? choice(c.judge.teacher) : noTeacher,
  };
}
