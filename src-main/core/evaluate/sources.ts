/**
 * Where an evaluation variant's answers come from: a library model (with adapters) generating on the native batch
 * path, an OpenAI-compatible server, a distillation run's stored answers, or a trainer's predictions file. Generated
 * answers use the run's generation settings and, per example, the same seed for every variant.
 */
import type { JobConfig } from '../../../src-shared/contract/jobs.js';
import type { EvalVariantConfig } from '../../../src-shared/contract/evaluate.js';
import type { ChatMessage, ExampleRow, ToolDefinition } from '../../../src-shared/domain/datasets.js';
import type { EvalGeneration } from '../../../src-shared/domain/evaluate.js';
import { referenceOf } from '../../../src-shared/domain/datasets.js';
import type { TokenLogprob } from '../../../src-shared/domain/distill.js';
import { openTeacher, type OpenTeacher, type TeacherDeps } from '../distill/teachers.js';
import { openLocalTeacher } from '../distill/local-teacher.js';
import { fleetCapacity } from '../distill/teacher-config.js';
import type { FleetEndpointStats } from '../distill/fleet.js';
import type { DistillStore } from '../distill/store.js';
import { isAppError } from '../../../src-shared/errors.js';
import type { AnswerWrite } from './store.js';
import { readPredictions } from './predictions.js';

export type EvalConfig = JobConfig<'evaluate.run'>;

/** An example as an evaluation sees it: the conversation up to its last user turn, and its reference answer. */
export interface EvalExample {
  position: number;
  prompt: ChatMessage[];
  reference: string | null;
  tools?: ToolDefinition[] | undefined;
}

export function evalExample(row: ExampleRow): EvalExample {
  const lastUser = row.messages.map((m) => m.role).lastIndexOf('user');
  const prompt = lastUser >= 0 ? row.messages.slice(0, lastUser + 1) : row.messages;
  return { position: row.position, prompt, reference: row.reference ?? referenceOf(row.messages), ...(row.tools ? { tools: row.tools } : {}) };
}

export function variantLabel(v: EvalVariantConfig): string {
  return v.kind === 'model' ? v.model.label : v.label;
}

/** What the answers of one variant are read or generated through. */
export interface AnswerSource {
  /** Answers generated at once. */
  parallel: number;
  answer(e: EvalExample, seed: number): Promise<AnswerWrite>;
  close(): Promise<void>;
  /** A fleet's figures per endpoint. */
  endpoints?(): FleetEndpointStats[];
}

/** Confidence figures of an answer from its tokens' log-probabilities (routing): mean log-probability, least probability. */
function confidence(logprobs: TokenLogprob[] | null | undefined): { meanLogprob: number | null; minProb: number | null } {
  if (!logprobs || logprobs.length === 0) return { meanLogprob: null, minProb: null };
  let sum = 0;
  let min = Infinity;
  for (const t of logprobs) {
    sum += t.logprob;
    min = Math.min(min, t.logprob);
  }
  return { meanLogprob: sum / logprobs.length, minProb: Math.exp(min) };
}

/** A generated answer that failed: kept as the variant's answer with the reason (scored as missing), never fatal. */
function failed(e: unknown, ms: number): AnswerWrite {
  return {
    text: null,
    error: e instanceof Error ? e.message : String(e),
    tokens: null,
    promptTokens: null,
    ms,
    ttftMs: null,
    tps: null,
    meanLogprob: null,
    minProb: null,
    finish: 'error',
    logprobs: null,
  };
}

export interface SourceDeps extends TeacherDeps {
  distill: DistillStore;
}

/**
 * Opens a variant's source. `softLabels` asks a generating source for its tokens' top-k (a teacher's soft labels for
 * divergence); every generating source keeps the chosen tokens' log-probabilities for the routing confidence.
 */
export async function openSource(
  v: EvalVariantConfig,
  c: { generation: EvalGeneration; parallel: number },
  positions: number[],
  deps: SourceDeps,
  softLabels: number,
  signal: AbortSignal,
  log: (message: string) => void,
): Promise<AnswerSource> {
  const generation = { ...c.generation, samples: 1 };
  const generating = async (teacher: OpenTeacher, parallel: number): Promise<AnswerSource> => ({
    parallel,
    ...(teacher.endpoints ? { endpoints: () => teacher.endpoints!() } : {}),
    async answer(e, seed) {
      const t0 = performance.now();
      try {
        const a = await teacher.answer(e.prompt, seed, { generation, logprobs: Math.max(1, softLabels), tools: e.tools });
        const ms = performance.now() - t0;
        return {
          text: a.text,
          error: null,
          tokens: a.completionTokens,
          promptTokens: a.promptTokens,
          ms: Math.round(ms),
          ttftMs: a.ttftMs ?? null,
          tps: a.tokensPerSecond ?? (a.completionTokens && ms > 0 ? a.completionTokens / (ms / 1000) : null),
          ...confidence(a.logprobs),
          finish: a.finishReason,
          logprobs: softLabels > 0 ? (a.logprobs ?? null) : null,
        };
      } catch (err) {
        // a cancel, or a failure of the whole engine, ends the run; a refused answer is that answer's failure
        // (a server's refusal of this one request, a 4xx it does not retry, is that answer's failure)
        const refusedThis = isAppError(err) && err.code === 'engine_error' && /\(not retried\)/.test(err.message);
        if (signal.aborted || (isAppError(err) && (err.code === 'cancelled' || (err.code === 'engine_error' && !refusedThis)))) throw err;
        return failed(err, Math.round(performance.now() - t0));
      }
    },
    close: () => teacher.close(),
  });

  if (v.kind === 'model') {
    const m = v.model;
    const teacher = await openLocalTeacher(
      deps.engine,
      m.modelPath,
      m.label,
      {
        parallel: c.parallel,
        maxTokens: c.generation.maxTokens,
        threads: deps.threads(),
        lora: m.adapters.map((a) => ({ filePath: a.filePath, scale: a.scale })),
      },
      signal,
    );
    return generating(teacher, c.parallel);
  }
  if (v.kind === 'server') {
    // a fleet answers as many at once as its endpoints take together
    const parallel = v.server.kind === 'fleet' ? fleetCapacity(v.server.endpoints) : c.parallel;
    return generating(await openTeacher(v.server, parallel, c.generation.maxTokens, deps, signal), parallel);
  }

  // answers that exist: read once, handed out per example
  let texts: Map<number, { text: string; finish: string | null; tokens: number | null }>;
  if (v.kind === 'distill') {
    const got = deps.distill.answersAt(v.runId, positions);
    texts = new Map([...got].map(([p, a]) => [p, { text: a.text, finish: a.finishReason, tokens: a.tokens }]));
    const missing = positions.length - texts.size;
    if (missing > 0) log(`${v.label}: distillation run ${v.runId} has no answer for ${missing} of ${positions.length} example(s); they count as failed.`);
  } else {
    const p = await readPredictions(v.file, positions, signal);
    for (const line of p.problems) log(line);
    if (p.problemCount > p.problems.length) log(`${v.file}: ${p.problemCount - p.problems.length} more problem(s) not listed.`);
    texts = new Map([...p.byPosition].map(([pos, text]) => [pos, { text, finish: null, tokens: null }]));
  }
  const what = v.kind === 'distill' ? `distillation run ${v.runId}` : v.file;
  return {
    parallel: 1,
    answer: (e) => {
      const a = texts.get(e.position);
      if (!a) return Promise.resolve(failed(new Error(`${what} has no answer for example ${e.position}`), 0));
      return Promise.resolve({
        text: a.text,
        error: null,
        tokens: a.tokens,
        promptTokens: null,
        ms: null,
        ttftMs: null,
        tps: null,
        meanLogprob: null,
        minProb: null,
        finish: a.finish,
        logprobs: null,
      });
    },
    close: () => Promise.resolve(),
  };
}
