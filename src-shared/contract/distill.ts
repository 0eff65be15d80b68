import { z } from 'zod';
import { event, job, op } from './define.js';
import { SecretName } from './secrets.js';
import {
  DistillFilters,
  DistillGeneration,
  DistillTemplate,
  MaxRejectRate,
  type DistillAnswersPage,
  type DistillEstimate,
  type DistillRunCounts,
  type DistillStreamEvent,
  type TokenLogprob,
} from '../domain/distill.js';

const DatasetName = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[^@/\\]+$/, 'a name cannot contain @, / or \\');

/** An OpenAI-compatible server and its model, and where its API key is (never the key). */
export const ServerFields = {
  baseUrl: z.url({ protocol: /^https?$/ }).max(2000),
  model: z.string().trim().min(1).max(200),
  /** The environment variable holding the API key. */
  apiKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
    .optional(),
  /** A saved API key (secrets.set), encrypted at rest. The key itself is never part of a run. */
  apiKeySecret: SecretName.optional(),
  timeoutMs: z.number().int().min(1000).max(3_600_000).default(120_000),
  maxRetries: z.number().int().min(0).max(20).default(4),
};
/** A server's key is named one way, not both. */
export const oneApiKey = {
  check: (t: { apiKeyEnv?: string | undefined; apiKeySecret?: string | undefined }) => !(t.apiKeyEnv && t.apiKeySecret),
  error: { message: 'give the API key as apiKeyEnv or apiKeySecret, not both', path: ['apiKeySecret'] },
};

/** Requests one endpoint of a fleet takes at once (default 8). */
export const EndpointConcurrency = z.number().int().min(1).max(64);
export const DEFAULT_ENDPOINT_CONCURRENCY = 8;
/** One server of a fleet: its URL, model name, key and limits, and how many requests it takes at once. */
export const FleetEndpointInput = z
  .strictObject({ ...ServerFields, concurrency: EndpointConcurrency.default(DEFAULT_ENDPOINT_CONCURRENCY) })
  .refine(oneApiKey.check, oneApiKey.error);
/**
 * A fleet: several OpenAI-compatible servers serving the same model, used as one teacher (vLLM, SGLang, TGI or
 * llama-server replicas). Requests go by each endpoint's measured speed and concurrency; a failing one is drained.
 */
export const FleetInput = z.strictObject({
  endpoints: z
    .array(FleetEndpointInput)
    .min(2, 'a fleet has at least 2 endpoints (give one server without `endpoints`)')
    .max(16)
    .refine((e) => new Set(e.map((x) => `${x.baseUrl.replace(/\/+$/, '')}#${x.model}`)).size === e.length, 'the same endpoint is listed twice'),
});

/** A model that answers prompts: a library model (local GGUF), an OpenAI-compatible server, or a fleet of servers. */
export const TeacherInput = z.union([
  z.strictObject({ modelId: z.number().int().positive() }),
  z.strictObject(ServerFields).refine(oneApiKey.check, oneApiKey.error),
  FleetInput,
]);

/** LLM-as-judge: a model scores every answer that passed the other filters against a rubric (1–10); below the threshold it is rejected. */
export const DistillJudgeInput = z.strictObject({
  teacher: TeacherInput,
  rubric: z.string().trim().min(1).max(20_000),
  threshold: z.number().min(1).max(10).default(6),
  maxTokens: z.number().int().min(16).max(4096).default(256),
});

export const DistillStartInput = z.strictObject({
  dataset: DatasetName,
  /** A committed version (default: the latest). */
  version: z.number().int().positive().optional(),
  split: z.enum(['train', 'validation', 'test', 'all']).default('all'),
  /** A model of the library (local GGUF), or an OpenAI-compatible server (llama-server, vLLM, Ollama, LM Studio, OpenAI). */
  teacher: TeacherInput,
  template: DistillTemplate.default(DistillTemplate.parse({})),
  generation: DistillGeneration.default(DistillGeneration.parse({})),
  filters: DistillFilters.default(DistillFilters.parse({})),
  /** Prompts answered at once (sequences of one context, or requests in flight); default from the hardware. */
  parallel: z.number().int().min(1).max(64).optional(),
  outName: DatasetName,
  /** Keep the teacher's top-k token log-probabilities of every generated token (soft labels); servers that return them. */
  logprobs: z.number().int().min(1).max(20).optional(),
  /** Structured output: a JSON schema, enforced as a grammar on local teachers and as response_format on servers. */
  jsonSchema: z.record(z.string(), z.unknown()).optional(),
  /** An LLM-as-judge pass over the answers that passed the other filters. */
  judge: DistillJudgeInput.optional(),
  /** Stop after this many prompts (a trial run). */
  limit: z.number().int().positive().optional(),
  /**
   * The run fails when more than this share of its answers is rejected (its message says why and what to change);
   * it also fails when it keeps no answer, and stops early when its first answers are all rejected for one reason.
   */
  maxRejectRate: MaxRejectRate,
});

export const distillOps = {
  /**
   * Starts a distillation run: a teacher answers every prompt of a dataset version (and split); the answers become a
   * new dataset (the student's training set), linked to the run and the source version.
   */
  'distill.start': op<{ runId: number }>()(DistillStartInput),
  /** Before starting: how many answers, how many tokens at most, and how long at the teacher's measured speed. */
  'distill.estimate': op<DistillEstimate>()(DistillStartInput.omit({ outName: true }).extend({ outName: DatasetName.optional() })),
  /**
   * Re-includes an answer a filter rejected: it goes into the output dataset's working copy (commit it there), or into
   * the output when the run has not written it yet.
   */
  'distill.include': op<{ label: string; outName: string; addedToWorkingCopy: boolean }>()(
    z.strictObject({ runId: z.number().int().positive(), position: z.number().int(), sample: z.number().int().min(0).default(0) }),
  ),
  /**
   * Takes an included answer out: out of the output dataset's working copy (commit it there), or out of the output when
   * the run has not written it yet. The answer stays in the run, marked "excluded by hand".
   */
  'distill.exclude': op<{ label: string; outName: string; removedFromWorkingCopy: boolean }>()(
    z.strictObject({ runId: z.number().int().positive(), position: z.number().int(), sample: z.number().int().min(0).default(0) }),
  ),
  /** The soft labels of one answer: per generated token, its log-probability and the top-k alternatives. */
  'distill.logprobs': op<{ k: number; tokens: TokenLogprob[] } | null>()(
    z.strictObject({ runId: z.number().int().positive(), position: z.number().int(), sample: z.number().int().min(0).default(0) }),
  ),
  /** Answers, kept and rejected of distillation runs (for the runs list). */
  'distill.counts': op<DistillRunCounts[]>()(z.strictObject({ runIds: z.array(z.number().int().positive()).max(1000) })),
  /** A page of a run's answers, in source order, with counts. */
  'distill.answers': op<DistillAnswersPage>()(
    z.strictObject({
      runId: z.number().int().positive(),
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(500).default(50),
      only: z.enum(['included', 'rejected']).optional(),
    }),
  ),
};

export const distillEvents = {
  /** The answers being generated, with their text so far (a few times a second per run). */
  'distill.stream': event<DistillStreamEvent>(),
};

const HttpConfigFields = {
  baseUrl: z.string(),
  model: z.string(),
  name: z.string(),
  /** Where the key is (an environment variable's or a saved secret's name), never the key. */
  apiKeyEnv: z.string().optional(),
  apiKeySecret: z.string().optional(),
  timeoutMs: z.number().int().positive(),
  maxRetries: z.number().int().min(0),
};
/** A server teacher as a run's config holds it. */
export const HttpTeacherConfig = z.strictObject({ kind: z.literal('http'), ...HttpConfigFields });
export type HttpTeacherConfig = z.infer<typeof HttpTeacherConfig>;
/** One endpoint of a fleet as a run's config holds it (its `name` is the metrics' key: host, or host and path). */
export const FleetEndpointConfig = z.strictObject({ ...HttpConfigFields, concurrency: z.number().int().min(1) });
export type FleetEndpointConfig = z.infer<typeof FleetEndpointConfig>;

/** A teacher as a run's config holds it: the library model's file, the server and where its key is, or a fleet of servers. */
export const TeacherConfig = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('local'), modelId: z.number().int().positive(), path: z.string(), name: z.string() }),
  HttpTeacherConfig,
  z.strictObject({ kind: z.literal('fleet'), name: z.string(), endpoints: z.array(FleetEndpointConfig).min(1) }),
]);
export type TeacherConfig = z.infer<typeof TeacherConfig>;

/** The runs this room starts (see docs/runs.md). */
export const distillJobs = {
  /** A teacher answers every prompt of a version's split (× samples); one item per answer; the kept ones become a dataset. */
  'distill.generate': job({
    config: z.strictObject({
      dataset: z.string(),
      versionId: z.number().int().positive(),
      versionNumber: z.number().int().positive(),
      split: z.enum(['train', 'validation', 'test', 'all']),
      teacher: TeacherConfig,
      template: DistillTemplate,
      generation: DistillGeneration,
      filters: DistillFilters,
      parallel: z.number().int().min(1).max(64),
      outName: z.string(),
      limit: z.number().int().positive().optional(),
      jsonSchema: z.record(z.string(), z.unknown()).optional(),
      logprobs: z.number().int().min(1).max(20).optional(),
      judge: z.strictObject({ teacher: TeacherConfig, rubric: z.string(), threshold: z.number(), maxTokens: z.number().int().positive() }).optional(),
      /** Runs made before the quality gate existed get its default. */
      maxRejectRate: MaxRejectRate,
    }),
    metrics: {
      tokens_per_second: 'tokens/s',
      answers: 'answers',
      rejected: 'answers',
      // a fleet teacher's endpoints, by name (FLEET_METRICS)
      'endpoint_answers:*': 'answers',
      'endpoint_tokens:*': 'tokens',
      'endpoint_tps:*': 'tokens/s',
      'endpoint_failures:*': 'attempts',
      'endpoint_drained:*': '',
    },
  }),
};
