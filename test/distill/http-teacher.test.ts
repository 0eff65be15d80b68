// Over 400 lines for a reason: every case drives the one HttpTeacher against the same scriptable local server (whole
// and streamed answers, retries, timeouts, cancel, key redaction, tool calls); split, each file would rebuild it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpTeacher, backoffDelay, parseRetryAfter, type HttpTeacherOptions } from '../../src-main/core/distill/http-teacher.js';
import { AppError } from '../../src-shared/errors.js';

// A real loopback server of the test's own (node:http on 127.0.0.1, port 0) answering like llama-server / OpenAI.

interface Hit {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
type Handler = (hit: Hit, res: http.ServerResponse, n: number) => void;

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

async function serve(handler: Handler): Promise<{ base: string; hits: Hit[]; inFlight: { now: number; max: number } }> {
  const hits: Hit[] = [];
  const inFlight = { now: 0, max: 0 };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const hit = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      hits.push(hit);
      inFlight.now++;
      inFlight.max = Math.max(inFlight.max, inFlight.now);
      let counted = true;
      const done = () => {
        if (counted) inFlight.now--;
        counted = false;
      };
      res.on('finish', done);
      res.on('close', done);
      handler(hit, res, hits.length);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}/v1`, hits, inFlight };
}

const json = (res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof value === 'string' ? value : JSON.stringify(value));
};

const completion = (content: string, choiceExtra: Record<string, unknown> = {}) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'big-teacher',
  choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null, ...choiceExtra }],
  usage: { prompt_tokens: 21, completion_tokens: 3, total_tokens: 24 },
});

const KEY = 'sk-test-SECRET-4242';
const USER = [{ role: 'user' as const, content: 'What is 2+2?' }];

const teacher = (base: string, o: Partial<HttpTeacherOptions> = {}) =>
  new HttpTeacher({ baseUrl: base, model: 'big-teacher', concurrency: 4, timeoutMs: 2_000, maxRetries: 2, backoff: { baseMs: 5, maxMs: 20 }, ...o });

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected a rejection');
}

describe('HttpTeacher against an OpenAI-compatible server', () => {
  it('posts an OpenAI chat-completions request and reads content, usage and logprobs', async () => {
    const { base, hits } = await serve((_hit, res) =>
      json(
        res,
        200,
        completion('4', {
          finish_reason: 'length',
          logprobs: {
            content: [
              {
                token: '4',
                logprob: -0.01,
                bytes: [52],
                top_logprobs: [
                  { token: '4', logprob: -0.01, bytes: [52] },
                  { token: 'four', logprob: -4.7, bytes: null },
                ],
              },
              { token: '.', logprob: -0.5, top_logprobs: [{ token: '.', logprob: -0.5 }] },
            ],
          },
        }),
      ),
    );
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    const t = teacher(`${base}/`, { apiKey: KEY });
    const r = await t.generate({
      messages: [{ role: 'system', content: 'Be brief.' }, ...USER],
      temperature: 0.3,
      topP: 0.9,
      topK: 40,
      maxTokens: 64,
      seed: 7,
      jsonSchema: schema,
      logprobs: 2,
    });
    expect(r).toMatchObject({ text: '4', finishReason: 'length', promptTokens: 21, completionTokens: 3, attempts: 1 });
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    expect(r.logprobs).toEqual([
      {
        token: '4',
        logprob: -0.01,
        top: [
          { token: '4', logprob: -0.01 },
          { token: 'four', logprob: -4.7 },
        ],
      },
      { token: '.', logprob: -0.5, top: [{ token: '.', logprob: -0.5 }] },
    ]);

    expect(hits).toHaveLength(1);
    const [hit] = hits;
    expect(hit!.method).toBe('POST');
    expect(hit!.path).toBe('/v1/chat/completions'); // the trailing slash of the base URL is dropped
    expect(hit!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(hit!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(hit!.body)).toEqual({
      model: 'big-teacher',
      messages: [{ role: 'system', content: 'Be brief.' }, ...USER],
      stream: false,
      temperature: 0.3,
      top_p: 0.9,
      top_k: 40,
      max_tokens: 64,
      seed: 7,
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } },
      logprobs: true,
      top_logprobs: 2,
    });
    expect(t.completionsUrl).toBe(`${base}/chat/completions`);
  });

  it('sends only what was asked: no Authorization without a key, no unset sampling fields; logprobs null when not asked', async () => {
    const { base, hits } = await serve((_hit, res) => json(res, 200, completion('hi', { finish_reason: null })));
    const r = await teacher(base).generate({ messages: USER });
    expect(r).toMatchObject({ text: 'hi', finishReason: null, logprobs: null, toolCalls: null, attempts: 1 });
    expect(hits[0]!.headers.authorization).toBeUndefined();
    expect(JSON.parse(hits[0]!.body)).toEqual({ model: 'big-teacher', messages: USER, stream: false });
  });

  it('models() GETs {baseUrl}/models with the key and lists the ids', async () => {
    const { base, hits } = await serve((_hit, res) =>
      json(res, 200, { object: 'list', data: [{ id: 'big-teacher', object: 'model', owned_by: 'llamacpp' }, { id: 'other' }] }),
    );
    expect(await teacher(base, { apiKey: KEY }).models()).toEqual(['big-teacher', 'other']);
    expect(hits[0]).toMatchObject({ method: 'GET', path: '/v1/models', headers: { authorization: `Bearer ${KEY}` } });
  });

  it('retries a 500 and succeeds on the second attempt', async () => {
    const { base, hits } = await serve((_hit, res, n) => (n === 1 ? json(res, 500, { error: { message: 'slot busy' } }) : json(res, 200, completion('ok'))));
    const retries: { attempt: number; status: number | null; waitMs: number; reason: string }[] = [];
    const r = await teacher(base, { onRetry: (i) => retries.push(i) }).generate({ messages: USER });
    expect(r).toMatchObject({ text: 'ok', attempts: 2 });
    expect(hits).toHaveLength(2);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ attempt: 1, status: 500 });
    expect(retries[0]!.reason).toContain('slot busy');
    expect(retries[0]!.waitMs).toBeGreaterThanOrEqual(0);
    expect(retries[0]!.waitMs).toBeLessThanOrEqual(5); // full jitter under baseMs * 2^0
  });

  it('honours Retry-After on a 429', async () => {
    const { base, hits } = await serve((_hit, res, n) =>
      n === 1 ? json(res, 429, { error: { message: 'rate limited' } }, { 'retry-after': '1' }) : json(res, 200, completion('later')),
    );
    const waits: number[] = [];
    const start = Date.now();
    // maxMs 500: Retry-After is capped at maxMs * 4 = 2 s, so the 1 s is honoured whole (the jittered backoff would be ≤ 5 ms)
    const r = await teacher(base, { backoff: { baseMs: 5, maxMs: 500 }, onRetry: (i) => waits.push(i.waitMs) }).generate({ messages: USER });
    expect(r).toMatchObject({ text: 'later', attempts: 2 });
    expect(waits).toEqual([1000]);
    expect(hits).toHaveLength(2);
    expect(Date.now() - start).toBeGreaterThanOrEqual(950);
  });

  it('gives up after maxRetries on a persistent 5xx, naming the URL, status, attempts and a short excerpt of the body', async () => {
    const long = `{"error":{"message":"${'x'.repeat(2000)}"}}`;
    const { base, hits } = await serve((_hit, res) => json(res, 503, long));
    const e = await rejection(teacher(base, { maxRetries: 2 }).generate({ messages: USER }));
    expect(e.code).toBe('engine_error');
    expect(hits).toHaveLength(3);
    const prefix = `${base}/chat/completions answered 503 after 3 attempts: `;
    expect(e.message.startsWith(prefix)).toBe(true);
    expect(e.message.slice(prefix.length).length).toBeLessThanOrEqual(300);
    expect(e.message.slice(prefix.length)).toMatch(/^\{"error":\{"message":"xxx/);
  });

  it('aborts an attempt that hangs beyond timeoutMs, retries it, then fails clearly', async () => {
    const { base, hits } = await serve(() => {
      /* never answers */
    });
    const statuses: (number | null)[] = [];
    const start = Date.now();
    const e = await rejection(teacher(base, { timeoutMs: 150, maxRetries: 2, onRetry: (i) => statuses.push(i.status) }).generate({ messages: USER }));
    expect(e.code).toBe('engine_error');
    expect(e.message).toBe(`${base}/chat/completions gave no answer within 150 ms, 3 attempts made`);
    expect(hits).toHaveLength(3);
    expect(statuses).toEqual([null, null]);
    expect(Date.now() - start).toBeGreaterThanOrEqual(3 * 150 - 20); // each attempt waited its timeout out
  });

  it('retries network errors (connection refused) and then says the server could not be reached', async () => {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    let retries = 0;
    const e = await rejection(teacher(`http://127.0.0.1:${port}/v1`, { maxRetries: 1, onRetry: () => retries++ }).generate({ messages: USER }));
    expect(e.code).toBe('engine_error');
    expect(e.message).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${port}/v1/chat/completions could not be reached after 2 attempts: network error: ECONNREFUSED`),
    );
    expect(retries).toBe(1);
  });

  it('reports a body that is not JSON, without retrying', async () => {
    const { base, hits } = await serve((_hit, res) => json(res, 200, '{"choices": [ {"message": '));
    const e = await rejection(teacher(base).generate({ messages: USER }));
    expect(e.code).toBe('engine_error');
    expect(e.message).toBe(`${base}/chat/completions sent an answer that is not JSON: {"choices": [ {"message":`);
    expect(hits).toHaveLength(1);
  });

  it('names what is missing from a JSON answer', async () => {
    const answers: unknown[] = [
      { error: { message: 'model not loaded' } },
      { choices: [] },
      { choices: [{ message: { role: 'assistant', content: null }, finish_reason: 'length' }] },
      { choices: [{ finish_reason: 'stop' }] },
    ];
    const { base } = await serve((_hit, res, n) => json(res, 200, answers[n - 1]));
    const t = teacher(base);
    const messages = [];
    for (let i = 0; i < answers.length; i++) messages.push((await rejection(t.generate({ messages: USER }))).message);
    expect(messages[0]).toBe(`${base}/chat/completions sent an answer without choices[0]: {"error":{"message":"model not loaded"}}`);
    expect(messages[1]).toContain('an answer without choices[0]:');
    expect(messages[2]).toContain("an answer without choices[0].message.content (choices[0].message.content = null, finish_reason 'length')");
    expect(messages[3]).toContain("an answer without choices[0].message.content (no choices[0].message, finish_reason 'stop')");
  });

  it('does not retry a 400', async () => {
    const { base, hits } = await serve((_hit, res) => json(res, 400, { error: { message: "'messages' must not be empty", type: 'invalid_request_error' } }));
    let retries = 0;
    const e = await rejection(teacher(base, { onRetry: () => retries++ }).generate({ messages: USER }));
    expect(e.code).toBe('engine_error');
    expect(e.message).toBe(
      `${base}/chat/completions answered 400 (not retried): {"error":{"message":"'messages' must not be empty","type":"invalid_request_error"}}`,
    );
    expect(hits).toHaveLength(1);
    expect(retries).toBe(0);
  });

  it('says a 401 refused the key, without ever showing the key (even when the server echoes it)', async () => {
    const { base, hits } = await serve((hit, res) =>
      json(res, 401, { error: { message: `Incorrect API key provided: ${String(hit.headers.authorization).slice(7)}`, code: 'invalid_api_key' } }),
    );
    const retryReasons: string[] = [];
    const t = teacher(base, { apiKey: KEY, onRetry: (i) => retryReasons.push(i.reason) });
    const e = await rejection(t.generate({ messages: USER }));
    expect(e.code).toBe('engine_error');
    expect(e.message).toBe(
      `${base}/chat/completions refused the API key (401): {"error":{"message":"Incorrect API key provided: ***","code":"invalid_api_key"}}`,
    );
    expect(hits).toHaveLength(1);
    expect(retryReasons).toEqual([]);
    for (const shown of [e.message, String(e.stack), inspect(e, { depth: 10 }), JSON.stringify(e), JSON.stringify(e.toShape()), inspect(t, { depth: 10 })]) {
      expect(shown).not.toContain(KEY);
      expect(shown).not.toContain('SECRET');
    }
    const m = await rejection(t.models());
    expect(m.message).toContain(`${base}/models refused the API key (401)`);
    expect(m.message).not.toContain(KEY);
  });

  it('says a 403 without a key that the server wants one', async () => {
    const { base } = await serve((_hit, res) => json(res, 403, { error: 'forbidden' }));
    const e = await rejection(teacher(base).generate({ messages: USER }));
    expect(e.message).toBe(`${base}/chat/completions answered 403: it wants an API key and none was set: {"error":"forbidden"}`);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    const { base, hits, inFlight } = await serve((_hit, res) => setTimeout(() => json(res, 200, completion('done')), 80));
    const t = teacher(base, { concurrency: 2 });
    const results = await Promise.all(Array.from({ length: 6 }, () => t.generate({ messages: USER })));
    expect(results.map((r) => r.text)).toEqual(Array(6).fill('done'));
    expect(hits).toHaveLength(6);
    expect(inFlight.max).toBe(2);
  });

  it("cancels with 'cancelled' when the caller's signal aborts a request in flight, dropping the connection", async () => {
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    let dropped!: () => void;
    const closed = new Promise<void>((resolve) => (dropped = resolve));
    const { base } = await serve((_hit, res) => {
      res.on('close', dropped); // never answered: only the client's abort closes it
      arrived();
    });
    const ac = new AbortController();
    // the teacher's own timeout (60 s) is far away: a rejection now can only come from the abort
    const p = teacher(base, { timeoutMs: 60_000 }).generate({ messages: USER }, ac.signal);
    await reached;
    ac.abort();
    const e = await rejection(p);
    expect(e.code).toBe('cancelled');
    expect(e.message).toBe(`the request to ${base}/chat/completions was cancelled`);
    await closed; // the server saw the connection dropped, not left to finish
  });

  it("cancels during a backoff wait and while queued for a slot, and the queued call's slot is not lost", async () => {
    const { base, hits } = await serve((hit, res) =>
      hit.body.includes('slow') ? setTimeout(() => json(res, 200, completion('slow')), 300) : json(res, 503, 'down', { 'retry-after': '3600' }),
    );
    // Backoff: Retry-After one hour (under the cap of maxMs * 4); only the abort can end that wait within the test.
    const ac = new AbortController();
    const waits: number[] = [];
    const t = teacher(base, {
      concurrency: 1,
      maxRetries: 3,
      backoff: { baseMs: 5, maxMs: 1_000_000 },
      onRetry: (i) => {
        waits.push(i.waitMs);
        ac.abort();
      },
    });
    expect((await rejection(t.generate({ messages: USER }, ac.signal))).code).toBe('cancelled');
    expect(waits).toEqual([3_600_000]);
    expect(hits).toHaveLength(1);

    // Queued behind a slow call on the single slot
    const slow = t.generate({ messages: [{ role: 'user', content: 'slow' }] });
    const queued = new AbortController();
    const waiting = t.generate({ messages: [{ role: 'user', content: 'slow' }] }, queued.signal);
    queued.abort();
    expect((await rejection(waiting)).code).toBe('cancelled');
    expect((await slow).text).toBe('slow');
    expect((await t.generate({ messages: [{ role: 'user', content: 'slow' }] })).text).toBe('slow');
    expect(hits).toHaveLength(3); // the cancelled call never reached the server

    // Already aborted: nothing is sent
    expect((await rejection(t.generate({ messages: USER }, AbortSignal.abort()))).code).toBe('cancelled');
    expect(hits).toHaveLength(3);
  });
});

describe('HttpTeacher options and helpers', () => {
  it('refuses bad options, never echoing a credential', () => {
    const make = (o: Partial<HttpTeacherOptions>) => () => teacher('http://127.0.0.1:1/v1', o);
    expect(make({ baseUrl: 'http://user:hunter2@127.0.0.1:1/v1' })).toThrow(/must not hold credentials/);
    try {
      make({ baseUrl: 'http://user:hunter2@127.0.0.1:1/v1' })();
    } catch (e) {
      expect((e as AppError).message).not.toContain('hunter2');
      expect((e as AppError).code).toBe('invalid_input');
    }
    expect(make({ baseUrl: 'ftp://host/v1' })).toThrow(/http:\/\/ or https:\/\//);
    expect(make({ baseUrl: `not a url ${KEY}`, apiKey: KEY })).toThrow(/is not a URL: not a url \*\*\*/);
    expect(make({ concurrency: 0 })).toThrow(/concurrency/);
    expect(make({ maxRetries: -1 })).toThrow(/maxRetries/);
    expect(make({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(make({ apiKey: 'sk-a\nb' })).toThrow(/apiKey contains control characters/);
    expect(make({ backoff: { baseMs: 100, maxMs: 10 } })).toThrow(/backoff/);
  });

  it('keeps a query string of the base URL and masks the key wherever it appears in the URL', async () => {
    const { base, hits } = await serve((_hit, res) => json(res, 500, 'no'));
    const e = await rejection(teacher(`${base}?key=${KEY}`, { apiKey: KEY, maxRetries: 0 }).generate({ messages: USER }));
    expect(hits[0]!.path).toBe(`/v1/chat/completions?key=${KEY}`); // the real key is still sent
    expect(e.message).toBe(`${base}/chat/completions?key=*** answered 500 after 1 attempt: no`);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('1', now)).toBe(1000);
    expect(parseRetryAfter(' 2.5 ', now)).toBe(2500);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });

  it('backs off exponentially with full jitter, capped at maxMs', () => {
    const b = { baseMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, b, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(3, b, () => 0)).toBe(0);
    expect(backoffDelay(2, b, () => 0.5)).toBe(100);
  });
});

describe('a streamed answer that calls tools', () => {
  it('puts the tool-call fragments of the stream back together, as a whole completion would give them', async () => {
    const events = [
      {
        choices: [
          {
            index: 0,
            delta: {
              role: 'assistant',
              content: null,
              tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }],
            },
          },
        ],
      },
      { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city": ' } }] } }] },
      { choices: [{ index: 0, delta: { tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } }] } }] },
      { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] } }] },
      { choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }], usage: { prompt_tokens: 5, completion_tokens: 9 } },
    ];
    const { base, hits } = await serve((_hit, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const e of events) res.write(`data: ${JSON.stringify(e)}\n\n`);
      res.end('data: [DONE]\n\n');
    });
    const deltas: number[] = [];
    const r = await teacher(base).generate({ messages: USER }, undefined, (_text, chunks) => deltas.push(chunks));
    expect(JSON.parse(hits[0]!.body)).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(r).toMatchObject({ text: 'get_weather({"city": "Oslo"})\nget_time({})', finishReason: 'tool_calls', completionTokens: 9 });
    expect(r.toolCalls).toEqual([
      { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Oslo"}' } },
      { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
    expect(deltas).toEqual([]); // no text content was streamed, only calls
  });

  it("returns a whole answer's calls structured too: text besides them kept first, arguments given as an object as JSON text, no id invented", async () => {
    const message = {
      role: 'assistant',
      content: 'Let me look.',
      tool_calls: [
        { type: 'function', function: { name: 'get_weather', arguments: { city: 'Oslo' } } },
        { id: 'x', type: 'function', function: { arguments: '{}' } }, // no name: not a call
      ],
    };
    const { base } = await serve((_hit, res) => json(res, 200, { choices: [{ index: 0, message, finish_reason: 'tool_calls' }] }));
    const r = await teacher(base).generate({ messages: USER });
    expect(r.text).toBe('Let me look.\nget_weather({"city":"Oslo"})');
    expect(r.toolCalls).toEqual([{ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }]);
  });
});
