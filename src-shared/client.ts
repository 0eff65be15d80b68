import type { EventEnvelope, EventName, EventPayload, OpInput, OpName, OpOutput, Transport } from './contract/index.js';
import { AppError } from './errors.js';

/** A typed client over any transport: the renderer, the CLI and the tests all speak the contract through it. */
export interface Client {
  call<K extends OpName>(op: K, input: OpInput<K>): Promise<OpOutput<K>>;
  on<K extends EventName>(name: K, handler: (payload: EventPayload<K>) => void): () => void;
}

export function createClient(transport: Transport): Client {
  return {
    async call(op, input) {
      const result = await transport.call(op, input);
      if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.field);
      return result.value as OpOutput<typeof op>;
    },
    on(name, handler) {
      return transport.subscribe((event: EventEnvelope) => {
        if (event.name === name) (handler as (p: unknown) => void)(event.payload);
      });
    },
  };
}
