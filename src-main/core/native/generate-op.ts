/**
 * The engine host's `generate` operation: one long request per batch. It opens a context of `parallel` sequences on
 * the model (+ adapters), then takes sequences fed to it while it runs (`add`, `cancel`, `close`: see
 * GenerateFeed) and reports each sequence's progress, result or error as the request's progress events, so new
 * sequences join the batch as others end. The request settles when it is closed (or cancelled: everything stops
 * within one decode step).
 */
import { AppError, toErrorShape, type AppErrorShape } from '../../../src-shared/errors.js';
import type { HostContext } from './engine-host.js';
import { BatchGenerator } from './batch-generator.js';
import type { NativeBatchOptions, NativeGenerateProgress, NativeGenerateResult, NativeGenerateSpec } from './generate-types.js';

/** What main feeds a running `generate` request. */
export type GenerateFeed = { add: { key: number; spec: NativeGenerateSpec }[] } | { cancel: number } | { close: true };

/** The request's progress events: the batch is ready, or one sequence's news. */
export type GenerateEvent =
  | { ready: { parallel: number; perSequence: number; nVocab: number } }
  | { key: number; progress: NativeGenerateProgress }
  | { key: number; result: NativeGenerateResult }
  | { key: number; error: AppErrorShape };

export interface GenerateSummary {
  /** Decode steps the batch ran. */
  steps: number;
  sequences: number;
}

const MAX_PARALLEL = 64;

function checkOptions(o: NativeBatchOptions): void {
  const int = (v: unknown, field: string, min: number, max: number) => {
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max)
      throw new AppError('invalid_input', `${field} must be a whole number from ${min} to ${max}`, field);
  };
  if (typeof o.modelPath !== 'string' || o.modelPath === '') throw new AppError('invalid_input', 'modelPath must name a model file', 'modelPath');
  int(o.parallel, 'parallel', 1, MAX_PARALLEL);
  int(o.contextSize, 'contextSize', 8, 1 << 20);
  int(o.threads, 'threads', 1, 512);
  if (!Array.isArray(o.lora)) throw new AppError('invalid_input', 'lora must be a list', 'lora');
}

export async function generateOp(raw: unknown, ctx: HostContext): Promise<GenerateSummary> {
  const o = raw as NativeBatchOptions;
  checkOptions(o);
  const model = ctx.model({ path: o.modelPath });
  const perSequence = Math.min(o.contextSize, model.nCtxTrain > 0 ? model.nCtxTrain : o.contextSize);
  const context = ctx.llama.createContext(model, {
    nCtx: o.parallel * perSequence,
    nBatch: 512,
    nSeqMax: o.parallel,
    threads: o.threads,
    adapters: o.lora.map((a) => ({ path: a.filePath, scale: a.scale })),
  });
  const gen = new BatchGenerator({ lib: ctx.llama.lib, context, parallel: o.parallel, perSequence });
  const send = (e: GenerateEvent) => ctx.progress(e);
  let sequences = 0;
  try {
    await new Promise<void>((resolve) => {
      const stop = () => void gen.close().then(resolve, resolve);
      ctx.signal.addEventListener('abort', stop, { once: true });
      ctx.onFeed((data) => {
        const f = data as GenerateFeed;
        if ('close' in f) return stop();
        if ('cancel' in f) return gen.cancel(f.cancel);
        if (!Array.isArray(f.add)) return;
        for (const { key, spec } of f.add) {
          sequences++;
          let pending: Promise<NativeGenerateResult>;
          try {
            pending = gen.generate(key, spec, (progress) => send({ key, progress }));
          } catch (e) {
            send({ key, error: toErrorShape(e instanceof AppError ? e : new AppError('invalid_input', (e as Error).message)) });
            continue;
          }
          pending.then(
            (result) => send({ key, result }),
            (e: unknown) => send({ key, error: toErrorShape(new AppError('engine_error', (e as Error).message)) }),
          );
        }
      });
      send({ ready: { parallel: o.parallel, perSequence, nVocab: model.nVocab } });
    });
  } finally {
    context.free();
  }
  if (ctx.signal.aborted) throw new AppError('cancelled', 'cancelled');
  return { steps: gen.steps, sequences };
}
