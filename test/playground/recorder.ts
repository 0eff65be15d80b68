import { EventBus } from '../../src-main/core/events.js';
import type { GenerationEvent } from '../../src-shared/domain/playground.js';

/** A real EventBus that keeps every playground event, with a way to wait for a generation's last one. */
export function recordPlaygroundEvents() {
  const bus = new EventBus();
  const events: GenerationEvent[] = [];
  const waiters: Array<() => void> = [];
  bus.subscribe((e) => {
    if (e.name !== 'playground.event') return;
    events.push(e.payload);
    for (const w of waiters.splice(0)) w();
  });
  const of = (id: string) => events.filter((e) => e.generationId === id);
  const last = (id: string) => of(id).find((e) => e.type === 'done' || e.type === 'error');
  return {
    emit: bus.emit,
    /** Calls `listener` with each playground event as it is emitted (synchronously, inside the generation's callback). */
    subscribe: (listener: (e: GenerationEvent) => void) => bus.subscribe((e) => e.name === 'playground.event' && listener(e.payload)),
    events,
    of,
    /** Resolves with the `done` or `error` event of `id`. */
    async end(id: string, timeoutMs = 30_000): Promise<Extract<GenerationEvent, { type: 'done' | 'error' }>> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const e = last(id);
        if (e && (e.type === 'done' || e.type === 'error')) return e;
        if (Date.now() > deadline) throw new Error(`generation ${id} did not end within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
    /** Resolves once `id` has streamed at least one token event. */
    async firstToken(id: string): Promise<void> {
      while (!of(id).some((e) => e.type === 'token') && !last(id)) {
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}
