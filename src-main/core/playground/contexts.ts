import type { LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import type { LlmEngine } from '../llm/engine.js';
import { Mutex } from '../llm/lock.js';

interface Slot {
  mutex: Mutex;
  context: LlamaContext | null;
  threads: number;
  /** The adapters (file:scale) the context was made with. */
  lora: string;
}

/**
 * One context per model for the playground, reused between generations (creating one allocates the KV cache).
 * Users of a model take turns through its mutex; the context is rebuilt when the thread setting or the attached
 * adapters have changed.
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
    lora: { filePath: string; scale: number }[] = [],
  ): Promise<T> {
    let slot = this.slots.get(model);
    if (!slot) {
      slot = { mutex: new Mutex(), context: null, threads: 0, lora: '' };
      this.slots.set(model, slot);
    }
    const s = slot;
    return s.mutex.run(async () => {
      signal.throwIfAborted();
      const threads = this.engine.resolveThreads(threadSetting);
      const loraKey = lora.map((a) => `${a.filePath}:${a.scale}`).join('|');
      // other adapters or scales: a new context on the same loaded model (the weights are not reloaded)
      if (s.context && (s.context.disposed || s.threads !== threads || s.lora !== loraKey)) {
        await s.context.dispose();
        s.context = null;
      }
      if (!s.context) {
        s.context = await this.engine.createContext(model, { threads, sequences: 1, lora });
        s.threads = threads;
        s.lora = loraKey;
      }
      const sequence = s.context.getSequence();
      try {
        return await use(sequence);
      } finally {
        await sequence.dispose(); // frees the slot and its KV cells for the next generation
      }
    });
  }

  async disposeAll(): Promise<void> {
    const slots = [...this.slots.values()];
    this.slots.clear();
    await Promise.all(slots.map((s) => s.mutex.run(async () => s.context?.dispose())));
  }
}
