import type { LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import type { LlmEngine } from '../llm/engine.js';
import { Mutex } from '../llm/lock.js';

interface Slot {
  mutex: Mutex;
  context: LlamaContext | null;
  threads: number;
}

/**
 * One context per model for the playground, reused between generations (creating one allocates the KV cache).
 * Users of a model take turns through its mutex; the context is rebuilt when the thread setting has changed.
 */
export class PlaygroundContexts {
  private readonly slots = new Map<LlamaModel, Slot>();

  constructor(private readonly engine: LlmEngine) {}

  /** Runs `use` with a fresh sequence of the model's context, after earlier users of that model are done. */
  withSequence<T>(
    model: LlamaModel,
    threadSetting: number | null,
    signal: AbortSignal,
    use: (sequence: LlamaContextSequence) => Promise<T>,
  ): Promise<T> {
    let slot = this.slots.get(model);
    if (!slot) {
      slot = { mutex: new Mutex(), context: null, threads: 0 };
      this.slots.set(model, slot);
    }
    const s = slot;
    return s.mutex.run(async () => {
      signal.throwIfAborted();
      const threads = this.engine.resolveThreads(threadSetting);
      if (s.context && (s.context.disposed || s.threads !== threads)) {
        await s.context.dispose();
        s.context = null;
      }
      if (!s.context) {
        s.context = await this.engine.createContext(model, { threads, sequences: 1 });
        s.threads = threads;
      }
      const sequence = s.context.getSequence();
      try {
        return await use(sequence);
      } finally {
        sequence.dispose(); // frees the slot and its KV cells for the next generation
      }
    });
  }

  async disposeAll(): Promise<void> {
    const slots = [...this.slots.values()];
    this.slots.clear();
    await Promise.all(slots.map((s) => s.mutex.run(async () => s.context?.dispose())));
  }
}
