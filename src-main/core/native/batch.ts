/**
 * Batched generation, main side: a batch is one long `generate` request to the engine host (generate-op.ts); each
 * sequence is fed to it and settles on its own, so callers simply `await batch.generate(spec)` `parallel` at a time
 * and the host decodes them together, one llama_decode per step:
 *
 *   const batch = await NativeBatch.open(client, { modelPath, lora: [], parallel: 8, contextSize: 2048, threads: 1 });
 *   const r = await batch.generate({ tokens, maxTokens: 64, sampling, stops: [], logprobs: 0 }, { signal, onText });
 *   await batch.close();
 *
 * A crash of the host rejects every sequence with its reason (an `engine_error` AppError).
 */
import { AppError, type AppErrorShape } from '../../../src-shared/errors.js';
import type { EngineClient } from './client.js';
import type { GenerateEvent, GenerateFeed, GenerateSummary } from './generate-op.js';
import type { NativeBatchOptions, NativeGenerateResult, NativeGenerateSpec } from './generate-types.js';

export interface SequenceOptions {
  /** Ends this sequence within one decode step (the result then says 'cancelled'). */
  signal?: AbortSignal | undefined;
  /** The tokens generated so far and the whole text so far, a few times a second. */
  onText?: ((tokens: number, text: string) => void) | undefined;
}

interface Waiting {
  resolve(r: NativeGenerateResult): void;
  reject(e: unknown): void;
  text: string;
  onText?: ((tokens: number, text: string) => void) | undefined;
}

export class NativeBatch {
  private readonly waiting = new Map<number, Waiting>();
  private nextKey = 1;
  private failure: unknown = null;
  private summary: Promise<GenerateSummary>;
  /** Tokens a sequence holds (prompt + answer), as the host sized the context. */
  perSequence = 0;

  private constructor(
    private readonly feed: (f: GenerateFeed) => void,
    request: Promise<GenerateSummary>,
  ) {
    this.summary = request.then(
      (s) => {
        this.failAll(new AppError('internal', 'the batch closed while sequences were generating'));
        return s;
      },
      (e: unknown) => {
        this.failAll(e);
        throw e;
      },
    );
    this.summary.catch(() => undefined);
  }

  /** Opens the batch (loads the model in the host when needed and creates its context). */
  static async open(client: EngineClient, options: NativeBatchOptions, signal?: AbortSignal): Promise<NativeBatch> {
    let feed: ((data: unknown) => void) | null = null;
    let batch: NativeBatch | null = null;
    let ready: (perSequence: number) => void = () => {};
    const readyPromise = new Promise<number>((r) => (ready = r));
    const request = client.request('generate', options, {
      ...(signal ? { signal } : {}),
      feed: (send) => (feed = send),
      onProgress: (e) => {
        if ('ready' in e) return ready(e.ready.perSequence);
        batch?.onEvent(e);
      },
    });
    const ended = request.then(() => {
      throw new AppError('internal', 'the batch ended before it was ready');
    });
    ended.catch(() => undefined); // once ready, the batch's own handlers take over
    const perSequence = await Promise.race([readyPromise, ended]);
    if (!feed) throw new AppError('internal', 'the engine host did not take the batch');
    batch = new NativeBatch(feed, request);
    batch.perSequence = perSequence;
    return batch;
  }

  generate(spec: NativeGenerateSpec, opts: SequenceOptions = {}): Promise<NativeGenerateResult> {
    if (this.failure) return Promise.reject(this.failure);
    const key = this.nextKey++;
    const { signal } = opts;
    return new Promise<NativeGenerateResult>((resolve, reject) => {
      const cancel = () => (this.flush(), this.feed({ cancel: key }));
      const done = () => signal?.removeEventListener('abort', cancel);
      this.waiting.set(key, { resolve: (r) => (done(), resolve(r)), reject: (e) => (done(), reject(e)), text: '', onText: opts.onText });
      this.queueAdd(key, spec);
      if (signal?.aborted) cancel();
      else signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  /** Sequences asked for in one task travel as one message, so the host starts them in the same decode step. */
  private outbox: { key: number; spec: NativeGenerateSpec }[] | null = null;
  private queueAdd(key: number, spec: NativeGenerateSpec): void {
    if (this.outbox) return void this.outbox.push({ key, spec });
    this.outbox = [{ key, spec }];
    queueMicrotask(() => this.flush());
  }

  /** Sends the sequences asked for so far (before a cancel or close, which must reach the host after them). */
  private flush(): void {
    const add = this.outbox;
    this.outbox = null;
    if (add && !this.failure) this.feed({ add });
  }

  /** Ends the batch (sequences still generating end 'cancelled'); resolves with what the batch did. */
  async close(): Promise<GenerateSummary | null> {
    this.flush();
    if (!this.failure) this.feed({ close: true });
    return this.summary.catch(() => null);
  }

  private onEvent(e: Exclude<GenerateEvent, { ready: unknown }>): void {
    const w = this.waiting.get(e.key);
    if (!w) return;
    if ('progress' in e) {
      w.text += e.progress.text;
      w.onText?.(e.progress.tokens, w.text);
      return;
    }
    this.waiting.delete(e.key);
    if ('result' in e) w.resolve(e.result);
    else w.reject(fromShape(e.error));
  }

  private failAll(e: unknown): void {
    this.failure ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}

function fromShape(s: AppErrorShape): AppError {
  return new AppError(s.code, s.message, s.field);
}
