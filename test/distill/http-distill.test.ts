import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src-main/core/store/db.js';
import { DistillStore } from '../../src-main/core/distill/store.js';
import { rejection } from '../../src-main/core/distill/prompt.js';
import type { ChatMessage, ToolCall } from '../../src-shared/domain/datasets.js';
import { makeWorkspace, tempDir, type Workspace } from '../helpers/workspace.js';

const KEY = 'sk-test-distill-0123456789abcdef';
let server: http.Server;
let url: string;
interface SeenBody {
  model: string;
  messages: { role: string; content: string; tool_calls?: unknown[]; tool_call_id?: string }[];
  tools?: { type: string; function: { name: string } }[];
  seed?: number;
  max_tokens?: number;
  logprobs?: boolean;
  top_logprobs?: number;
}
const seen: { auth: string | undefined; body: SeenBody }[] = [];

/** The log-probabilities the test server reports for an answer: one entry per character, top-k alternatives. */
const serverLogprobs = (answer: string, k: number) =>
  [...answer].map((ch, i) => ({
    token: ch,
    logprob: -0.01 * (i + 1),
    top_logprobs: Array.from({ length: k }, (_, j) => ({ token: j === 0 ? ch : `${ch}${j}`, logprob: -0.01 * (i + 1) - j })),
  }));
let failNext = 1; // the first request answers 500: the run must retry it

beforeAll(async () => {
  // An OpenAI-compatible server of the test's own: answers each prompt with its reverse, like a (silly) teacher.
  server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      if (req.url !== '/v1/chat/completions') return void res.writeHead(404).end();
      const body = JSON.parse(raw) as (typeof seen)[number]['body'];
      seen.push({ auth: req.headers.authorization, body });
      if (failNext-- > 0) return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"warming up"}');
      const prompt = body.messages.at(-1)!.content;
      const answer = [...prompt].reverse().join('');
      res.writeHead(200, { 'content-type': 'application/json' });
      if (body.tools?.length && /Convert/.test(prompt)) {
        // a teacher that calls the tool it was offered: no content, the call in tool_calls
        const call = { id: 'call_srv', type: 'function', function: { name: body.tools[0]!.function.name, arguments: '{"amount": 1000}' } };
        return void res.end(
          JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [call] }, finish_reason: 'tool_calls' }] }),
        );
      }
      const logprobs = body.logprobs ? { content: serverLogprobs(answer, body.top_logprobs ?? 0) } : null;
      res.end(
        JSON.stringify({
          choices: [{ index: 0, message: { role: 'assistant', content: answer }, logprobs, finish_reason: 'stop' }],
          usage: { prompt_tokens: 10, completion_tokens: 7 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  process.env.DISTILL_TEST_KEY = KEY;
});
afterAll(async () => {
  delete process.env.DISTILL_TEST_KEY;
  await new Promise((r) => server.close(r));
});

describe('distillation with an OpenAI-compatible teacher', () => {
  it('sends every prompt with the key from the environment, retries a 500, and never stores the key', async () => {
    const ws: Workspace = makeWorkspace();
    try {
      const file = path.join(tempDir(), 'p.jsonl');
      fs.writeFileSync(file, ['alpha', 'beta', 'gamma', 'delta', 'epsilon'].map((w) => JSON.stringify({ prompt: `say ${w}` })).join('\n'));
      await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name: 'p' })).runId);
      const { runId } = await ws.client.call('distill.start', {
        dataset: 'p',
        teacher: { baseUrl: url, model: 'big-teacher', apiKeyEnv: 'DISTILL_TEST_KEY', maxRetries: 2 },
        generation: { maxTokens: 32, seed: 7 },
        parallel: 2,
        outName: 'reversed',
      });
      const end = await ws.app.runner.waitFor(runId);
      expect(end.error).toBeNull();
      const answers = await ws.client.call('distill.answers', { runId });
      expect(answers.rows.map((r) => r.answer)).toEqual(['ahpla yas', 'ateb yas', 'ammag yas', 'atled yas', 'nolispe yas']);
      expect(answers.rows[0]).toMatchObject({ promptTokens: 10, completionTokens: 7, finishReason: 'stop' });
      expect(seen).toHaveLength(6); // 5 prompts + the retried one
      for (const s of seen) expect(s).toMatchObject({ auth: `Bearer ${KEY}`, body: { model: 'big-teacher', max_tokens: 32 } });
      expect(new Set(seen.map((s) => s.body.seed)).size).toBe(5); // a seed per answer, the same on retry
      const out = await ws.client.call('datasets.examples', { name: 'reversed', offset: 0, limit: 10 });
      expect(out.rows[4]!.messages).toEqual([
        { role: 'user', content: 'say epsilon' },
        { role: 'assistant', content: 'nolispe yas' },
      ]);
      const run = await ws.client.call('runs.get', { id: runId });
      expect(run.logs.map((l) => l.message)).toContainEqual(expect.stringMatching(/retrying a request/));
      expect(run.lineage).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'endpoint', label: `big-teacher at ${new URL(url).host}` })]));
      // the key is nowhere in the database or its WAL
      ws.app.db.pragma('wal_checkpoint(TRUNCATE)');
      for (const f of fs.readdirSync(ws.dir).filter((f) => /\.db/.test(f))) expect(fs.readFileSync(path.join(ws.dir, f)).includes(KEY)).toBe(false);
      expect(JSON.stringify(run)).not.toContain(KEY);

      await expect(
        ws.client.call('distill.start', { dataset: 'p', teacher: { baseUrl: url, model: 'm', apiKeyEnv: 'NOT_SET_ANYWHERE_42' }, outName: 'x' }),
      ).rejects.toThrow(/NOT_SET_ANYWHERE_42 .* is not set/);
      await expect(ws.client.call('distill.start', { dataset: 'p', teacher: { baseUrl: 'ftp://x/v1', model: 'm' }, outName: 'x' })).rejects.toMatchObject({
        code: 'invalid_input',
      });
    } finally {
      await ws.close();
    }
  });

  it('keeps the soft labels a server returns (top-k log-probabilities per token), compactly, and reads them back exactly', async () => {
    const ws: Workspace = makeWorkspace();
    try {
      const file = path.join(tempDir(), 'p.jsonl');
      fs.writeFileSync(file, ['one', 'two'].map((w) => JSON.stringify({ prompt: `say ${w}` })).join('\n'));
      await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name: 'p' })).runId);
      const { runId } = await ws.client.call('distill.start', { dataset: 'p', teacher: { baseUrl: url, model: 'big-teacher' }, logprobs: 3, outName: 'soft' });
      expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
      expect(seen.at(-1)!.body).toMatchObject({ logprobs: true, top_logprobs: 3 });
      const soft = await ws.client.call('distill.logprobs', { runId, position: 2 });
      const expected = serverLogprobs('owt yas', 3);
      expect(soft!.k).toBe(3);
      expect(soft!.tokens).toEqual(expected.map((t) => ({ token: t.token, logprob: t.logprob, top: t.top_logprobs })));
      const stored = ws.app.db.prepare(`SELECT length(data) FROM distill_logprobs WHERE run_id = ? AND position = 2`).pluck().get(runId) as number;
      expect(stored).toBeLessThan(JSON.stringify(expected).length);
    } finally {
      await ws.close();
    }
  });

  it('sends each example its tools and tool turns in OpenAI form; an answer that calls a tool is kept as its call (tool_calls in the output and its export); the output keeps the tools', async () => {
    const ws: Workspace = makeWorkspace();
    try {
      const samples = path.join(path.dirname(fileURLToPath(import.meta.url)), '../datasets/samples');
      await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: path.join(samples, 'sharegpt-tools.jsonl'), name: 'tools' })).runId);
      const { runId } = await ws.client.call('distill.start', {
        dataset: 'tools',
        teacher: { baseUrl: url, model: 'tool-teacher' },
        outName: 'tools-distilled',
      });
      expect((await ws.app.runner.waitFor(runId)).error).toBeNull();
      const sent = seen.filter((s) => s.body.model === 'tool-teacher').map((s) => s.body);
      expect(sent).toHaveLength(3);
      const area = sent.find((b) => b.messages.at(-1)!.content.startsWith('What about a circle'))!;
      expect(area.tools!.map((t) => t.function.name)).toEqual(['calculate_area', 'calculate_discount']);
      expect(area.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'user']);
      expect(area.messages[1]).toMatchObject({ content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'calculate_area' } }] });
      expect(area.messages[2]).toEqual({ role: 'tool', content: '{"area": 15}', tool_call_id: 'call_1' });
      expect(sent.find((b) => b.messages.at(-1)!.content.startsWith('Can you explain'))!.tools).toBeUndefined(); // "tools": "[]"
      const answers = await ws.client.call('distill.answers', { runId });
      expect(answers.rows.find((r) => r.position === 3)).toMatchObject({ answer: 'convert_currency({"amount": 1000})', rejected: null });
      const out = await ws.client.call('datasets.examples', { name: 'tools-distilled', offset: 0, limit: 10 });
      expect(out.rows.map((r) => r.tools?.map((t) => t.function.name) ?? null)).toEqual([['calculate_area', 'calculate_discount'], null, ['convert_currency']]);
      // the call is the assistant message's tool_calls (the server's id kept), as an imported OpenAI tool-calling turn is
      const call = { id: 'call_srv', type: 'function', function: { name: 'convert_currency', arguments: '{"amount": 1000}' } };
      expect(out.rows[2]!.messages.at(-1)).toEqual({ role: 'assistant', content: '', tool_calls: [call] });
      expect(out.rows[2]!.reference).toBe('convert_currency({"amount": 1000})');
      expect(out.rows[0]!.messages.at(-1)).toEqual({ role: 'assistant', content: expect.any(String) as string }); // a text answer stays text
      // and an OpenAI export writes it back as tool_calls
      const file = path.join(tempDir(), 'tools-distilled.jsonl');
      await ws.app.runner.waitFor((await ws.client.call('datasets.export', { name: 'tools-distilled', format: 'openai', out: file })).runId);
      const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
      const records = lines.map((l) => JSON.parse(l) as { messages: Record<string, unknown>[] });
      expect(records[2]!.messages.at(-1)).toEqual({ role: 'assistant', tool_calls: [call] });
      expect(records[0]!.messages.at(-1)).not.toHaveProperty('tool_calls');
    } finally {
      await ws.close();
    }
  });

  it("streams a server's answer as it is generated (server-sent events), and keeps the whole of it", async () => {
    // A server that streams each answer a character per event; the first answer stops half-way until the test has
    // seen its first half arrive as a distill.stream event, so the partial text provably came before the answer.
    let seenHalf!: () => void;
    const half = new Promise<void>((r) => (seenHalf = r));
    const bodies: { stream?: boolean; stream_options?: unknown; logprobs?: boolean }[] = [];
    const sse = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(raw) as { stream?: boolean; stream_options?: unknown; logprobs?: boolean; messages: { content: string }[] };
        bodies.push(body);
        const answer = [...body.messages.at(-1)!.content].reverse().join('');
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const send = (chunk: unknown) => res.write(`data: ${JSON.stringify(chunk)}\n\n`);
        const soft = (ch: string) =>
          body.logprobs ? { logprobs: { content: [{ token: ch, logprob: -0.5, top_logprobs: [{ token: ch, logprob: -0.5 }] }] } } : {};
        const chars = [...answer];
        const cut = bodies.length === 1 ? 4 : chars.length;
        for (const ch of chars.slice(0, cut)) send({ choices: [{ index: 0, delta: { content: ch }, finish_reason: null, ...soft(ch) }] });
        void (bodies.length === 1 ? half : Promise.resolve()).then(() => {
          for (const ch of chars.slice(cut)) send({ choices: [{ index: 0, delta: { content: ch }, finish_reason: null, ...soft(ch) }] });
          send({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
          send({ choices: [], usage: { prompt_tokens: 5, completion_tokens: chars.length } });
          res.end('data: [DONE]\n\n');
        });
      });
    });
    await new Promise<void>((r) => sse.listen(0, '127.0.0.1', r));
    const ws: Workspace = makeWorkspace();
    try {
      const file = path.join(tempDir(), 'p.jsonl');
      fs.writeFileSync(file, ['streaming', 'events'].map((w) => JSON.stringify({ prompt: `say ${w}` })).join('\n'));
      await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name: 'p' })).runId);
      const partials: string[] = [];
      const off = ws.client.on('distill.stream', (e) => {
        for (const a of e.inFlight) partials.push(a.text);
        if (e.inFlight.some((a) => a.position === 1 && a.text === 'gnim')) seenHalf();
      });
      const { runId } = await ws.client.call('distill.start', {
        dataset: 'p',
        teacher: { baseUrl: `http://127.0.0.1:${(sse.address() as AddressInfo).port}/v1`, model: 'streamer' },
        parallel: 1,
        outName: 'streamed',
      });
      expect(await ws.app.runner.waitFor(runId)).toMatchObject({ status: 'succeeded', error: null });
      off();
      expect(bodies[0]).toMatchObject({ stream: true, stream_options: { include_usage: true } });
      expect(partials).toContain('gnim'); // the first four characters, before the rest was sent
      const answers = await ws.client.call('distill.answers', { runId });
      expect(answers.rows.map((r) => [r.answer, r.finishReason, r.completionTokens])).toEqual([
        ['gnimaerts yas', 'stop', 13],
        ['stneve yas', 'stop', 10],
      ]);
      // soft labels arrive a token per event too
      const again = await ws.client.call('distill.start', {
        dataset: 'p',
        teacher: { baseUrl: `http://127.0.0.1:${(sse.address() as AddressInfo).port}/v1`, model: 'streamer' },
        logprobs: 1,
        outName: 'streamed-soft',
      });
      expect((await ws.app.runner.waitFor(again.runId)).status).toBe('succeeded');
      const labels = await ws.client.call('distill.logprobs', { runId: again.runId, position: 2 });
      expect(labels!.tokens.map((t) => t.token).join('')).toBe('stneve yas');
      expect(labels!.tokens[0]).toEqual({ token: 's', logprob: -0.5, top: [{ token: 's', logprob: -0.5 }] });
    } finally {
      await ws.close();
      await new Promise((r) => sse.close(r));
    }
  });
});

const earlier: ChatMessage[] = [
  { role: 'user', content: 'Weather in Oslo?' },
  { role: 'assistant', content: '', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
  { role: 'tool', content: '{"temp": 3}', tool_call_id: 'call_1' },
  { role: 'assistant', content: 'It is 3 °C.' },
  { role: 'user', content: 'And the time there and in Bergen?' },
];
const calls: ToolCall[] = [
  { type: 'function', function: { name: 'get_time', arguments: '{"city":"Oslo"}' } },
  { id: 'srv_9', type: 'function', function: { name: 'get_time', arguments: '{"city":"Bergen"}' } },
];
const callText = 'get_time({"city":"Oslo"})\nget_time({"city":"Bergen"})';

describe('a distilled answer that calls tools, as stored and read back', () => {
  it('becomes an assistant message with tool_calls: the text besides the calls as content, server ids kept, call_<n> after the earlier calls otherwise', () => {
    const db = openDatabase(path.join(tempDir(), 'distillery.db'));
    try {
      const insertRun = db.prepare(`INSERT INTO runs (kind, title, config, status, created_at) VALUES ('distill.generate', 't', '{}', 'running', ?)`);
      const runId = Number(insertRun.run(new Date().toISOString()).lastInsertRowid);
      const store = new DistillStore(db);
      const base = { prompt: earlier, output: earlier, finishReason: 'stop', promptTokens: null, completionTokens: null, ms: 1, rejected: null };
      store.insert(runId, { ...base, position: 1, sample: 0, answer: `Checking both.\n${callText}`, toolCalls: calls }, 'now');
      store.insert(runId, { ...base, position: 2, sample: 0, answer: callText, toolCalls: calls }, 'now');
      store.insert(runId, { ...base, position: 3, sample: 0, answer: 'It is noon.', toolCalls: null }, 'now');
      const withIds = [{ ...calls[0]!, id: 'call_2' }, calls[1]!];
      const out = store.outputs(runId).map((o) => o.messages.at(-1));
      expect(out).toEqual([
        { role: 'assistant', content: 'Checking both.', tool_calls: withIds },
        { role: 'assistant', content: '', tool_calls: withIds },
        { role: 'assistant', content: 'It is noon.' },
      ]);
      expect(db.prepare(`SELECT tool_calls FROM distill_answers WHERE position = 3`).pluck().get()).toBeNull();
      // the single-answer read (re-including an answer) builds the same message
      store.exclude(runId, 1, 0);
      expect(store.answerState(runId, 1, 0)).toMatchObject({ included: false, messages: [...earlier, out[0]] });
    } finally {
      db.close();
    }
  });

  it('is not an empty answer to the filters: its text form names the calls', () => {
    expect(rejection(callText, 'tool_calls', { truncated: true, refusals: true })).toBeNull();
  });
});
