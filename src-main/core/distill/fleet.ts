import { AppError, isAppError } from '../../../src-shared/errors.js';
import { HttpTeacher, type GenerationRequest, type GenerationResult, type HttpTeacherOptions } from './http-teacher.js';

/**
 * A teacher made of several OpenAI-compatible servers serving the same model (vLLM, SGLang, TGI or llama-server
 * replicas). Each endpoint is its own HttpTeacher with its own concurrency limit, timeouts and retries. A request goes
 * to the endpoint with the most expected spare capacity: the least `seconds per token × (in flight + 1) / concurrency`,
 * seconds per token being a moving average of what the endpoint MEASURED (unmeasured endpoints count as fast, so each
 * is tried). A failing endpoint is drained: a request whose attempts are exhausted, or DRAIN_STREAK failed attempts in
 * a row (5xx, network errors, timeouts — a hang ends at the per-attempt timeout), take it out; its requests in flight
 * are aborted and sent to another endpoint. Each request has one attempt in flight at a time and resolves once, so an
 * answer is never made twice by the fleet. A drained endpoint rests (COOL_OFF_MS, doubled after each failed probe),
 * then takes one probe request; it is back when that succeeds. When every endpoint is down (and none may be probed yet)
 * a request fails with each endpoint's reason.
 */
export interface FleetEndpointOptions extends Omit<HttpTeacherOptions, 'onRetry' | 'backoff'> {
  /** How the endpoint is named in logs and figures (its host, or host and path). */
  name: string;
}

export interface FleetOptions {
  endpoints: FleetEndpointOptions[];
  /** Failed attempts in a row (across the endpoint's requests) that drain it, even with retries left; default 3. */
  drainStreak?: number;
  /** How long a drained endpoint rests before a probe; default 30 s, doubled after each failed probe (at most 10 min). */
  coolOffMs?: number;
  backoff?: HttpTeacherOptions['backoff'];
  log?(level: 'info' | 'warn', message: string): void;
}

/** What one endpoint did: the figures a run records (`endpoint_answers:<name>`…). */
export interface FleetEndpointStats {
  name: string;
  answers: number;
  /** Completion tokens of its answers. */
  tokens: number;
  /** Its tokens over the time it had a request in flight; null before its first answer. */
  tokensPerSecond: number | null;
  /** Failed attempts (each retry's, and requests it gave up). */
  failures: number;
  /** Down now (resting, or out until a probe succeeds). */
  drained: boolean;
  /** Why it was last drained. */
  reason: string | null;
}

const EWMA = 0.3;
const MAX_COOL_OFF_MS = 600_000;

interface Endpoint {
  name: string;
  client: HttpTeacher;
  concurrency: number;
  /** The attempts in flight, each abortable when the endpoint is drained. */
  inFlight: Set<AbortController>;
  streak: number;
  /** Measured seconds per generated token (moving average); null until the first answer. */
  secondsPerToken: number | null;
  answers: number;
  tokens: number;
  activeMs: number;
  activeSince: number | null;
  failures: number;
  down: { reason: string; until: number; coolOffMs: number } | null;
  /** The one request probing a drained endpoint. */
  probe: AbortController | null;
  lastReason: string | null;
}

export class FleetTeacher {
  readonly #endpoints: Endpoint[];
  readonly #drainStreak: number;
  readonly #coolOffMs: number;
  readonly #log: NonNullable<FleetOptions['log']>;
  /** Requests waiting for a free slot, woken when one frees up or an endpoint changes state. */
  #waiters = new Set<() => void>();
  #closed = false;

  constructor(o: FleetOptions) {
    if (o.endpoints.length === 0) throw new AppError('invalid_input', 'a fleet needs at least one endpoint', 'endpoints');
    this.#drainStreak = o.drainStreak ?? 3;
    this.#coolOffMs = o.coolOffMs ?? 30_000;
    this.#log = o.log ?? (() => {});
    this.#endpoints = o.endpoints.map((e) => {
      const ep: Endpoint = {
        name: e.name,
        concurrency: e.concurrency,
        inFlight: new Set(),
        streak: 0,
        secondsPerToken: null,
        answers: 0,
        tokens: 0,
        activeMs: 0,
        activeSince: null,
        failures: 0,
        down: null,
        probe: null,
        lastReason: null,
        client: null as unknown as HttpTeacher,
      };
      // the endpoint's own limit is kept here; its client never queues (it is given one slot per attempt we send)
      ep.client = new HttpTeacher({
        ...e,
        concurrency: e.concurrency,
        ...(o.backoff ? { backoff: o.backoff } : {}),
        onRetry: (i) => this.#failed(ep, i.reason, false),
      });
      return ep;
    });
  }

  /** Requests the whole fleet takes at once (the sum of its endpoints' limits). */
  get capacity(): number {
    return this.#endpoints.reduce((s, e) => s + e.concurrency, 0);
  }

  stats(): FleetEndpointStats[] {
    const now = performance.now();
    return this.#endpoints.map((e) => {
      const activeMs = e.activeMs + (e.activeSince === null ? 0 : now - e.activeSince);
      return {
        name: e.name,
        answers: e.answers,
        tokens: e.tokens,
        tokensPerSecond: e.answers && activeMs > 0 ? e.tokens / (activeMs / 1000) : null,
        failures: e.failures,
        drained: e.down !== null,
        reason: e.lastReason,
      };
    });
  }

  /**
   * One chat completion on the endpoint with the most spare capacity; on an endpoint's failure, the same request on
   * another. Rejects when the run's signal is aborted, or when every endpoint is down.
   */
  async generate(req: GenerationRequest, signal?: AbortSignal, onDelta?: (text: string, chunks: number) => void): Promise<GenerationResult> {
    const t0 = performance.now();
    let attempts = 0;
    // each pass either answers, or drains an endpoint (which stays down until its cool-off): bounded by the endpoints' count × probes
    for (;;) {
      const attempt = new AbortController();
      const ep = await this.#pick(signal, attempt);
      const onAbort = () => attempt.abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const started = performance.now();
      try {
        const r = await ep.client.generate(req, attempt.signal, onDelta);
        attempts += r.attempts;
        this.#succeeded(ep, r, performance.now() - started);
        return { ...r, attempts, latencyMs: performance.now() - t0 };
      } catch (e) {
        if (signal?.aborted || this.#closed) throw isAppError(e) ? e : new AppError('cancelled', 'the request was cancelled');
        // a 4xx the server does not retry (not 401/403) is about this request, not the endpoint: every endpoint would refuse it
        if (!attempt.signal.aborted && isAppError(e) && e.code === 'engine_error' && /\(not retried\)/.test(e.message)) throw e;
        // aborted because its endpoint was drained meanwhile: sent elsewhere; otherwise the endpoint failed it
        if (!attempt.signal.aborted) this.#failed(ep, isAppError(e) ? e.message : String(e), true);
      } finally {
        signal?.removeEventListener('abort', onAbort);
        if (ep.probe === attempt) ep.probe = null; // a probe that ended without a verdict (a refused request): probed again
        this.#finish(ep, attempt);
      }
    }
  }

  /** Aborts every request in flight; the fleet takes no more. */
  close(): void {
    this.#closed = true;
    for (const e of this.#endpoints) for (const a of e.inFlight) a.abort(new DOMException('the teacher was closed', 'AbortError'));
    this.#wake();
  }

  /**
   * The endpoint a request goes to, waiting for a free slot, with `attempt` in its slot (taken in the same tick as the
   * choice, so requests picking at once see each other); throws when every endpoint is down.
   */
  async #pick(signal: AbortSignal | undefined, attempt: AbortController): Promise<Endpoint> {
    for (;;) {
      if (signal?.aborted || this.#closed) throw new AppError('cancelled', 'the request was cancelled');
      const now = performance.now();
      let best: Endpoint | null = null;
      let bestCost = Infinity;
      let up = 0;
      let nextProbe = Infinity;
      for (const e of this.#endpoints) {
        let limit = e.concurrency;
        if (e.down) {
          if (e.probe) continue;
          if (now < e.down.until) {
            nextProbe = Math.min(nextProbe, e.down.until);
            continue;
          }
          limit = 1; // one probe request
        }
        up++;
        if (e.inFlight.size >= limit) continue;
        const cost = ((e.secondsPerToken ?? 0) * (e.inFlight.size + 1)) / limit + e.inFlight.size / limit / 1e6; // ties: the least loaded
        if (cost < bestCost) {
          best = e;
          bestCost = cost;
        }
      }
      if (best) {
        if (best.down) best.probe = attempt;
        this.#start(best, attempt);
        return best;
      }
      if (up === 0 && !this.#endpoints.some((e) => e.probe)) {
        const reasons = this.#endpoints.map((e) => `${e.name}: ${e.down?.reason ?? 'down'}`).join('; ');
        throw new AppError('engine_error', `every endpoint of the fleet is down (${reasons})`);
      }
      await this.#wait(signal, up === 0 ? nextProbe - now : Infinity);
    }
  }

  #wait(signal: AbortSignal | undefined, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        if (timer) clearTimeout(timer);
        resolve();
      };
      const timer = Number.isFinite(ms) ? setTimeout(done, Math.max(0, ms)) : null;
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  #start(e: Endpoint, a: AbortController): void {
    if (e.inFlight.size === 0) e.activeSince = performance.now();
    e.inFlight.add(a);
  }

  #finish(e: Endpoint, a: AbortController): void {
    e.inFlight.delete(a);
    if (e.inFlight.size === 0 && e.activeSince !== null) {
      e.activeMs += performance.now() - e.activeSince;
      e.activeSince = null;
    }
    this.#wake();
  }

  #succeeded(e: Endpoint, r: GenerationResult, ms: number): void {
    const tokens = r.completionTokens ?? Math.max(1, Math.round(r.text.length / 4));
    const spt = ms / 1000 / Math.max(1, tokens);
    e.secondsPerToken = e.secondsPerToken === null ? spt : EWMA * spt + (1 - EWMA) * e.secondsPerToken;
    e.answers++;
    e.tokens += tokens;
    e.streak = 0;
    if (e.down) {
      this.#log('info', `${e.name} answers again: it is back in the fleet.`);
      e.down = null;
    }
    e.probe = null;
  }

  /** A failed attempt (`final`: the request gave up on this endpoint); drains the endpoint when it should. */
  #failed(e: Endpoint, reason: string, final: boolean): void {
    e.failures++;
    e.streak++;
    e.lastReason = reason;
    if (e.down && !e.probe) return; // already drained: a late failure of an aborted attempt
    if (!final && e.streak < this.#drainStreak) return;
    const coolOffMs = e.down ? Math.min(MAX_COOL_OFF_MS, e.down.coolOffMs * 2) : this.#coolOffMs;
    const was = e.down !== null;
    e.down = { reason, until: performance.now() + coolOffMs, coolOffMs };
    e.probe = null;
    const moved = [...e.inFlight].filter((a) => !a.signal.aborted).length;
    this.#log(
      'warn',
      `${e.name} ${was ? 'failed its probe' : 'is drained'} (${reason}); ${moved ? `its ${moved} request(s) in flight go to the other endpoints; ` : ''}probing it again in ${Math.round(coolOffMs / 1000)} s.`,
    );
    for (const a of e.inFlight) a.abort(new DOMException(`${e.name} was drained`, 'AbortError'));
    this.#wake();
  }
}

/**
 * A fleet's figures as a run's metrics: `endpoint_answers:<name>`, `endpoint_tokens:<name>`, `endpoint_tps:<name>`
 * (when measured), `endpoint_failures:<name>` and `endpoint_drained:<name>` (1 when down at the end); `prefix` goes
 * before the name (an evaluation's variant: `endpoint_tps:2:host:8000`).
 */
export function fleetFigures(stats: FleetEndpointStats[], prefix = ''): { name: string; value: number }[] {
  return stats.flatMap((s) => {
    const at = `${prefix}${s.name}`;
    return [
      { name: `endpoint_answers:${at}`, value: s.answers },
      { name: `endpoint_tokens:${at}`, value: s.tokens },
      ...(s.tokensPerSecond === null ? [] : [{ name: `endpoint_tps:${at}`, value: s.tokensPerSecond }]),
      { name: `endpoint_failures:${at}`, value: s.failures },
      { name: `endpoint_drained:${at}`, value: s.drained ? 1 : 0 },
    ];
  });
}
