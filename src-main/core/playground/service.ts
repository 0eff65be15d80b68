import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Emit } from '../events.js';
import type { LlmEngine } from '../llm/engine.js';
import { AppError, toErrorShape } from '../../../src-shared/errors.js';
import type { OpParsed } from '../../../src-shared/contract/index.js';
import type { GenerationStats } from '../../../src-shared/domain/playground.js';
import { PlaygroundContexts } from './contexts.js';
import { hasChatTemplate, runGeneration } from '../llm/generation.js';

export interface PlaygroundDeps {
  engine: LlmEngine;
  /** The file behind a library id; throws AppError (not_found, file_missing). */
  resolveModel(id: number): { path: string; name: string };
  /** The adapter files for a model, checked against it; throws AppError with the reason when one does not fit. */
  resolveAdapters(modelId: number, adapters: { id: number; scale: number }[]): { filePath: string; scale: number }[];
  emit: Emit;
  /** The user's thread setting; null = automatic. */
  threads(): number | null;
}

/** The contract's input; `history` may be left out (no earlier turns). */
type GenerateInput = Omit<OpParsed<'playground.generate'>, 'history'> & { history?: OpParsed<'playground.generate'>['history'] };

/**
 * Streamed text goes out in batches of at most this age: one event per token would cost the main thread (and an
 * HTTP client) work between two decodes for nothing a reader can see. The first token always goes out at once.
 */
const FLUSH_MS = 30;

interface Running {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Streams generations as `playground.event`s. Each model keeps one context, reused between generations; two
 * generations on the same model run one after the other (a queue), so they never share a sequence.
 */
export class PlaygroundService {
  private readonly running = new Map<string, Running>();
  private readonly contexts: PlaygroundContexts;

  constructor(private readonly deps: PlaygroundDeps) {
    this.contexts = new PlaygroundContexts(deps.engine);
  }

  /** Starts a generation and returns its id at once; everything after this arrives as events with that id. */
  generate(input: GenerateInput): { generationId: string } {
    const model = this.deps.resolveModel(input.modelId); // an unknown id or a vanished file fails the call itself
    const lora = this.deps.resolveAdapters(input.modelId, input.adapters); // so does an adapter that does not fit
    const generationId = randomUUID();
    const controller = new AbortController();
    const done = this.run(generationId, model, input, controller.signal, lora).finally(() => this.running.delete(generationId));
    this.running.set(generationId, { controller, done });
    return { generationId };
  }

  /** Aborts at once; the `done` event follows with stopReason 'cancelled' and the text so far. */
  stop(generationId: string): { stopped: boolean } {
    const entry = this.running.get(generationId);
    if (!entry || entry.controller.signal.aborted) return { stopped: false };
    entry.controller.abort();
    return { stopped: true };
  }

  /** Resolves when the generation has ended (its last event is out). */
  async settled(generationId: string): Promise<void> {
    await this.running.get(generationId)?.done;
  }

  async close(): Promise<void> {
    for (const r of this.running.values()) r.controller.abort();
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
    await this.contexts.disposeAll();
  }

  private async run(
    id: string,
    model: { path: string; name: string },
    input: GenerateInput,
    signal: AbortSignal,
    lora: { filePath: string; scale: number }[],
  ): Promise<void> {
    const emit = this.deps.emit;
    const started = performance.now();
    let loadMs = 0;
    let text = '';
    let pending = '';
    let pendingTokens = 0;
    let generatedTokens = 0;
    let lastFlush = 0;
    let generationStart = 0;
    let firstTokenAt: number | null = null;
    const flush = () => {
      if (pending === '' && pendingTokens === 0) return;
      emit('playground.event', { generationId: id, type: 'token', text: pending, tokens: pendingTokens });
      pending = '';
      pendingTokens = 0;
      lastFlush = performance.now();
    };
    const finish = (stopReason: GenerationStats['stopReason'], promptTokens: number, chatWrapper: string | null) => {
      flush();
      const end = performance.now();
      const stats: GenerationStats = {
        promptTokens,
        generatedTokens,
        timeToFirstTokenMs: firstTokenAt === null ? null : firstTokenAt - generationStart,
        tokensPerSecond: firstTokenAt !== null && generatedTokens > 1 && end > firstTokenAt ? ((generatedTokens - 1) * 1000) / (end - firstTokenAt) : null,
        totalMs: end - started,
        loadMs,
        stopReason,
        chatWrapper,
      };
      emit('playground.event', { generationId: id, type: 'done', text, stats });
    };

    let promptTokens = 0;
    try {
      // Let the caller receive the generation id before its first event (a client should still accept events that
      // arrive before the reply to `playground.generate`: over HTTP they travel on another connection).
      await new Promise<void>((resolve) => setImmediate(resolve));
      emit('playground.event', { generationId: id, type: 'loading', progress: 0 });
      const llamaModel = await this.deps.engine.loadModel(model.path, {
        signal,
        onProgress: (progress) => emit('playground.event', { generationId: id, type: 'loading', progress }),
      });
      loadMs = performance.now() - started;
      if (input.mode === 'chat' && !hasChatTemplate(llamaModel)) {
        // Chat text without the model's own template is a format it never saw; its answer would mislead.
        throw new AppError(
          'invalid_input',
          `${path.basename(model.path)} has no chat template, so chat mode cannot format a conversation the way this model ` +
            `was trained; use completion mode`,
          'mode',
        );
      }
      await this.contexts.withSequence(
        llamaModel,
        this.deps.threads(),
        signal,
        async (sequence) => {
          if (signal.aborted) return finish('cancelled', 0, null);
          generationStart = performance.now();
          const outcome = await runGeneration(llamaModel, sequence, input, signal, {
            onStart: (count) => {
              promptTokens = count;
              emit('playground.event', { generationId: id, type: 'started', mode: input.mode, promptTokens: count });
            },
            onTokens: (count) => {
              firstTokenAt ??= performance.now();
              generatedTokens += count;
              pendingTokens += count;
            },
            onText: (chunk) => {
              text += chunk;
              pending += chunk;
              if (performance.now() - lastFlush >= FLUSH_MS) flush();
            },
          });
          finish(outcome.stopReason, promptTokens, outcome.chatWrapper);
        },
        lora,
      );
    } catch (e) {
      if (signal.aborted) return finish('cancelled', promptTokens, null);
      flush();
      const error = toErrorShape(e);
      emit('playground.event', { generationId: id, type: 'error', code: error.code, message: error.message });
    }
  }
}
