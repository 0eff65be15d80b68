import type { TeacherConfig } from '../../../src-shared/contract/distill.js';
import type { LlmEngine } from '../llm/engine.js';
import type { SecretsStore } from '../secrets/store.js';
import { openLocalTeacher, type TeacherAnswer } from './local-teacher.js';
import { HttpTeacher } from './http-teacher.js';
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
}

export interface TeacherDeps {
  engine: LlmEngine;
  threads: () => number | null;
  secrets: SecretsStore;
  log(level: 'info' | 'warn', message: string): void;
}

/** The API key a server teacher needs, from where the run says it is; refused clearly when it is not there. */
export function resolveApiKey(spec: Extract<TeacherSpec, { kind: 'http' }>, secrets: SecretsStore): string | undefined {
  if (spec.apiKeySecret) return secrets.reveal(spec.apiKeySecret);
  if (!spec.apiKeyEnv) return undefined;
  const key = process.env[spec.apiKeyEnv];
  if (!key) throw new AppError('invalid_input', `the environment variable ${spec.apiKeyEnv} (the API key) is not set`, 'apiKeyEnv');
  return key;
}

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
    return {
      async answer(messages, seed, o) {
        const g = o.generation;
        const r = await client.generate(
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
      close: async () => {},
    };
  }

  return openLocalTeacher(deps.engine, spec.path, spec.name, { parallel, maxTokens, threads: deps.threads() }, signal);
}
