// Over 400 lines for a reason: one client of one protocol. Building the request, reading a whole or streamed answer
// (server-sent events, tool-call fragments put back together), the retries with their backoff and Retry-After, and
// the errors naming the URL but never the key all act on the same attempt's state; split apart, each would need it.
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, isAppError } from '../../../src-shared/errors.js';
import { toolCallText, type ChatMessage, type ToolCall, type ToolDefinition } from '../../../src-shared/domain/datasets.js';
import { wireMessages } from './tool-prompt.js';

/**
 * A teacher reached over HTTP: any server speaking OpenAI's chat-completions API (llama.cpp's llama-server, vLLM,
 * Ollama, LM Studio, OpenAI itself). Whole or streamed answers (server-sent events, read into the same result), a
 * concurrency limit, per-attempt timeouts (a stream's included), retries with backoff, and errors that name the URL and
 * what the server said but never the API key.
 */
export interface HttpTeacherOptions {
  /**
   * The API root, taken as given: `/chat/completions` and `/models` are appended to its path (trailing slashes
   * dropped, any query string kept). So pass the `/v1` the server wants, e.g. `http://127.0.0.1:8080/v1` for
   * llama-server, `http://127.0.0.1:11434/v1` for Ollama, `https://api.openai.com/v1`. http(s) only; credentials in
   * the URL are refused (pass the key as `apiKey`).
   */
  baseUrl: string;
  model: string;
  /** Sent as `Authorization: Bearer <key>`; never part of an error message, a retry reason or a thrown object. */
  apiKey?: string;
  /** Requests of generate() in flight at once (a caller's retries and backoff waits keep its slot). */
  concurrency: number;
  /** Per attempt, from sending the request to having read the whole answer. */
  timeoutMs: number;
  /** Further attempts after the first, on 408, 429, 5xx, network errors and timeouts; never on other 4xx. */
  maxRetries: number;
  /** Exponential backoff with full jitter; default { baseMs: 500, maxMs: 10_000 }. */
  backoff?: { baseMs: number; maxMs: number };
  /** Told before each wait-and-retry; `attempt` is the 1-based number of the attempt that just failed. */
  onRetry?(info: { attempt: number; status: number | null; waitMs: number; reason: string }): void;
}

export interface GenerationRequest {
  /** Sent in OpenAI's wire form: tool calls and results linked by id (see wireMessages). */
  messages: ChatMessage[];
  /** The functions the model may call, as OpenAI's `tools`. */
  tools?: ToolDefinition[];
  temperature?: number;
  topP?: number;
  /** Sent as `top_k`, an extension llama-server, vLLM, Ollama and LM Studio understand (OpenAI ignores or refuses it). */
  topK?: number;
  maxTokens?: number;
  seed?: number;
  /** Sent as `response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } }`. */
  jsonSchema?: object;
  /** Top-k alternatives per token: sent as `logprobs: true, top_logprobs: k` (0 = the chosen tokens' logprobs only). */
  logprobs?: number;
}

export interface GenerationResult {
  /** The answer's text; when it calls tools, its content then one `name(arguments)` line per call (for display, filters, the judge). */
  text: string;
  /** The tools the answer calls, in OpenAI's form (the server's ids kept when it gives them); null when it calls none. */
  toolCalls: ToolCall[] | null;
  /** 'stop' | 'length' | ... as the server says it, null when it does not. */
  finishReason: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  /** Per generated token: the token text, its logprob, and the top-k alternatives (when requested and returned). */
  logprobs: { token: string; logprob: number; top: { token: string; logprob: number }[] }[] | null;
  /** HTTP attempts made, 1 when the first succeeded. */
  attempts: number;
  /** From getting a concurrency slot to the answer, retries and backoff waits included (queueing excluded). */
  latencyMs: number;
}

const DEFAULT_BACKOFF = { baseMs: 500, maxMs: 10_000 };
const EXCERPT_CHARS = 300;

/** A retryable status: 408 (request timeout), 429 (rate limited) and 5xx. */
const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

/**
 * A Retry-After value in milliseconds: delay-seconds (decimals accepted) or an HTTP date (a past date is 0); null
 * when absent or unreadable. `now` is for tests.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Full jitter: a uniform wait in [0, min(maxMs, baseMs * 2^(attempt-1))]. */
export function backoffDelay(attempt: number, backoff: { baseMs: number; maxMs: number }, random = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (attempt - 1));
  return Math.round(random() * ceiling);
}

/** A FIFO counting semaphore whose waiters can give up through an AbortSignal. */
class Semaphore {
  #free: number;
  readonly #waiters: { grant: () => void }[] = [];
  constructor(size: number) {
    this.#free = size;
  }
  /** Resolves with a release function (idempotent); rejects with the signal's reason when aborted while queued. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    const release = once(() => {
      const next = this.#waiters.shift();
      if (next) next.grant();
      else this.#free++;
    });
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }
}

function once(f: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      f();
    }
  };
}

/** Why one attempt failed, and the error to throw if it was the last. */
interface Failure {
  status: number | null;
  reason: string;
  retryAfterMs: number | null;
  final(attempts: number): AppError;
}

const plural = (n: number) => `${n} attempt${n === 1 ? '' : 's'}`;

export class HttpTeacher {
  readonly #root: URL;
  readonly #model: string;
  // A true private field: the key does not show in util.inspect, JSON.stringify or an object dump of the teacher.
  readonly #apiKey: string | undefined;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #backoff: { baseMs: number; maxMs: number };
  readonly #onRetry: HttpTeacherOptions['onRetry'];
  readonly #slots: Semaphore;

  constructor(o: HttpTeacherOptions) {
    const bad = (field: string, why: string) => new AppError('invalid_input', `${field} ${why}`, field);
    const apiKey = o.apiKey === undefined || o.apiKey.trim() === '' ? undefined : o.apiKey.trim();
    // Checked first so the messages below can be masked; a key with control characters would also make fetch throw
    // an error quoting the header (key included).
    // eslint-disable-next-line no-control-regex
    if (apiKey !== undefined && /[\x00-\x1f\x7f]/.test(apiKey)) throw bad('apiKey', 'contains control characters or line breaks');
    this.#apiKey = apiKey;
    let root: URL;
    try {
      root = new URL(o.baseUrl);
    } catch {
      throw bad('baseUrl', `is not a URL: ${this.#mask(o.baseUrl).slice(0, 200)}`);
    }
    if (root.protocol !== 'http:' && root.protocol !== 'https:') throw bad('baseUrl', `must be http:// or https://, not ${root.protocol}`);
    if (root.username || root.password) {
      throw bad('baseUrl', 'must not hold credentials (user:password@); pass the key as apiKey');
    }
    root.hash = '';
    root.pathname = root.pathname.replace(/\/+$/, '');
    this.#root = root;
    if (!o.model.trim()) throw bad('model', 'is empty');
    this.#model = o.model;
    if (!Number.isInteger(o.concurrency) || o.concurrency < 1) throw bad('concurrency', `must be an integer ≥ 1, not ${o.concurrency}`);
    if (!Number.isFinite(o.timeoutMs) || o.timeoutMs <= 0) throw bad('timeoutMs', `must be a positive number, not ${o.timeoutMs}`);
    if (!Number.isInteger(o.maxRetries) || o.maxRetries < 0) throw bad('maxRetries', `must be an integer ≥ 0, not ${o.maxRetries}`);
    const backoff = o.backoff ?? DEFAULT_BACKOFF;
    if (!(backoff.baseMs >= 0) || !(backoff.maxMs >= backoff.baseMs) || !Number.isFinite(backoff.maxMs)) {
      throw bad('backoff', `needs 0 ≤ baseMs ≤ maxMs, not ${backoff.baseMs} / ${backoff.maxMs}`);
    }
    this.#timeoutMs = o.timeoutMs;
    this.#maxRetries = o.maxRetries;
    this.#backoff = { ...backoff };
    this.#onRetry = o.onRetry;
    this.#slots = new Semaphore(o.concurrency);
  }

  /** `{baseUrl}/chat/completions`, the URL generate() posts to. */
  get completionsUrl(): string {
    return this.#mask(this.#url('/chat/completions'));
  }

  /**
   * One chat completion. Waits for a concurrency slot first (the signal also cancels that wait). With `onDelta`, the
   * answer is asked for as a stream (server-sent events) and `onDelta` gets the text so far as it grows; a server that
   * answers with a whole completion instead is read as one.
   */
  async generate(req: GenerationRequest, signal?: AbortSignal, onDelta?: (text: string, chunks: number) => void): Promise<GenerationResult> {
    const url = this.#mask(this.#url('/chat/completions'));
    if (!Array.isArray(req.messages) || req.messages.length === 0) throw new AppError('invalid_input', 'messages is empty', 'messages');
    if (req.logprobs !== undefined && (!Number.isInteger(req.logprobs) || req.logprobs < 0)) {
      throw new AppError('invalid_input', `logprobs must be an integer ≥ 0, not ${req.logprobs}`, 'logprobs');
    }
    const body: Record<string, unknown> = { model: this.#model, messages: wireMessages(req.messages), stream: onDelta !== undefined };
    if (onDelta) body.stream_options = { include_usage: true };
    if (req.tools?.length) body.tools = req.tools;
    if (req.temperature !== undefined) body.temperature = req.temperature;
    if (req.topP !== undefined) body.top_p = req.topP;
    if (req.topK !== undefined) body.top_k = req.topK;
    if (req.maxTokens !== undefined) body.max_tokens = req.maxTokens;
    if (req.seed !== undefined) body.seed = req.seed;
    if (req.jsonSchema !== undefined) body.response_format = { type: 'json_schema', json_schema: { name: 'answer', schema: req.jsonSchema, strict: true } };
    if (req.logprobs !== undefined) {
      body.logprobs = true;
      body.top_logprobs = req.logprobs;
    }
    const payload = JSON.stringify(body);

    let release: () => void;
    try {
      release = await this.#slots.acquire(signal);
    } catch {
      throw this.#cancelled(url);
    }
    try {
      const start = performance.now();
      const read = onDelta ? (res: Response) => (isEventStream(res) ? this.#readStream(url, res, onDelta) : res.text()) : undefined;
      const { text, attempts } = await this.#send('/chat/completions', payload, signal, read);
      const parsed = this.#parseCompletion(url, text, req.logprobs !== undefined);
      return { ...parsed, attempts, latencyMs: Math.round(performance.now() - start) };
    } finally {
      release();
    }
  }

  /** GET `{baseUrl}/models`: checks the server answers (and accepts the key) and lists its model ids. Not queued behind generate(). */
  async models(signal?: AbortSignal): Promise<string[]> {
    const url = this.#mask(this.#url('/models'));
    const { text } = await this.#send('/models', undefined, signal);
    const json = this.#parseJson(url, text);
    const data = (json as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) throw this.#malformed(url, 'an answer without a data array of models', text);
    return data.flatMap((m: unknown) => {
      const id = (m as { id?: unknown } | null)?.id;
      return typeof id === 'string' ? [id] : [];
    });
  }

  /** The URL a request goes to (raw: a key in a query string must still be sent); #mask it for messages. */
  #url(path: '/chat/completions' | '/models'): string {
    const u = new URL(this.#root.href);
    u.pathname = `${this.#root.pathname}${path}`;
    return u.href;
  }

  /** Replaces the API key (raw and URL-encoded) with *** wherever it appears. */
  #mask(s: string): string {
    const key = this.#apiKey;
    if (key === undefined) return s;
    let out = s.split(key).join('***');
    const encoded = encodeURIComponent(key);
    if (encoded !== key) out = out.split(encoded).join('***');
    return out;
  }

  /** A body as a one-line, masked excerpt of at most 300 characters. */
  #excerpt(body: string): string {
    const line = this.#mask(body).replace(/\s+/g, ' ').trim();
    if (line === '') return '(empty body)';
    return line.length > EXCERPT_CHARS ? `${line.slice(0, EXCERPT_CHARS - 1)}…` : line;
  }

  #cancelled(url: string): AppError {
    return new AppError('cancelled', `the request to ${url} was cancelled`);
  }

  #malformed(url: string, what: string, body: string): AppError {
    return new AppError('engine_error', `${url} sent ${what}: ${this.#excerpt(body)}`);
  }

  /**
   * Sends a request (POST when there is a payload) with retries; resolves with the body of the first 2xx answer. Each attempt has its own timer
   * and its own AbortController tied to the caller's signal by a listener removed afterwards (no AbortSignal.any,
   * whose dependants pile up on a long-lived run signal), so the timer is cleared as soon as the answer is read.
   */
  async #send(
    path: '/chat/completions' | '/models',
    payload: string | undefined,
    signal?: AbortSignal,
    /** How a 2xx answer's body is read (a stream, as the completion it adds up to); default: as text. */
    read?: (res: Response) => Promise<string>,
  ): Promise<{ text: string; attempts: number }> {
    const target = this.#url(path);
    const url = this.#mask(target);
    const method = payload === undefined ? 'GET' : 'POST';
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (this.#apiKey !== undefined) headers.authorization = `Bearer ${this.#apiKey}`;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw this.#cancelled(url);
      const controller = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new DOMException(`no answer within ${this.#timeoutMs} ms`, 'TimeoutError'));
      }, this.#timeoutMs);
      const onAbort = () => controller.abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      let failure: Failure;
      try {
        const res = await fetch(target, { method, headers, body: payload, signal: controller.signal });
        const text = res.ok && read ? await read(res) : await res.text();
        if (res.ok) return { text, attempts: attempt };
        failure = this.#httpFailure(url, res.status, res.headers, text);
        if (!retryable(res.status)) throw failure.final(attempt);
      } catch (e) {
        if (isAppError(e)) throw e;
        if (signal?.aborted) throw this.#cancelled(url);
        if (timedOut) {
          const reason = `no answer within ${this.#timeoutMs} ms`;
          failure = {
            status: null,
            reason,
            retryAfterMs: null,
            final: (n) => new AppError('engine_error', `${url} gave no answer within ${this.#timeoutMs} ms, ${plural(n)} made`),
          };
        } else {
          const reason = `network error: ${this.#mask(describeNetworkError(e))}`;
          failure = {
            status: null,
            reason,
            retryAfterMs: null,
            final: (n) => new AppError('engine_error', `${url} could not be reached after ${plural(n)}: ${reason}`),
          };
        }
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      }
      if (attempt > this.#maxRetries) throw failure.final(attempt);
      const cap = this.#backoff.maxMs * 4;
      const waitMs = failure.retryAfterMs !== null ? Math.min(failure.retryAfterMs, cap) : backoffDelay(attempt, this.#backoff);
      try {
        this.#onRetry?.({ attempt, status: failure.status, waitMs, reason: failure.reason });
      } catch {
        // a listener's bug must not change what the request does
      }
      try {
        await sleep(waitMs, undefined, { signal });
      } catch {
        throw this.#cancelled(url);
      }
    }
  }

  /**
   * A streamed completion (`data: {chunk}` lines, then `data: [DONE]`), read as it arrives: the content deltas, the
   * finish reason, the log-probabilities and the usage, returned as the non-streamed completion they add up to.
   */
  async #readStream(url: string, res: Response, onDelta: (text: string, chunks: number) => void): Promise<string> {
    let content = '';
    let chunks = 0;
    let finishReason: unknown = null;
    let usage: unknown = undefined;
    let logprobs: unknown[] | null = null;
    // streamed tool calls arrive in pieces: name once, arguments as fragments, grouped by the call's index
    const calls: { id?: string; function: { name: string; arguments: string } }[] = [];
    const line = (raw: string) => {
      if (!raw.startsWith('data:')) return;
      const data = raw.slice(5).trim();
      if (data === '' || data === '[DONE]') return;
      let chunk: {
        choices?: {
          delta?: { content?: unknown; tool_calls?: { index?: unknown; id?: unknown; function?: { name?: unknown; arguments?: unknown } }[] };
          finish_reason?: unknown;
          logprobs?: { content?: unknown } | null;
        }[];
        usage?: unknown;
        error?: unknown;
      };
      try {
        chunk = JSON.parse(data) as typeof chunk;
      } catch {
        throw this.#malformed(url, 'a stream event that is not JSON', data);
      }
      if (chunk.error !== undefined) throw new AppError('engine_error', `${url} sent an error in its stream: ${this.#excerpt(JSON.stringify(chunk.error))}`);
      const choice = chunk.choices?.[0];
      if (typeof choice?.delta?.content === 'string' && choice.delta.content !== '') {
        content += choice.delta.content;
        onDelta(content, ++chunks);
      }
      if (Array.isArray(choice?.delta?.tool_calls)) {
        for (const d of choice.delta.tool_calls) {
          const i = typeof d?.index === 'number' && Number.isInteger(d.index) && d.index >= 0 && d.index < 128 ? d.index : calls.length;
          const call = (calls[i] ??= { function: { name: '', arguments: '' } });
          if (typeof d?.id === 'string' && d.id !== '') call.id = d.id;
          if (typeof d?.function?.name === 'string') call.function.name += d.function.name;
          if (typeof d?.function?.arguments === 'string') call.function.arguments += d.function.arguments;
        }
      }
      if (typeof choice?.finish_reason === 'string') finishReason = choice.finish_reason;
      if (Array.isArray(choice?.logprobs?.content)) (logprobs ??= []).push(...(choice.logprobs.content as unknown[]));
      if (chunk.usage) usage = chunk.usage;
    };
    const decoder = new TextDecoder();
    let pending = '';
    const reader = res.body?.getReader();
    for (let part = await reader?.read(); part && !part.done; part = await reader!.read()) {
      pending += decoder.decode(part.value, { stream: true });
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        line(pending.slice(0, nl).replace(/\r$/, ''));
        pending = pending.slice(nl + 1);
      }
    }
    line(pending + decoder.decode());
    const toolCalls = calls.filter(Boolean).map((c) => ({ ...(c.id ? { id: c.id } : {}), type: 'function', function: c.function }));
    const message = { role: 'assistant', content, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) };
    return JSON.stringify({
      choices: [{ index: 0, message, finish_reason: finishReason, logprobs: logprobs ? { content: logprobs } : null }],
      ...(usage ? { usage } : {}),
    });
  }

  #httpFailure(url: string, status: number, headers: Headers, body: string): Failure {
    const excerpt = this.#excerpt(body);
    const retryAfterMs = parseRetryAfterMs(headers.get('retry-after-ms')) ?? parseRetryAfter(headers.get('retry-after'));
    const final = (n: number): AppError => {
      if (status === 401 || status === 403) {
        const what = this.#apiKey === undefined ? `answered ${status}: it wants an API key and none was set` : `refused the API key (${status})`;
        return new AppError('engine_error', `${url} ${what}: ${excerpt}`);
      }
      if (!retryable(status)) return new AppError('engine_error', `${url} answered ${status} (not retried): ${excerpt}`);
      return new AppError('engine_error', `${url} answered ${status} after ${plural(n)}: ${excerpt}`);
    };
    return { status, reason: `HTTP ${status}: ${excerpt.slice(0, 120)}`, retryAfterMs, final };
  }

  #parseJson(url: string, text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      throw this.#malformed(url, 'an answer that is not JSON', text);
    }
  }

  #parseCompletion(url: string, text: string, wantLogprobs: boolean): Omit<GenerationResult, 'attempts' | 'latencyMs'> {
    const json = this.#parseJson(url, text) as Record<string, unknown> | null;
    const choices = json?.choices;
    if (!Array.isArray(choices) || choices.length === 0) throw this.#malformed(url, 'an answer without choices[0]', text);
    const choice = choices[0] as Record<string, unknown> | null;
    const finishReason = typeof choice?.finish_reason === 'string' ? choice.finish_reason : null;
    const message = choice?.message as Record<string, unknown> | null | undefined;
    let content = message?.content;
    // an answer that calls tools: the calls kept as they came, and as text, one `name(arguments)` per line (after any text it wrote)
    const toolCalls = Array.isArray(message?.tool_calls) ? readToolCalls(message.tool_calls) : [];
    if (toolCalls.length) content = [...(typeof content === 'string' && content ? [content] : []), ...toolCalls.map(toolCallText)].join('\n');
    if (typeof content !== 'string') {
      const got =
        message === undefined || message === null
          ? 'no choices[0].message'
          : `choices[0].message.content ${content === undefined ? 'missing' : `= ${JSON.stringify(content)?.slice(0, 40)}`}`;
      const why = finishReason === null ? '' : `, finish_reason '${finishReason}'`;
      throw this.#malformed(url, `an answer without choices[0].message.content (${got}${why})`, text);
    }
    const usage = json?.usage as Record<string, unknown> | null | undefined;
    const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    return {
      text: content,
      toolCalls: toolCalls.length ? toolCalls : null,
      finishReason,
      promptTokens: count(usage?.prompt_tokens),
      completionTokens: count(usage?.completion_tokens),
      logprobs: wantLogprobs ? this.#parseLogprobs(url, choice?.logprobs, text) : null,
    };
  }

  /** OpenAI's `choices[0].logprobs.content[i] = { token, logprob, top_logprobs: [{ token, logprob }] }`; null when absent. */
  #parseLogprobs(url: string, raw: unknown, text: string): GenerationResult['logprobs'] {
    const content = (raw as { content?: unknown } | null | undefined)?.content;
    if (content === undefined || content === null) return null;
    if (!Array.isArray(content)) throw this.#malformed(url, 'choices[0].logprobs.content that is not an array', text);
    const entry = (e: unknown, where: string) => {
      const o = e as { token?: unknown; logprob?: unknown } | null;
      if (typeof o?.token !== 'string' || typeof o.logprob !== 'number')
        throw this.#malformed(url, `${where} without a string token and a numeric logprob`, text);
      return { token: o.token, logprob: o.logprob };
    };
    return content.map((e: unknown, i) => {
      const where = `choices[0].logprobs.content[${i}]`;
      const top = (e as { top_logprobs?: unknown } | null)?.top_logprobs;
      if (top !== undefined && top !== null && !Array.isArray(top)) throw this.#malformed(url, `${where}.top_logprobs that is not an array`, text);
      return { ...entry(e, where), top: (top ?? []).map((t: unknown, j: number) => entry(t, `${where}.top_logprobs[${j}]`)) };
    });
  }
}

/** A completion's `tool_calls`: those with a function name, arguments as JSON text (an object given is stringified), ids kept. */
function readToolCalls(calls: unknown[]): ToolCall[] {
  return calls.flatMap((raw): ToolCall[] => {
    const c = raw as { id?: unknown; function?: { name?: unknown; arguments?: unknown } } | null;
    if (typeof c?.function?.name !== 'string' || c.function.name === '') return [];
    const args = c.function.arguments;
    return [
      {
        ...(typeof c.id === 'string' && c.id !== '' ? { id: c.id } : {}),
        type: 'function',
        function: { name: c.function.name, arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}) },
      },
    ];
  });
}

/** A body of server-sent events (a streamed completion). */
const isEventStream = (res: Response) => (res.headers.get('content-type') ?? '').includes('text/event-stream');

/** OpenAI's non-standard `retry-after-ms` header. */
function parseRetryAfterMs(value: string | null): number | null {
  if (value === null || !/^\s*\d+(\.\d+)?\s*$/.test(value)) return null;
  return Math.round(Number(value));
}

/** fetch's "fetch failed" TypeError with what is useful in its cause (ECONNREFUSED 127.0.0.1:9, socket closed...). */
function describeNetworkError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause as { code?: unknown; message?: unknown } | undefined;
  const parts = [typeof cause?.code === 'string' ? cause.code : '', typeof cause?.message === 'string' ? cause.message : ''].filter(Boolean);
  return parts.length ? parts.join(' ') : e.message;
}
