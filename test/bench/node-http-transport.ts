import type { EventEnvelope, OpName, Transport } from '../../src-shared/contract/index.js';
import type { Result } from '../../src-shared/errors.js';

/**
 * The HTTP host's protocol spoken from Node (no EventSource in Node 20): `POST /api/call/<op>` and the server-sent
 * event stream at `/api/events`, read with fetch. Resolves once the event stream is open, so no event is missed.
 */
export async function connectHttpTransport(baseUrl: string): Promise<Transport & { close(): void }> {
  const listeners = new Set<(e: EventEnvelope) => void>();
  const controller = new AbortController();
  const res = await fetch(`${baseUrl}/api/events`, { signal: controller.signal });
  if (!res.ok || !res.body) throw new Error(`event stream refused: HTTP ${res.status}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          for (const line of frame.split('\n')) {
            if (!line.startsWith('data: ')) continue;
            const event = JSON.parse(line.slice(6)) as EventEnvelope;
            for (const l of listeners) l(event);
          }
        }
      }
    } catch {
      // closed
    }
  })();
  return {
    async call(op: OpName, input: unknown): Promise<Result<unknown>> {
      const r = await fetch(`${baseUrl}/api/call/${op}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(input),
      });
      return (await r.json()) as Result<unknown>;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      controller.abort();
    },
  };
}
