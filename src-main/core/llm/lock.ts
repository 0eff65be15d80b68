/**
 * A promise-chain mutex: callers run one at a time, in call order (like `withLock` in node-llama-cpp's Electron
 * template). A failing task does not break the chain for the next one.
 */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
