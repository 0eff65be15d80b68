import type { TeacherConfig } from '../../../src-shared/contract/distill.js';
import type { LlmEngine } from '../llm/engine.js';
import type { SecretsStore } from '../secrets/store.js';
import { openLocalTeacher, type TeacherAnswer } from './local-teacher.js';
import { HttpTeacher, type GenerationRequest, type GenerationResult } from './http-teacher.js';
import { FleetTeacher, type FleetEndpointStats } from './fleet.js';
import type { ChatMessage, ToolDefinition } from '../../../src-shared/domain/datasets.js';
import type { DistillGeneration } from '../../../src-shared/domain/distill.js';
import { AppError } from '../../../src-shared/errors.js';

/** A model that answers chat prompts, as a run's config names it: a library model or an OpenAI-compatible server. */
export type TeacherSpec = TeacherConfig;

export interface AnswerOptions {
  generation: DistillGeneration;
  /** Structured output: a grammar on a local model, response_format on a server. */
  jsonSchema?: object | undefined;
  logprobs?: number | undefined;
  /** The example's tools: sent as `tools` to a server, documented through the chat template for a local model. */
  tools?: ToolDefinition[] | undefined;
  /** Partial answers as they are generated (local teachers; a server's answer arrives whole). */
  onToken?: ((tokens: number, text: () => string) => void) | undefined;
}

/** An open teacher: `parallel` answers at once (sequences of one native batch, or requests in flight). */
export interface OpenTeacher {
  answer(messages: ChatMessage[], seed: number, options: AnswerOptions): Promise<TeacherAnswer>;
  close(): Promise<void>;
  /** A fleet's figures per endpoint (answers, tokens, tokens/s, failures, drained). */
  endpoints?(): FleetEndpointStats[];
}

export interface TeacherDeps {
  engine: LlmEngine;
  threads: () => number | null;
  secrets: SecretsStore;
  log(level: 'info' | 'warn', message: string): void;
}

/** The servers a teacher reaches (lineage rows `endpoint` BASEURL#MODEL): none for a library model, each endpoint of a fleet. */
export function teacherEndpoints(spec: TeacherSpec): { ref: string; label: string }[] {
  if (spec.kind === 'http') return [{ ref: `${spec.baseUrl}#${spec.model}`, label: spec.name }];
  if (spec.kind === 'fleet') return spec.endpoints.map((e) => ({ ref: `${e.baseUrl}#${e.model}`, label: `${e.model} at ${e.name}` }));
  return [];
}

/** The API key a server teacher needs, from where the run says it is; refused clearly when it is not there. */
export function resolveApiKey(spec: { apiKeyEnv?: string | undefined; apiKeySecret?: string | undefined }, secrets: SecretsStore): string | undefined {
  if (spec.apiKeySecret) return secrets.reveal(spec.apiKeySecret);
  if (!spec.apiKeyEnv) return undefined;
  const key = process.env[spec.apiKeyEnv];
  if (!key) throw new AppError('invalid_input', `the environment variable ${spec.apiKeyEnv} (the API key) is not set`, 'apiKeyEnv');
  return key;
}

/** A server teacher's (or a fleet's) completions as an open teacher's answers. */
function serverTeacher(
  generate: (req: GenerationRequest, signal: AbortSignal, onDelta?: (text: string, chunks: number) => void) => Promise<GenerationResult>,
  signal: AbortSignal,
  close: () => void,
  stats?: () => FleetEndpointStats[],
): OpenTeacher {
  return {
    async answer(messages, seed, o) {
      const g = o.generation;
      const r = await generate(
        {
          messages,
          temperature: g.temperature,
          topP: g.topP,
          topK: g.topK,
          maxTokens: g.maxTokens,
          seed,
          ...(o.jsonSchema ? { jsonSchema: o.jsonSchema } : {}),
          ...(o.logprobs ? { logprobs: o.logprobs } : {}),
          ...(o.tools?.length ? { tools: o.tools } : {}),
        },
        signal,
        o.onToken ? (text, chunks) => o.onToken!(chunks, () => text) : undefined,
      );
      return {
        text: r.text,
        finishReason: r.finishReason === 'length' ? 'length' : 'stop',
        promptTokens: r.promptTokens,
        completionTokens: r.completionTokens,
        logprobs: r.logprobs,
        toolCalls: r.toolCalls,
      };
    },
    close: async () => close(),
    ...(stats ? { endpoints: stats } : {}),
  };
}

/**
 * Opens a teacher for `parallel` answers at once. A fleet takes each endpoint's own concurrency instead (the run's
 * `parallel` is how many requests it is given at once).
 */
export async function openTeacher(spec: TeacherSpec, parallel: number, maxTokens: number, deps: TeacherDeps, signal: AbortSignal): Promise<OpenTeacher> {
  if (spec.kind === 'http') {
    const apiKey = resolveApiKey(spec, deps.secrets);
    const client = new HttpTeacher({
      baseUrl: spec.baseUrl,
      model: spec.model,
      ...(apiKey ? { apiKey } : {}),
      concurrency: parallel,
      timeoutMs: spec.timeoutMs,
      maxRetries: spec.maxRetries,
      onRetry: (i) => deps.log('warn', `${spec.name}: retrying a request (attempt ${i.attempt} failed: ${i.reason}); waiting ${Math.round(i.waitMs)} ms.`),
    });
    return serverTeacher(
      (req, s, d) => client.generate(req, s, d),
      signal,
      () => {},
    );
  }
  if (spec.kind === 'fleet') {
    const fleet = new FleetTeacher({
      endpoints: spec.endpoints.map((e) => {
        const apiKey = resolveApiKey(e, deps.secrets);
        return {
          name: e.name,
          baseUrl: e.baseUrl,
          model: e.model,
          ...(apiKey ? { apiKey } : {}),
          concurrency: e.concurrency,
          timeoutMs: e.timeoutMs,
          maxRetries: e.maxRetries,
        };
      }),
      log: (level, message) => deps.log(level, message),
    });
    return serverTeacher(
      (req, s, d) => fleet.generate(req, s, d),
      signal,
      () => fleet.close(),
      () => fleet.stats(),
    );
  }

  return openLocalTeacher(deps.engine, spec.path, spec.name, { parallel, maxTokens, threads: deps.threads() }, signal);
}
