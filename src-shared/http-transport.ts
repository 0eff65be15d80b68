import type { EventEnvelope, OpName, Transport } from './contract/index.js';
import type { Result } from './errors.js';

export interface HttpTransport extends Transport {
  /** Resolves once the event stream is open (so no event after it is missed). */
  ready: Promise<void>;
  close(): void;
}

const RECONNECT_MS = 1000;

/**
 * The HTTP host's protocol: `POST <base>/api/call/<op>` with the JSON input answers a Result, and `GET <base>/api/events`
 * is a stream of server-sent events carrying EventEnvelopes. The stream is read with fetch (Node 20 has no EventSource)
 * and reopened after a drop, so the same code serves the browser, the CLI and the benchmarks.
 */
export function createHttpTransport(baseUrl: string): HttpTransport {
  const base = baseUrl.replace(/\/+$/, '');
  const listeners = new Set<(e: EventEnvelope) => void>();
  const controller = new AbortController();
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const dispatchFrame = (frame: string) => {
    for (const line of frame.split('\n')) {
      if (!line.startsWith('data: ')) continue;
      let event: EventEnvelope;
      try {
        event = JSON.parse(line.slice(6)) as EventEnvelope;
      } catch {
        continue; // a damaged frame is dropped, the stream goes on
      }
      for (const l of listeners) l(event);
    }
  };

  const readStream = async (): Promise<void> => {
    while (!controller.signal.aborted) {
      try {
        const res = await fetch(`${base}/api/events`, { signal: controller.signal, headers: { accept: 'text/event-stream' } });
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        markReady();
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            dispatchFrame(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch {
        // dropped or refused: try again below
      }
      if (controller.signal.aborted) return;
      await new Promise((r) => setTimeout(r, RECONNECT_MS));
    }
  };
  void readStream();

  return {
    ready,
    async call(op: OpName, input: unknown): Promise<Result<unknown>> {
      let res: Response;
      try {
        res = await fetch(`${base}/api/call/${op}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(input ?? {}),
        });
      } catch (e) {
        return { ok: false, error: { code: 'internal', message: `the Distillery server did not answer (${(e as Error).message})` } };
      }
      try {
        return (await res.json()) as Result<unknown>;
      } catch {
        return { ok: false, error: { code: 'internal', message: `the server answered HTTP ${res.status} without a result` } };
      }
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
