import type { Emit } from '../events.js';

/** The longest partial text an event carries per answer (its end: the part being written). */
const MAX_CHARS = 4000;

/**
 * The answers a run is generating, pushed as `distill.stream` events at most every `intervalMs` (and only when
 * something changed): each event lists every answer in flight with its text so far, so a window that opens mid-run
 * shows them at the next event. Texts are detokenized only when an event goes out, not per token.
 */
export class AnswerStream {
  private readonly inFlight = new Map<string, { position: number; sample: number; tokens: number; text: () => string }>();
  private dirty = false;
  private last = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly runId: number,
    private readonly emit: Emit,
    private readonly intervalMs = 250,
  ) {
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  /** An answer starts: returns the callback its teacher calls per token. */
  begin(position: number, sample: number): (tokens: number, text: () => string) => void {
    const key = `${position}:${sample}`;
    return (tokens, text) => {
      this.inFlight.set(key, { position, sample, tokens, text });
      this.dirty = true;
      if (performance.now() - this.last >= this.intervalMs) this.flush(); // the first token shows at once
    };
  }

  /** An answer is done (committed, or abandoned): it leaves the list at once, as it appears among the answers. */
  end(position: number, sample: number): void {
    if (!this.inFlight.delete(`${position}:${sample}`)) return;
    this.dirty = true;
    this.flush();
  }

  private flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.last = performance.now();
    const inFlight = [...this.inFlight.values()].map((a) => {
      const text = a.text();
      return { position: a.position, sample: a.sample, tokens: a.tokens, text: text.length > MAX_CHARS ? `…${text.slice(-MAX_CHARS)}` : text };
    });
    this.emit('distill.stream', { runId: this.runId, inFlight });
  }

  /** Stops the events; the last one lists no answer in flight. */
  close(): void {
    clearInterval(this.timer);
    this.inFlight.clear();
    this.dirty = true;
    this.flush();
  }
}
