import { EventEmitter } from 'node:events';
import type { EventEnvelope, EventName, EventPayload } from '../../src-shared/contract/index.js';

/** Pushes an event to every connected window / browser (both hosts subscribe to the bus). */
export type Emit = <K extends EventName>(name: K, payload: EventPayload<K>) => void;

export class EventBus {
  private readonly emitter = new EventEmitter();
  constructor() {
    this.emitter.setMaxListeners(100);
  }
  readonly emit: Emit = (name, payload) => {
    this.emitter.emit('event', { name, payload } as EventEnvelope);
  };
  subscribe(listener: (event: EventEnvelope) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
